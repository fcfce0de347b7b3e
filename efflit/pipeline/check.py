"""The check: load, validate and link a knowledge base (the build without its render and write).

Kept apart from efflit.pipeline.build so that `efflit check` does not import what only a build needs
(Jinja, Markdown, the search indexer): a check from scratch has little time to spare.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from efflit.kb.bibtex import BibEntry, load_bib
from efflit.kb.link import KnowledgeBase, LinkFindings, link, linked_fields
from efflit.kb.load import Document, load_yaml
from efflit.kb.problems import Position, Problem, Report
from efflit.kb.project import Project, open_project
from efflit.kb.validate import Paper, Taxonomy, validate_record, validate_taxonomy
from efflit.memory.cache import ParseCache, code_version, input_hashes, recall, remember

MAX_TAXONOMY_BYTES = 1024 * 1024


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


@dataclass(frozen=True)
class _Checked:
    """A check this process made: of which inputs, what it found, and what the cross-record
    checks started from (the problems found before them, every BibTeX entry)."""

    root: Path
    hashes: dict[Path, str]
    kb: KnowledgeBase | None
    problems: list[Problem]
    unlinked: list[Problem]
    entries: list[BibEntry]


# The last check this process made: `efflit serve` checks the inputs to show an edit ahead, then
# builds these very inputs, and after the next edit checks again (checking 10,000 records takes
# half a second even when it parses and validates none again).  Records are immutable.
_last: _Checked | None = None


def check(root: Path, hashes: dict[Path, str] | None = None) -> tuple[KnowledgeBase | None, Report]:
    """Load, validate and link the knowledge base at ``root``; every problem lands in the report.
    ``hashes`` are the inputs' content hashes when the caller has them already."""
    global _last
    if hashes is not None and _last is not None and (_last.root, _last.hashes) == (root, hashes):
        return _last.kb, Report(list(_last.problems))
    with no_cycle_collection():
        edited = _edited(_last, root, hashes) if hashes is not None and _last is not None else None
        checked = edited or _check(root, hashes)
    if hashes is not None:
        _last = checked
    return checked.kb, Report(list(checked.problems))


def _check(root: Path, hashes: dict[Path, str] | None) -> _Checked:
    report = Report()
    project = open_project(root, report)
    if report.errors:
        return _Checked(root, hashes or {}, None, report.problems, report.problems, [])

    parsed = ParseCache(project, input_hashes(project.root) if hashes is None else hashes)
    taxonomy_document = load_yaml(project.taxonomy, project.display(project.taxonomy), report, MAX_TAXONOMY_BYTES)
    record_files = _inside(project, project.record_files(), report)
    bib_files = _inside(project, project.bib_files(), report)
    jobs = [(path, _record_data) for path in record_files] + [(path, load_bib) for path in bib_files]
    results = parsed.parse_all([(path, project.display(path), parse) for path, parse in jobs], report)
    linked = recall(project.root, "linked", parsed.version)  # before `save`, which a later load would wait for
    parsed.save()
    record_data = results[: len(record_files)]
    entries = [entry for found in results[len(record_files) :] for entry in found]
    for path in project.stray_records():
        report.warning(
            Position(project.display(path)), "file is not read: a record is papers/<id>.yaml", "rename or move it"
        )

    taxonomy = validate_taxonomy(taxonomy_document, report) if taxonomy_document else None
    papers = _validated(project, record_files, record_data, parsed.hashes, report)

    if taxonomy is None:
        return _Checked(root, parsed.hashes, None, report.problems, report.problems, entries)
    unlinked = list(report.problems)
    kb = _linked(project, taxonomy, papers, entries, parsed.version, linked, report)
    return _Checked(root, parsed.hashes, kb, report.problems, unlinked, entries)


def _linked(
    project: Project,
    taxonomy: Taxonomy,
    papers: list[Paper],
    entries: list[BibEntry],
    version: str,
    linked: dict | None,
    report: Report,
) -> KnowledgeBase:
    """The knowledge base, once the cross-record checks ran (``linked``: what they found last time)."""
    findings = _findings(linked)
    bibtex = link(taxonomy, papers, entries, report, findings)
    if vars(findings) != linked:
        remember(project.root, "linked", version, dict(vars(findings)))  # kept: a copy
    return KnowledgeBase(project, taxonomy, papers, bibtex)


