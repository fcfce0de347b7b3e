"""Internal links of a built site: every href, src and #fragment resolves, every page is reachable.

Links are resolved the way a browser resolves them from the page's address
(`papers/x/` for `papers/x/index.html`); site-absolute links (`/x/`, used by the
404 page) start at ``base_path``.
"""

from __future__ import annotations

import html
import os
import posixpath
import re
from collections import deque
from pathlib import Path
from urllib.parse import unquote

from efflit.problems import Position, Report

# Our pages are generated, so attributes are well-formed and double-quoted (Jinja escapes quotes
# inside values): a regex reads them many times faster than an HTML parser.
_ATTRIBUTE = re.compile(r' (href|src|id)="([^"]*)"')


def _line_column(text: str, offset: int) -> tuple[int, int]:
    return text.count("\n", 0, offset) + 1, offset - (text.rfind("\n", 0, offset) + 1) + 1


def _resolve(directory: str, link: str, base_path: str) -> tuple[str, str] | None:
    """(site file, fragment) a link on a page in ``directory`` points at; None for links that leave
    the site.  A path ending in `/` means its index.html; `../` above the site root is kept, so it
    is reported as missing."""
    head = link.split("/", 1)[0]
    if ":" in head or link.startswith("//"):
        return None  # another scheme, or another host
    path, _, fragment = link.partition("#")
    path = unquote(path.partition("?")[0]) if "%" in path or "?" in path else path
    if path.startswith("/"):
        if not path.startswith(base_path):
            return "../" + path.lstrip("/"), fragment
        path, directory = path[len(base_path) :], ""
    if not path:
        return None  # a fragment of the page itself
    ups = 0
    while path.startswith("../", 3 * ups):
        ups += 1
    rest, parts = path[3 * ups :], directory.split("/") if directory else []
    if ups > len(parts):
        return "../" + rest, fragment
    if "./" in rest or rest.startswith("."):  # rare: let posixpath sort out odd segments
        target = posixpath.normpath(posixpath.join(directory, path))
    else:
        target = "/".join([*parts[: len(parts) - ups], rest]) if rest else "/".join(parts[: len(parts) - ups]) + "/"
    if target.endswith("/") or target in ("", "."):
        target = f"{target.rstrip('/')}/index.html".lstrip("/")
    return target, fragment


def check_site(
    folder: Path,
    base_path: str = "/",
    label: str = "",
    origins: dict[str, str] | None = None,
    coming: frozenset[str] = frozenset(),
) -> Report:
    """Every internal link of the site at ``folder``: broken files, missing fragments, unreachable pages.
    Problems are placed at ``label``/page:line:column and name what made the page (``origins``);
    files in ``coming`` count as present (the search bundle, still being written).  One pass over
    the pages, keeping only their ids and the pages they link to, so memory stays small however
    large the site."""
    report = Report()
    origins = origins or {}
    files = {
        posixpath.join(os.path.relpath(directory, folder), name).removeprefix("./")
        for directory, _, names in os.walk(folder)
        for name in names
    } | coming
    pages = sorted(name for name in files if name.endswith(".html"))
    ids: dict[str, set[str]] = {}
    edges: dict[str, set[str]] = {}
    later: list[tuple[str, str, str, Position]] = []  # fragments of pages not read yet

    def at(page: str, text: str = "", offset: int = -1) -> Position:
        line, column = _line_column(text, offset) if offset >= 0 else (1, 1)
        return Position(f"{label}/{page}" if label else page, line, column)

    def made_by(page: str) -> str:
        return f" (made by {origins[page]})" if page in origins else ""

    for page in pages:
        text = (folder / page).read_text(encoding="utf-8")
        attributes = _distinct(_scan(text))
        ids[page] = {value for kind, value, _ in attributes if kind == "id"}
        edges[page] = set()
        directory = posixpath.dirname(page)
        for kind, link, offset in attributes:
            if kind == "id":
                continue
            resolved = (page, link[1:]) if link.startswith("#") else _resolve(directory, link, base_path)
            if resolved is None:
                continue
            target, fragment = resolved
            if target not in files and f"{target}/index.html" in files:
                target = f"{target}/index.html"
            if target not in files:
                report.error(
                    at(page, text, offset), f"broken link '{link}': no file {target}{made_by(page)}", "fix the link"
                )
                continue
            if target.endswith(".html"):
                edges[page].add(target)
                if fragment:
                    later.append(
                        (
                            target,
                            fragment,
                            f"broken link '{link}': {target} has no element with id '{fragment}'{made_by(page)}",
                            at(page, text, offset),
                        )
                    )
    for target, fragment, message, position in later:
        if fragment not in ids[target]:
            report.error(position, message, "link to an id the page has")
    reachable, queue = {"index.html"}, deque(["index.html"])
    while queue:
        for target in edges.get(queue.popleft(), ()):
            if target not in reachable:
                reachable.add(target)
                queue.append(target)
    for page in pages:
        if page not in reachable and page != "404.html":
            report.error(at(page), f"page is not reachable from the home page{made_by(page)}", "link to it")
    return report


def _scan(text: str) -> list[tuple[str, str, int]]:
    return [(match[1], match[2], match.start(1)) for match in _ATTRIBUTE.finditer(text)]


def _distinct(attributes: list[tuple[str, str, int]]) -> list[tuple[str, str, int]]:
    """Each attribute value once, at its first place (listings repeat the same year and topic links)."""
    first: dict[tuple[str, str], int] = {}
    for kind, value, offset in attributes:
        first.setdefault((kind, value), offset)
    return [(kind, html.unescape(value), offset) for (kind, value), offset in first.items()]
