"""The check: load, validate and link a knowledge base (the build without its render and write),
each stage wrapped by what earlier runs found (efflit.memory).

Kept apart from efflit.pipeline.build so that `efflit check` does not import what only a build needs
(Jinja, Markdown, the search indexer): a check from scratch has little time to spare.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path

from efflit.kb.bibtex import load_bib
from efflit.kb.link import KnowledgeBase
from efflit.kb.load import load_yaml, record_data
from efflit.kb.metrics import read_metrics
from efflit.kb.problems import Position, Report
from efflit.kb.project import Project, open_project
from efflit.kb.validate import validate_taxonomy, validate_venues
from efflit.memory import checks
from efflit.memory.cache import Hashes, ParseCache, code_version, input_hashes, template_inputs
from efflit.memory.checks import Checked

MAX_TOP_FILE_BYTES = 1024 * 1024


@contextmanager
def no_cycle_collection() -> Iterator[None]:
    """Pause Python's cycle collector: a build makes millions of long-lived objects and next to no
    cyclic garbage, and collections that scan them all took half the time at 100,000 records."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def check(root: Path, hashes: Hashes | None = None) -> tuple[KnowledgeBase | None, Report]:
    """Load, validate and link the knowledge base at ``root``; every problem lands in the report.
    ``hashes`` are the inputs' content hashes when the caller has them already: then what this
    process checked last (or the last process, see `checks.restore`) serves as far as the inputs
    are the same."""
    if hashes is not None:
        hashes = _read_by_check(root, hashes)
    with no_cycle_collection():  # which would scan every object unpickled
        if hashes is not None:
            checks.restore(root, code_version(hashes))
    if hashes is not None and (same := checks.replayed(root, hashes)) is not None:
        return same.kb, Report(list(same.problems))
    with no_cycle_collection():
        checked = (hashes is not None and checks.edited(root, hashes)) or _check(root, hashes)
    if hashes is not None:
        checks.keep(checked)
    return checked.kb, Report(list(checked.problems))


def _read_by_check(root: Path, hashes: Hashes) -> Hashes:
    """The hashes of the inputs a check reads: not the templates, which only a build reads (after a
    template edit, the last check serves, where the whole check took 1.2-1.8 s at 10,000 records)."""
    templates = template_inputs(root)
    return {path: key for path, key in hashes.items() if not path.startswith(templates)}


def _check(root: Path, hashes: Hashes | None) -> Checked:
    report = Report()
    project = open_project(root, report)
    if report.errors:
        return Checked(root, hashes or {}, None, report.problems, report.problems, [])

    # Load: files whose bytes the parse cache knows are not parsed again.
    parsed = ParseCache(project, input_hashes(project.root) if hashes is None else hashes)
    taxonomy_document = load_yaml(project.taxonomy, project.display(project.taxonomy), report, MAX_TOP_FILE_BYTES)
    venues_document = (
        load_yaml(project.venues, project.display(project.venues), report, MAX_TOP_FILE_BYTES)
        if project.venues.exists()
        else None
    )
    record_files = _inside(project, project.record_files(), report)
    bib_files = _inside(project, project.bib_files(), report)
    jobs = [(path, record_data) for path in record_files] + [(path, load_bib) for path in bib_files]
    results = parsed.parse_all([(path, project.display(path), parse) for path, parse in jobs], report)
    last_link = checks.last_link(project.root, parsed.version)  # before `save`, which a later load would wait for
    parsed.save()
    record_data_found = results[: len(record_files)]
    entries = [entry for found in results[len(record_files) :] for entry in found]
    for path in project.stray_records():
        report.warning(
            Position(project.display(path)), "file is not read: a record is papers/<id>.yaml", "rename or move it"
        )

    # Validate: each file on its own.
    taxonomy = validate_taxonomy(taxonomy_document, report) if taxonomy_document else None
    venues = validate_venues(venues_document, report) if venues_document else None
    metrics = read_metrics(project, report)
    papers = checks.validated(project, record_files, record_data_found, parsed.hashes, report)
    if taxonomy is None:
        return Checked(root, parsed.hashes, None, report.problems, report.problems, entries)

    # Link: the records against the taxonomy, the venues, their BibTeX entries and each other.
    unlinked = list(report.problems)
    kb = replace(
        checks.linked(project, taxonomy, venues, papers, entries, parsed.version, last_link, report), metrics=metrics
    )
    return Checked(root, parsed.hashes, kb, report.problems, unlinked, entries)


def _inside(project: Project, paths: list[Path], report: Report) -> list[Path]:
    inside = []
    for path in paths:
        if not project.outside(path):
            inside.append(path)
        else:
            report.error(
                Position(project.display(path)),
                "file is a symbolic link to outside the knowledge base",
                "copy the file in instead",
            )
    return inside


def counts(kb: KnowledgeBase | None) -> str:
    return f"{len(kb.papers)} records, {len(kb.bibtex)} linked BibTeX entries: " if kb else ""
