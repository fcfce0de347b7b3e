"""Internal links of a built site: every href, src and #fragment resolves, every page is reachable.

Links are resolved the way a browser resolves them from the page's address
(`papers/x/` for `papers/x/index.html`); site-absolute links (`/x/`, used by the
404 page) start at ``base_path``.
"""

from __future__ import annotations

import html
import posixpath
import re
import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from urllib.parse import unquote

from efflit.base.forks import cores, in_forks
from efflit.kb.problems import Position, Report
from efflit.kb.project import entries_under

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


@dataclass(frozen=True, eq=False)
class PageLinks:
    """What the link check keeps of a page: its ids, and the site files its links point at
    (`file` or `file#fragment`), each once.  Tuples, kept between builds as they are: the ids are
    made a set only once a link to one of them asks (unpickling 13,000 pages' sets took 0.29 s at
    10,000 records, their tuples 0.06 s)."""

    id_names: tuple[str, ...]
    targets: tuple[str, ...]
    entry: bool = False  # an old address that sends readers on (a redirect): reached from outside

    @cached_property
    def ids(self) -> frozenset[str]:
        return frozenset(self.id_names)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, PageLinks) and (self.ids, set(self.targets), self.entry) == (
            other.ids,
            set(other.targets),
            other.entry,
        )

    def __reduce__(self) -> tuple:
        return PageLinks, (self.id_names, self.targets, self.entry)  # not the set of ids made since


Wanted = tuple[str, str, str, Position]  # a link to a fragment: (target page, id, link, where)
PAGES_PER_WORKER = 3000  # below this, forking costs more than it saves


@dataclass
class _Reader:
    """Reads pages of the site at ``folder`` (whose files are ``files``) for their ids and links."""

    folder: Path
    files: set[str]
    base_path: str
    label: str
    origins: Callable[[], dict[str, str]]  # what made each page: asked only when a page has a problem
    # A link that climbs to the site root (`../../x/`) points at the same file from every page as
    # deep: once found sound (and without a fragment, which is checked page by page), it is not
    # resolved again at that depth.
    sound_from_root: dict[str, dict[str, str]] = field(default_factory=dict)

    def at(self, page: str, text: str = "", offset: int = -1) -> Position:
        line, column = _line_column(text, offset) if offset >= 0 else (1, 1)
        return Position(f"{self.label}/{page}" if self.label else page, line, column)

    def made_by(self, page: str) -> str:
        return f" (made by {self._origins[page]})" if page in self._origins else ""

    @cached_property
    def _origins(self) -> dict[str, str]:
        return self.origins()

    def read(self, page: str, report: Report) -> tuple[PageLinks, list[Wanted]]:
        """The page's ids and link targets, and its links to fragments; broken links go to ``report``."""
        text = (self.folder / page).read_text(encoding="utf-8")
        attributes = dict.fromkeys(_ATTRIBUTE.findall(text))  # each once: listings repeat the same links
        targets, wanted = set(), []
        directory = posixpath.dirname(page)
        root = "../" * (directory.count("/") + 1) if directory else ""
        sound = self.sound_from_root.setdefault(root, {})
        for kind, raw in attributes:
            if kind == "id":
                continue
            if raw in sound:
                targets.add(sound[raw])
                continue
            link = html.unescape(raw)
            resolved = (page, link[1:]) if link.startswith("#") else _resolve(directory, link, self.base_path)
            if resolved is None:
                continue
            target, fragment = resolved
            if target not in self.files and f"{target}/index.html" in self.files:
                target = f"{target}/index.html"
            if target not in self.files:
                where = self.at(page, text, _offset(text, kind, raw))
                report.error(where, f"broken link '{link}': no file {target}{self.made_by(page)}", "fix the link")
                continue
            # One string per target, however many pages link to it: the record of the site's links
            # (a million at 10,000 papers) is then pickled with each target once.
            target = sys.intern(target)
            targets.add(target)
            if fragment and target.endswith(".html"):
                targets.add(sys.intern(f"{target}#{fragment}"))
                wanted.append((target, fragment, link, self.at(page, text, _offset(text, kind, raw))))
            elif not fragment and link.startswith(root) and not link.startswith("../", len(root)):
                sound[raw] = target
        ids = {html.unescape(raw) for kind, raw in attributes if kind == "id"}
        return PageLinks(tuple(ids), tuple(targets), '<meta http-equiv="refresh"' in text), wanted

    def read_all(self, pages: list[str]) -> tuple[dict[str, PageLinks], dict[str, list[Wanted]], list]:
        report = Report()
        links, fragments = {}, {}
        for page in pages:
            links[page], fragments[page] = self.read(page, report)
        return links, fragments, report.problems


