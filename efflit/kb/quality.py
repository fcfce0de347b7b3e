"""The quality report: how complete the records are, per taxonomy node and in all.

`efflit check --quality` prints it, the site's quality page and the README's counts table show it,
so curators see where help is needed: records without authors, without an arXiv id or DOI, not yet
found at a published venue, without a summary or without code; and, when `efflit links` has run
here, with a link it found broken.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from efflit.kb.catalog import Catalog
from efflit.kb.models import Record
from efflit.kb.project import BROKEN_LINKS

MAX_BROKEN_BYTES = 16 * 1024 * 1024


@dataclass(frozen=True)
class Completeness:
    """How many of a group's records have each kind of fact."""

    records: int
    authors: int
    identifier: int  # an arXiv id or a DOI
    published: int  # a venue other than arXiv
    summary: int
    code: int
    links: int | None = None  # none of whose links the last `efflit links` run found broken; None without a run

    @classmethod
    def of(cls, records: list[Record], has: dict[str, tuple[bool, ...]], width: int) -> Completeness:
        """The figures of ``records``, from the ``width`` facts each has (see `facts`)."""
        rows = [has[r.id] for r in records]
        return cls(len(records), *([sum(column) for column in zip(*rows, strict=True)] if rows else [0] * width))

    def share(self, count: int) -> str:
        return f"{count / self.records:.0%}" if self.records else "-"


COLUMNS = ("authors", "identifier", "published", "summary", "code")
HEADINGS = {"identifier": "arXiv/DOI", "links": "links work"}


@dataclass(frozen=True)
class Line:
    """One line of the report: a taxonomy node (or all papers) and its figures."""

    path: str  # "" for all papers
    name: str
    depth: int
    extension: bool
    figures: Completeness


# The facts a record is incomplete without, as the quality page names them.  (A venue or code may
# not exist yet: their lack is counted, not held against the record.)
REQUIRED = {"authors": "authors", "identifier": "arXiv id or DOI", "summary": "summary", "links": "links that work"}


def missing(record: Record, broken: frozenset[str] | None = None) -> list[str]:
    """What a record lacks to be complete (`REQUIRED`); links that work only with ``broken``, the
    links the last `efflit links` run found broken."""
    has = dict(zip((*COLUMNS, "links"), facts(record, broken), strict=False))
    return [name for column, name in REQUIRED.items() if column in has and not has[column]]


def broken_links(root: Path) -> frozenset[str] | None:
    """The links the last `efflit links` run at ``root`` found broken; None when none ran here or
    what it left cannot be read (it is a cache: the report then leaves links out)."""
    path = root / BROKEN_LINKS
    try:
        if path.stat().st_size > MAX_BROKEN_BYTES:
            return None
        state = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return frozenset(url for url in state if isinstance(url, str)) if isinstance(state, dict) else None


def is_published(record: Record) -> bool:
    return bool(record.venue) and record.venue.casefold() != "arxiv"


def report(catalog: Catalog, broken: frozenset[str] | None = None) -> list[Line]:
    """A line per taxonomy node, in the taxonomy's order, then one for all papers; with ``broken``
    (see `broken_links`), each counts the records whose links work too."""
    has = {r.id: facts(r, broken) for r in catalog.papers}  # each record's once: it is in several nodes
    width = len(COLUMNS) + (broken is not None)
    lines = [
        Line(path, node.node.name, node.depth, node.node.extension, Completeness.of(catalog.in_node[path], has, width))
        for path, node in catalog.nodes.items()
    ]
    return [*lines, Line("", "All papers", 0, False, Completeness.of(catalog.papers, has, width))]


def facts(record: Record, broken: frozenset[str] | None) -> tuple[bool, ...]:
    """Whether the record has each fact of `COLUMNS`, and with ``broken`` links that work."""
    has = (
        bool(record.authors),
        bool(record.arxiv or record.doi),
        is_published(record),
        bool(record.summary),
        bool(record.code),
    )
    return has if broken is None else (*has, broken.isdisjoint(record.web_links().values()))


def columns(lines: list[Line]) -> tuple[str, ...]:
    """The figures the report has: `COLUMNS`, and `links` when a link check's result was there."""
    return COLUMNS + ("links",) if lines and lines[0].figures.links is not None else COLUMNS


def as_json(lines: list[Line]) -> list[dict]:
    figures = columns(lines)
    return [
        {"path": line.path or None, "name": line.name, "records": line.figures.records}
        | {name: getattr(line.figures, name) for name in figures}
        for line in lines
    ]


def as_text(lines: list[Line]) -> str:
    """An aligned table: each figure as a count and its share of the node's records."""
    width = max(2 * line.depth + len(line.name) for line in lines)
    shown = columns(lines)
    head = f"{'topic'.ljust(width)}  {'records':>7}" + "".join(f"  {HEADINGS.get(c, c):>15}" for c in shown)
    rows = [head]
    for line in lines:
        figures = line.figures
        cells = "".join(f"  {f'{getattr(figures, c)} ({figures.share(getattr(figures, c))})':>15}" for c in shown)
        rows.append(f"{('  ' * line.depth + line.name).ljust(width)}  {figures.records:>7}{cells}")
    return "\n".join(rows)