def _edited(last: _Checked, root: Path, hashes: dict[Path, str]) -> _Checked | None:
    """The last check, with only some of its valid records edited since (no file added or removed,
    no other input changed): those records alone are read and validated again, then the
    cross-record checks run on all.  None where another change calls for a whole check, or an
    edited record does not read as a valid one (the whole check then says why, wherever)."""
    if last.root != root or last.kb is None or last.hashes.keys() != hashes.keys():
        return None
    kb, edited = last.kb, {path for path, key in hashes.items() if last.hashes[path] != key}
    places = {paper.document.file: place for place, paper in enumerate(kb.papers)}
    if not edited or not edited <= places.keys() or any(path.is_symlink() for path in edited):
        return None  # a link may lead outside the knowledge base now: the whole check says so
    project, papers = kb.project, list(kb.papers)
    shown = {project.display(path) for path in edited}
    report = Report([problem for problem in last.unlinked if problem.position.path not in shown])
    validated, relinked = {}, False
    for path in edited:
        read, own = Report(), Report()  # as the parse cache and the validation keep them
        data = _record_data(path, project.display(path), read)
        paper = validate_record(Document(project.display(path), data, None, path), own) if data is not None else None
        if paper is None:
            return None
        relinked |= linked_fields(paper.record) != linked_fields(papers[places[path]].record)
        papers[places[path]] = paper
        validated[str(path)] = (hashes[path], paper, own.problems)
        report.problems += read.problems + own.problems
    _known.update(validated)  # once all are valid: a whole check takes them from here
    unlinked, found = list(report.problems), last.problems[len(last.unlinked) :]
    if not relinked and not any(_names(problem, shown) for problem in found):
        # The cross-record checks would find what they found (a second at 100,000 records).
        report.problems += found
        kb = KnowledgeBase(project, kb.taxonomy, papers, kb.bibtex)
        return _Checked(root, hashes, kb, report.problems, unlinked, last.entries)
    version = code_version(hashes)
    kb = _linked(project, kb.taxonomy, papers, last.entries, version, recall(root, "linked", version), report)
    return _Checked(root, hashes, kb, report.problems, unlinked, last.entries)


def _names(problem: Problem, files: set[str]) -> bool:
    """Whether a problem stands in one of these files, or names a place in one."""
    return problem.position.path in files or any(file in problem.message for file in files)


# The records this process validated last, by file, with their content hash and problems: a process
# that runs many checks (`efflit serve`) validates again only the records an edit changed (all of
# them take a third of a second at 10,000 records).  Records are immutable, so they can be shared
# (a document works out where its values stand once asked, the same for any reader).
_known: dict[str, tuple[str | None, Paper | None, list[Problem]]] = {}


def _validated(
    project: Project, files: list[Path], data: list[Any], hashes: dict[Path, str], report: Report
) -> list[Paper]:
    """The valid records among the files' parsed ``data`` (None where unusable)."""
    global _known
    papers, known = [], {}
    for path, content in zip(files, data, strict=True):
        if content is None:
            continue
        file, key = str(path), hashes.get(path)  # the whole path: a process may check several roots
        if key is not None and _known.get(file, (None,))[0] == key:
            _, paper, problems = _known[file]
        else:
            own = Report()
            paper = validate_record(Document(project.display(path), content, None, path), own)
            problems = own.problems
        known[file] = (key, paper, problems)
        report.problems += problems
        if paper is not None:
            papers.append(paper)
    _known = known
    return papers


def _findings(stored: dict | None) -> LinkFindings:
    """What the last link found, if it was stored whole."""
    kinds = {"compared": dict, "titles": str, "near": list}
    if stored and stored.keys() == kinds.keys() and all(isinstance(stored[k], t) for k, t in kinds.items()):
        return LinkFindings(**stored)
    return LinkFindings()


def _record_data(path: Path, display: str, report: Report) -> Any:
    """A record file's plain data (None when unusable): what the parse cache keeps of it."""
    document = load_yaml(path, display, report, positions=False)
    return document.data if document else None


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
