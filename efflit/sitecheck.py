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
from dataclasses import dataclass
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


@dataclass(frozen=True)
class PageLinks:
    """What the link check keeps of a page: its ids, and the site files its links point at
    (`file` or `file#fragment`)."""

    ids: frozenset[str]
    targets: frozenset[str]


def check_site(
    folder: Path,
    base_path: str = "/",
    label: str = "",
    origins: dict[str, str] | None = None,
    coming: frozenset[str] = frozenset(),
    known: dict[str, PageLinks] | None = None,
) -> tuple[Report, dict[str, PageLinks]]:
    """Every internal link of the site at ``folder``: broken files, missing fragments, unreachable pages.
    Problems are placed at ``label``/page:line:column and name what made the page (``origins``);
    files in ``coming`` count as present (the search bundle, still being written).  Pages in
    ``known`` (unchanged since a check that found them sound) are not read again unless a file or
    id they link to is gone.  Returns the report and what each page holds, for the next check.
    One pass over the pages, keeping only their ids and targets, so memory stays small."""
    report = Report()
    origins = origins or {}
    files = {
        posixpath.join(os.path.relpath(directory, folder), name).removeprefix("./")
        for directory, _, names in os.walk(folder)
        for name in names
    } | coming
    pages = sorted(name for name in files if name.endswith(".html"))
    links: dict[str, PageLinks] = {}
    fragments: dict[str, list[tuple[str, str, str, Position]]] = {}  # of pages read: (target, id, link, where)

    def at(page: str, text: str = "", offset: int = -1) -> Position:
        line, column = _line_column(text, offset) if offset >= 0 else (1, 1)
        return Position(f"{label}/{page}" if label else page, line, column)

    def made_by(page: str) -> str:
        return f" (made by {origins[page]})" if page in origins else ""

    # A link that climbs to the site root (`../../x/`) points at the same file from every page as
    # deep: once found sound (and without a fragment, which is checked page by page), it is not
    # resolved again at that depth.
    sound_from_root: dict[str, dict[str, str]] = {}

    def read(page: str) -> None:
        text = (folder / page).read_text(encoding="utf-8")
        attributes = dict.fromkeys(_ATTRIBUTE.findall(text))  # each once: listings repeat the same links
        targets, fragments[page] = set(), []
        directory = posixpath.dirname(page)
        root = "../" * (directory.count("/") + 1) if directory else ""
        sound = sound_from_root.setdefault(root, {})
        for kind, raw in attributes:
            if raw in sound and kind != "id":
                targets.add(sound[raw])
                continue
            if kind == "id":
                continue
            link = html.unescape(raw)
            resolved = (page, link[1:]) if link.startswith("#") else _resolve(directory, link, base_path)
            if resolved is None:
                continue
            target, fragment = resolved
            if target not in files and f"{target}/index.html" in files:
                target = f"{target}/index.html"
            if target not in files:
                where = at(page, text, _offset(text, kind, raw))
                report.error(where, f"broken link '{link}': no file {target}{made_by(page)}", "fix the link")
                continue
            targets.add(target)
            if fragment and target.endswith(".html"):
                targets.add(f"{target}#{fragment}")
                fragments[page].append((target, fragment, link, at(page, text, _offset(text, kind, raw))))
            elif not fragment and link.startswith(root) and not link.startswith("../", len(root)):
                sound[raw] = target
        ids = frozenset(html.unescape(raw) for kind, raw in attributes if kind == "id")
        links[page] = PageLinks(ids, frozenset(targets))

    known = known or {}
    for page in pages:
        if page in known:
            links[page] = known[page]
        else:
            read(page)
    # A known page is read again when a file or an id it links to is gone: reading it says where.
    kept = [page for page in pages if page in known]
    targets = set().union(*(links[page].targets for page in kept))
    gone = {target for target in targets if target.partition("#")[0] not in files or _gone(target, links)}
    for page in kept:
        if not links[page].targets.isdisjoint(gone):
            read(page)
    for page, wanted in fragments.items():
        for target, fragment, link, position in wanted:
            if fragment not in links[target].ids:
                report.error(
                    position,
                    f"broken link '{link}': {target} has no element with id '{fragment}'{made_by(page)}",
                    "link to an id the page has",
                )
    reachable, queue = {"index.html"}, deque(["index.html"])
    while queue:
        held = links.get(queue.popleft())
        for target in held.targets if held else ():
            if target.endswith(".html") and target not in reachable:
                reachable.add(target)
                queue.append(target)
    for page in pages:
        if page not in reachable and page != "404.html":
            report.error(at(page), f"page is not reachable from the home page{made_by(page)}", "link to it")
    return report, links


def _gone(target: str, links: dict[str, PageLinks]) -> bool:
    page, _, fragment = target.partition("#")
    return bool(fragment) and page in links and fragment not in links[page].ids


def _offset(text: str, kind: str, raw: str) -> int:
    """Where an attribute first stands in the page: found again only for a problem to report."""
    return text.find(f' {kind}="{raw}"') + 1
