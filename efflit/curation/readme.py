"""The awesome-list form of the knowledge base: the papers grouped by the taxonomy, and the counts
per node, written between marker comments of a Markdown file so they stay in step with the records."""

from __future__ import annotations

import re

from efflit.kb import quality
from efflit.kb.catalog import Catalog
from efflit.kb.models import Record

MARKERS = {
    "counts": ("<!-- efflit:counts:start -->", "<!-- efflit:counts:end -->"),
    "papers": ("<!-- efflit:papers:start -->", "<!-- efflit:papers:end -->"),
}
SHOWN_AUTHORS = 3


class MissingMarkers(ValueError):
    """The file has no place for the generated text."""


def counts_table(catalog: Catalog) -> str:
    """Papers per node, with the quality report's figures as shares of them."""
    headings = " | ".join(quality.HEADINGS.get(c, c) for c in quality.COLUMNS)
    rows = [f"| topic | papers | {headings} |", "|---|---:|" + "---:|" * len(quality.COLUMNS)]
    for line in quality.report(catalog):
        indent = "&nbsp;&nbsp;" * 2 * line.depth
        top = line.depth == 0
        name = f"**{line.name}**" if top else line.name
        extension = " *(extension)*" if line.extension else ""
        figures = line.figures
        count = f"**{figures.records}**" if not line.path else str(figures.records)
        shares = " | ".join(figures.share(getattr(figures, c)) for c in quality.COLUMNS)
        rows.append(f"| {indent}{name}{extension} | {count} | {shares} |")
    return "\n".join(rows)


def _escape(text: str) -> str:
    return re.sub(r"([\[\]*_`<>|\\])", r"\\\1", text)


def paper_line(record: Record) -> str:
    link = (
        f"https://arxiv.org/abs/{record.arxiv}"
        if record.arxiv
        else (f"https://doi.org/{record.doi}" if record.doi else record.url)
    )
    title = f"[{_escape(record.title)}]({link})" if link else _escape(record.title)
    names = ", ".join(_escape(n) for n in record.authors[:SHOWN_AUTHORS])
    authors = (
        f"{names} et al."
        if len(record.authors) > SHOWN_AUTHORS
        else f"{names}."
        if names
        else "(authors not recorded)."
    )
    venue = f"*{_escape(record.venue)}* " if record.venue else ""
    code = f" [[code]]({record.code})" if record.code else ""
    return f"- {title}. {authors} {venue}{record.year}.{code}"


def paper_list(catalog: Catalog) -> str:
    blocks = []
    for path, node in catalog.nodes.items():
        direct = [paper_line(r) for r in catalog.in_node[path] if path in r.tags]
        blocks.append("\n".join([f"{'#' * (3 + node.depth)} {node.node.name}", *([""] + direct if direct else [])]))
    return "\n\n".join(blocks)


def update(text: str, catalog: Catalog) -> str:
    """``text`` with every marked region regenerated."""
    parts = {"counts": counts_table(catalog), "papers": paper_list(catalog)}
    found = False
    for name, (start, end) in MARKERS.items():
        pattern = re.compile(re.escape(start) + r".*?" + re.escape(end), re.S)
        if pattern.search(text):
            found = True
            replacement = f"{start}\n{parts[name]}\n{end}"
            text = pattern.sub(lambda _, r=replacement: r, text)
    if not found:
        raise MissingMarkers(f"add `{MARKERS['papers'][0]}` and `{MARKERS['papers'][1]}` (and/or the counts markers)")
    return text
