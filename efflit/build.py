"""The pipeline: load, validate, link (and, for a build, render and write).

``check`` is the build without its last two stages, so both report exactly the
same problems.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from efflit.bibtex import BibEntry, load_bib
from efflit.link import link
from efflit.load import load_yaml
from efflit.problems import Report
from efflit.project import Project, open_project
from efflit.validate import Paper, Taxonomy, validate_record, validate_taxonomy

MAX_TAXONOMY_BYTES = 1024 * 1024


@dataclass
class KnowledgeBase:
    """Everything a render needs: the checked taxonomy, papers and their BibTeX entries."""

    project: Project
    taxonomy: Taxonomy
    papers: list[Paper]
    bibtex: dict[str, BibEntry]


def check(root: Path) -> tuple[KnowledgeBase | None, Report]:
    """Load, validate and link the knowledge base at ``root``; every problem lands in the report."""
    report = Report()
    project = open_project(root, report)
    if report.errors:
        return None, report

    taxonomy_document = load_yaml(project.taxonomy, project.display(project.taxonomy), report, MAX_TAXONOMY_BYTES)
    documents = [load_yaml(path, project.display(path), report) for path in project.record_files()]
    entries = [entry for path in project.bib_files() for entry in load_bib(path, project.display(path), report)]

    taxonomy = validate_taxonomy(taxonomy_document, report) if taxonomy_document else None
    papers = [paper for document in documents if document and (paper := validate_record(document, report))]

    if taxonomy is None:
        return None, report
    bibtex = link(taxonomy, papers, entries, report)
    return KnowledgeBase(project, taxonomy, papers, bibtex), report