def check_site(
    folder: Path,
    base_path: str = "/",
    label: str = "",
    origins: Callable[[], dict[str, str]] = dict,
    coming: frozenset[str] = frozenset(),
    known: dict[str, PageLinks] | None = None,
    listed: Iterable[str] | None = None,
    sound: dict[str, PageLinks] | None = None,
) -> tuple[Report, dict[str, PageLinks]]:
    """Every internal link of the site at ``folder``: broken files, missing fragments, unreachable pages.
    Problems are placed at ``label``/page:line:column and name what made the page (``origins()``,
    called only once there is a problem);
    files in ``coming`` count as present (the search bundle, still being written).  Pages in
    ``known`` (unchanged since a check that found them sound) are not read again unless a file or
    id they link to is gone.  ``listed`` names the site's files when the caller knows them (a build
    made them), which spares walking the folder: ten thousand folders of one page each.  ``sound``
    is what the last check found of each page, when it found no problem in a site of these very
    files: where the pages read now lost no id (nor link) since, no file or id is gone (and every
    page is reached still), which spares working through every link of the site (seconds at
    100,000 records).
    Returns the report and what each page holds, for the next check.
    The pages are read in forked processes when there are many, keeping only their ids and
    targets, so memory stays small."""
    report = Report()
    if listed is None:
        prefix = len(str(folder)) + 1
        listed = (entry.path[prefix:] for entry in entries_under(folder) if not entry.is_dir())
    files = {*listed, *coming}
    reader = _Reader(folder, files, base_path, label, origins)
    pages = sorted(name for name in files if name.endswith(".html"))
    known = known or {}
    kept = [page for page in pages if page in known]
    links = {page: known[page] for page in kept}
    unknown = [page for page in pages if page not in known]
    workers = max(1, min(cores(), len(unknown) // PAGES_PER_WORKER))
    fragments: dict[str, list[Wanted]] = {}  # of pages read
    for read, wanted, problems in in_forks(reader.read_all, [unknown[i::workers] for i in range(workers)]):
        links |= read
        fragments |= wanted
        report.problems += problems
    # Against the last check that found a site of these very files sound: where the pages read again
    # lost no id, no file or id is gone; where they lost no link either, every page is reached still.
    last = [(sound.get(page), links[page]) for page in unknown] if sound is not None else None
    ids_kept = last is not None and all(before is not None and before.ids <= now.ids for before, now in last)
    if not ids_kept:
        _read_again_where_gone(reader, files, kept, links, fragments, report)
    for page, wanted in fragments.items():
        for target, fragment, link, position in wanted:
            if fragment not in links[target].ids:
                report.error(
                    position,
                    f"broken link '{link}': {target} has no element with id '{fragment}'{reader.made_by(page)}",
                    "link to an id the page has",
                )
    reached_still = ids_kept and all(
        before.entry == now.entry and set(before.targets) <= set(now.targets) for before, now in last
    )
    if not reached_still:
        _check_reachable(reader, pages, links, report)
    return report, {page: links[page] for page in pages}


def _read_again_where_gone(
    reader: _Reader,
    files: set[str],
    kept: list[str],
    links: dict[str, PageLinks],
    fragments: dict[str, list[Wanted]],
    report: Report,
) -> None:
    """A known page is read again when a file or an id it links to is gone: reading it says where."""
    targets = set().union(*(links[page].targets for page in kept))
    gone = {target for target in targets if target.partition("#")[0] not in files or _gone(target, links)}
    for page in kept:
        if not gone.isdisjoint(links[page].targets):
            links[page], fragments[page] = reader.read(page, report)


def _check_reachable(reader: _Reader, pages: list[str], links: dict[str, PageLinks], report: Report) -> None:
    """Every page but the 404 page is reached from the home page or an old address."""
    # Breadth first, a whole level at a time: set unions in C instead of a step per link (a million
    # links at 10,000 records).
    entries = {"index.html", *(page for page in pages if links[page].entry)}
    reachable, frontier = set(entries), set(entries)
    while frontier:
        targets = set().union(*(links[page].targets for page in frontier if page in links)) - reachable
        frontier = {target for target in targets if target.endswith(".html")}
        reachable |= frontier
    for page in pages:
        if page not in reachable and page != "404.html":
            report.error(
                reader.at(page), f"page is not reachable from the home page{reader.made_by(page)}", "link to it"
            )


def _gone(target: str, links: dict[str, PageLinks]) -> bool:
    page, _, fragment = target.partition("#")
    return bool(fragment) and page in links and fragment not in links[page].ids


def _offset(text: str, kind: str, raw: str) -> int:
    """Where an attribute first stands in the page: found again only for a problem to report."""
    return text.find(f' {kind}="{raw}"') + 1
