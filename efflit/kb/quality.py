"""The quality report: how complete the records are, per taxonomy node and in all.

`efflit check --quality` prints it and the README's counts table shows it, so curators see where
help is needed: records without authors, without an arXiv id or DOI, not yet found at a published
venue, without a summary or without code.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from efflit.kb.catalog import Catalog
from efflit.kb.models import Record


@dataclass(frozen=True)
class Completeness:
    """How many of a group's records have each kind of fact."""

    records: int
    authors: int
    identifier: int  # an arXiv id or a DOI
    published: int  # a venue other than arXiv
    summary: int
    code: int

    @classmethod
    def of(cls, records: list[Record]) -> Completeness:
        return cls(
            records=len(records),
            authors=sum(bool(r.authors) for r in records),
            identifier=sum(bool(r.arxiv or r.doi) for r in records),
            published=sum(is_published(r) for r in records),
            summary=sum(bool(r.summary) for r in records),
            code=sum(bool(r.code) for r in records),
        )

    def share(self, count: int) -> str:
        return f"{count / self.records:.0%}" if self.records else "-"


COLUMNS = ("authors", "identifier", "published", "summary", "code")
HEADINGS = {"identifier": "arXiv/DOI"}


@dataclass(frozen=True)
class Line:
    """One line of the report: a taxonomy node (or all papers) and its figures."""

    path: str  # "" for all papers
    name: str
    depth: int
    extension: bool
    figures: Completeness


def missing(record: Record) -> list[str]:
    """What a record lacks to be complete: its authors, an arXiv id or DOI, a summary.  (A venue or
    code may not exist yet: their lack is counted, not held against the record.)"""
    lacks = [("authors", bool(record.authors)), ("arXiv id or DOI", bool(record.arxiv or record.doi))]
    return [name for name, has in [*lacks, ("summary", bool(record.summary))] if not has]


def is_published(record: Record) -> bool:
    return bool(record.venue) and record.venue.casefold() != "arxiv"


def report(catalog: Catalog) -> list[Line]:
    """A line per taxonomy node, in the taxonomy's order, then one for all papers."""
    lines = [
        Line(path, node.node.name, node.depth, node.node.extension, Completeness.of(catalog.in_node[path]))
        for path, node in catalog.nodes.items()
    ]
    return [*lines, Line("", "All papers", 0, False, Completeness.of(catalog.papers))]


def as_json(lines: list[Line]) -> list[dict]:
    return [{"path": line.path or None, "name": line.name, **asdict(line.figures)} for line in lines]


def as_text(lines: list[Line]) -> str:
    """An aligned table: each figure as a count and its share of the node's records."""
    width = max(2 * line.depth + len(line.name) for line in lines)
    head = f"{'topic'.ljust(width)}  {'records':>7}" + "".join(f"  {HEADINGS.get(c, c):>15}" for c in COLUMNS)
    rows = [head]
    for line in lines:
        figures = line.figures
        cells = "".join(f"  {f'{getattr(figures, c)} ({figures.share(getattr(figures, c))})':>15}" for c in COLUMNS)
        rows.append(f"{('  ' * line.depth + line.name).ljust(width)}  {figures.records:>7}{cells}")
    return "\n".join(rows)
