"""What this process checked last, so that a process that runs many checks (`efflit serve`) does
again only what an edit calls for: the last check whole, each record's validation, the last
catalog; and what the last link found, kept on disk for the next process.

Records are immutable, so what is kept here can be shared (a document works out where its values
stand once asked, the same for any reader).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from efflit.kb import catalog as catalogs
from efflit.kb.bibtex import BibEntry
from efflit.kb.catalog import Catalog
from efflit.kb.link import KnowledgeBase, LinkFindings, link, linked_fields
from efflit.kb.load import Document, record_data
from efflit.kb.problems import Problem, Report
from efflit.kb.project import Project
from efflit.kb.validate import Paper, Taxonomy, validate_record
from efflit.kb.venues import Venues
from efflit.memory.cache import Hashes, code_version, recall, remember


@dataclass(frozen=True)
class Checked:
    """A check this process made: of which inputs, what it found, and what the cross-record
    checks started from (the problems found before them, every BibTeX entry)."""

    root: Path
    hashes: Hashes
    kb: KnowledgeBase | None
    problems: list[Problem]
    unlinked: list[Problem]
    entries: list[BibEntry]


# The last check this process made: `efflit serve` checks the inputs to show an edit ahead, then
# builds these very inputs, and after the next edit checks again (checking 10,000 records takes
# half a second even when it parses and validates none again).
_last: Checked | None = None


def replayed(root: Path, hashes: Hashes) -> Checked | None:
    """The last check, if it was of these very inputs."""
    return _last if _last is not None and (_last.root, _last.hashes) == (root, hashes) else None


def keep(checked: Checked) -> None:
    global _last
    _last = checked


def edited(root: Path, hashes: Hashes) -> Checked | None:
    """The last check, with only some of its valid records edited since (no file added or removed,
    no other input changed): those records alone are read and validated again, then the
    cross-record checks run on all.  None where another change calls for a whole check, or an
    edited record does not read as a valid one (the whole check then says why, wherever)."""
    last = _last
    if last is None or last.root != root or last.kb is None or last.hashes.keys() != hashes.keys():
        return None
    kb, changed = last.kb, [file for file, key in hashes.items() if last.hashes[file] != key]
    places = {paper.document.file: place for place, paper in enumerate(kb.papers)}
    if not changed or not places.keys() >= set(changed) or any(Path(file).is_symlink() for file in changed):
        return None  # a link may lead outside the knowledge base now: the whole check says so
    project, papers = kb.project, list(kb.papers)
    shown = {project.display(Path(file)) for file in changed}
    report = Report([problem for problem in last.unlinked if problem.position.path not in shown])
    validated, relinked = {}, False
    for file in changed:
        read, own = Report(), Report()  # as the parse cache and the validation keep them
        display = project.display(Path(file))
        data = record_data(file, display, read)
        paper = validate_record(Document(display, data, None, file), own) if data is not None else None
        if paper is None:
            return None
        relinked |= linked_fields(paper.record) != linked_fields(papers[places[file]].record)
        papers[places[file]] = paper
        validated[file] = (hashes[file], paper, own.problems)
        report.problems += read.problems + own.problems
    _known.update(validated)  # once all are valid: a whole check takes them from here
    unlinked, found = list(report.problems), last.problems[len(last.unlinked) :]
    if not relinked and not any(_names(problem, shown) for problem in found):
        # The cross-record checks would find what they found (a second at 100,000 records).
        report.problems += found
        kb = KnowledgeBase(project, kb.taxonomy, papers, kb.bibtex, kb.venues, kb.metrics)
        return Checked(root, hashes, kb, report.problems, unlinked, last.entries)
    version = code_version(hashes)
    relinked_kb = linked(
        project, kb.taxonomy, kb.venues, papers, last.entries, version, last_link(root, version), report
    )
    kb = replace(relinked_kb, metrics=kb.metrics)
    return Checked(root, hashes, kb, report.problems, unlinked, last.entries)


def _names(problem: Problem, files: set[str]) -> bool:
    """Whether a problem stands in one of these files, or names a place in one."""
    return problem.position.path in files or any(file in problem.message for file in files)


# The records this process validated last, by file, with their content hash and problems: a process
# that runs many checks validates again only the records an edit changed (all of them take a third
# of a second at 10,000 records).
_known: dict[str, tuple[str | None, Paper | None, list[Problem]]] = {}


def validated(project: Project, files: list[Path], data: list[Any], hashes: Hashes, report: Report) -> list[Paper]:
    """The valid records among the files' parsed ``data`` (None where unusable): the validate stage,
    skipped for a file whose bytes this process validated last time."""
    global _known
    papers, known = [], {}
    # A record's document names its file by the very text its hash is kept under: kept for the
    # next process (`save`), the two are pickled as one.
    hashed = {file: file for file in hashes}
    for path, content in zip(files, data, strict=True):
        if content is None:
            continue
        file = hashed.get(str(path), str(path))  # the whole path: a process may check several roots
        key = hashes.get(file)
        if key is not None and _known.get(file, (None,))[0] == key:
            _, paper, problems = _known[file]
        else:
            own = Report()
            paper = validate_record(Document(project.display(path), content, None, file), own)
            problems = own.problems
        known[file] = (key, paper, problems)
        report.problems += problems
        if paper is not None:
            papers.append(paper)
    _known = known
    return papers


def last_link(root: Path, version: str) -> dict | None:
    """What the last link of the knowledge base at ``root`` found, with code ``version``."""
    return recall(root, "linked", version)


def linked(
    project: Project,
    taxonomy: Taxonomy,
    venues: Venues | None,
    papers: list[Paper],
    entries: list[BibEntry],
    version: str,
    stored: dict | None,
    report: Report,
) -> KnowledgeBase:
    """The link stage, starting from what the last link found (``stored``, see `last_link`), which
    it does not compare again; what it finds is kept for the next."""
    findings = _findings(stored)
    bibtex = link(taxonomy, papers, entries, report, findings, venues)
    if vars(findings) != stored:
        remember(project.root, "linked", version, dict(vars(findings)))  # kept: a copy
    return KnowledgeBase(project, taxonomy, papers, bibtex, venues)


def _findings(stored: dict | None) -> LinkFindings:
    """What the last link found, if it was stored whole."""
    kinds = {"compared": dict, "titles": str, "near": list}
    if stored and stored.keys() == kinds.keys() and all(isinstance(stored[k], t) for k, t in kinds.items()):
        return LinkFindings(**stored)
    return LinkFindings()


# The catalog made last, and of which knowledge base: one checked once is catalogued once, for the
# pages `efflit serve` shows ahead and for the build that follows; and after an edit that moves no
# paper between listings, the last catalog serves with the edited records.
_last_catalog: tuple[KnowledgeBase, Catalog] | None = None


def catalogued(kb: KnowledgeBase) -> Catalog:
    """The catalog of ``kb``, made again only as far as the edits since the last one call for."""
    global _last_catalog
    if _last_catalog is None or _last_catalog[0] is not kb:
        previous = _last_catalog[1] if _last_catalog is not None else None
        made = (catalogs.with_edits(previous, kb) if previous is not None else None) or catalogs.build_catalog(kb)
        _last_catalog = (kb, made)
    return _last_catalog[1]


STATE = "checked"  # the cache file of what `save` keeps


def restore(root: Path, version: str) -> None:
    """Take up what the last process to check the knowledge base at ``root`` with efflit's code at
    ``version`` kept (see `save`), when this one has checked nothing yet: a run after an edit then
    validates, links and catalogues only as far as the edit calls for, as `efflit serve` does.
    Loading it takes less than half the time of validating and cataloguing 10,000 records again."""
    global _last, _known, _last_catalog, _kept
    if _last is None and _is_state(stored := recall(root, STATE, version)):
        _last, _known, _last_catalog = stored["last"], stored["validated"], stored["catalog"]
        _kept = (_last, _last_catalog)


def _is_state(stored: dict | None) -> bool:
    """Whether a stored value is what `save` keeps (a damaged one is not taken up: checked anew)."""
    return (
        isinstance(stored, dict)
        and stored.keys() == {"last", "validated", "catalog"}
        and isinstance(stored["last"], Checked)
        and isinstance(stored["validated"], dict)
        and (stored["catalog"] is None or isinstance(stored["catalog"], tuple))
    )


def save(root: Path, version: str) -> None:
    """Keep what this process checked last of the knowledge base at ``root``, and its catalog when
    made, for the next process (in the background, as pickling it takes half a second at 10,000
    records)."""
    global _kept
    if _last is None or _last.root != root or _last.kb is None:
        return
    catalog = _last_catalog if _last_catalog is not None and _last_catalog[0] is _last.kb else None
    if _kept is None or _kept[0] is not _last or _kept[1] is not catalog:
        remember(root, STATE, version, {"last": _last, "validated": _known, "catalog": catalog}, in_background=True)
        _kept = (_last, catalog)


# What `save` kept or `restore` took up last: the same need not be kept again.
_kept: tuple[Checked, tuple[KnowledgeBase, Catalog] | None] | None = None


def forget() -> None:
    """Forget every check, validation and catalog this process made: the next check is whole."""
    global _last, _last_catalog, _kept
    _last, _last_catalog, _kept = None, None, None
    _known.clear()
