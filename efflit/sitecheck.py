"""Internal links of a built site: every href, src and #fragment resolves, every page is reachable.

Links are resolved the way a browser resolves them from the page's address
(`papers/x/` for `papers/x/index.html`); site-absolute links (`/x/`, used by the
404 page) start at ``base_path``.
"""

from __future__ import annotations

import posixpath
from collections import deque
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

from efflit.problems import Position, Report

LINK_ATTRIBUTES = {"href", "src"}


@dataclass
class ParsedPage:
    ids: set[str] = field(default_factory=set)
    links: list[tuple[str, int, int]] = field(default_factory=list)  # (url, line, column)


class _Collector(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.page = ParsedPage()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        line, column = self.getpos()
        for name, value in attrs:
            if value is None:
                continue
            if name == "id" or (tag == "a" and name == "name"):
                self.page.ids.add(value)
            elif name in LINK_ATTRIBUTES and not (tag == "link" and ("rel", "canonical") in attrs):
                self.page.links.append((value, line, column + 1))


def parse_page(html: str) -> ParsedPage:
    collector = _Collector()
    collector.feed(html)
    collector.close()
    return collector.page


def _resolve(page: str, link: str, base_path: str) -> tuple[str, str] | None:
    """(site file, fragment) a link on ``page`` points at; None for links that leave the site."""
    parts = urlsplit(link)
    if parts.scheme or parts.netloc:
        return None
    path = unquote(parts.path)
    if path.startswith("/"):
        if not path.startswith(base_path):
            return ("../" + path.lstrip("/"), parts.fragment)  # outside the site: reported as missing
        target = path[len(base_path) :]
    elif path:
        target = posixpath.join(posixpath.dirname(page), path)
    else:
        target = page
    directory = target.endswith("/") or target == ""
    target = posixpath.normpath(target or ".")
    if directory:
        target = "index.html" if target == "." else f"{target}/index.html"
    return target, parts.fragment


def check_site(folder: Path, base_path: str = "/", label: str = "", origins: dict[str, str] | None = None) -> Report:
    """Every internal link of the site at ``folder``: broken files, missing fragments, unreachable pages.
    Problems are placed at ``label``/page:line:column and name what made the page (``origins``)."""
    report = Report()
    origins = origins or {}

    def at(page: str, line: int = 1, column: int = 1) -> Position:
        return Position(f"{label}/{page}" if label else page, line, column)

    def made_by(page: str) -> str:
        return f" (made by {origins[page]})" if page in origins else ""

    html_files = {p.relative_to(folder).as_posix(): p for p in sorted(folder.rglob("*.html"))}
    pages = {name: parse_page(path.read_text(encoding="utf-8")) for name, path in html_files.items()}
    edges: dict[str, set[str]] = {name: set() for name in pages}
    for name, page in pages.items():
        for link, line, column in page.links:
            resolved = _resolve(name, link, base_path)
            if resolved is None:
                continue
            target, fragment = resolved
            where = at(name, line, column)
            if target.startswith("../") or not (folder / target).is_file():
                if (folder / target).is_dir() and (folder / target / "index.html").is_file():
                    target = posixpath.join(target, "index.html")
                else:
                    report.error(where, f"broken link '{link}': no file {target}{made_by(name)}", "fix the link")
                    continue
            if fragment and target in pages and fragment not in pages[target].ids:
                report.error(
                    where,
                    f"broken link '{link}': {target} has no element with id '{fragment}'{made_by(name)}",
                    "link to an id the page has",
                )
            if target in pages:
                edges[name].add(target)
    reachable, queue = {"index.html"}, deque(["index.html"])
    while queue:
        for target in edges.get(queue.popleft(), ()):
            if target not in reachable:
                reachable.add(target)
                queue.append(target)
    for name in pages:
        if name not in reachable and name != "404.html":
            report.error(at(name), f"page is not reachable from the home page{made_by(name)}", "link to it")
    return report
