"""Render stage: every output file of the site, as (site path, bytes), from the catalog.

Pages go through Jinja2 templates (autoescaped, StrictUndefined): a knowledge
base's own `templates/` folder overrides the theme shipped with efflit, file by
file, static assets included.
"""

from __future__ import annotations

import contextlib

import traceback
from collections.abc import Callable, Collection, Iterable, Iterator
from dataclasses import dataclass
from functools import partial
from operator import methodcaller
from pathlib import Path
from types import CodeType
from typing import Any, NamedTuple
from urllib.parse import urlsplit

import jinja2
import jinja2.bccache
from markupsafe import Markup

from efflit.site import exports, views
from efflit.kb import quality
from efflit.kb.bibtex import BibEntry
from efflit.kb.catalog import Catalog
from efflit.base.forks import in_forks
from efflit.kb.models import Record, tag_paths
from efflit.kb.problems import Position
from efflit.kb.project import TAXONOMY, Options, template_dirs

FEED_SIZE = 50


class _Environment(jinja2.Environment):
    """Templates see what the views give them, not what is private behind it (a paper view's record
    and catalog): a page must show only what its key covers (see efflit.memory.keys)."""

    def getattr(self, obj: object, attribute: str) -> object:
        if attribute.startswith("_"):
            return self.undefined(obj=obj, name=attribute)
        return super().getattr(obj, attribute)

    def getitem(self, obj: object, argument: object) -> object:
        if isinstance(argument, str) and argument.startswith("_"):
            return self.undefined(obj=obj, name=argument)
        return super().getitem(obj, argument)


class _CompiledTemplates(jinja2.BytecodeCache):
    """Templates compiled by this process and by earlier ones of this user, by file and source: a
    build sets up an environment per render (in each worker) and `efflit serve` more at every
    rebuild, and each would compile every template again (0.15-0.2 s of each rebuild).  Kept on
    disk in Jinja's own folder for the user (made and checked to be theirs alone, mode 0700), never
    in a checkout, where compiled code could be planted."""

    def __init__(self) -> None:
        self.compiled: dict[str, tuple[str, CodeType]] = {}
        self._on_disk: jinja2.FileSystemBytecodeCache | None = None

    def load_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        checksum, code = self.compiled.get(bucket.key, (None, None))
        if checksum == bucket.checksum:
            bucket.code = code
        elif (on_disk := self.on_disk()) is not None:
            on_disk.load_bytecode(bucket)  # checks the source's checksum and the Python version
            if bucket.code is not None:
                self.compiled[bucket.key] = (bucket.checksum, bucket.code)

    def dump_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        if bucket.code is not None:
            self.compiled[bucket.key] = (bucket.checksum, bucket.code)
            if (on_disk := self.on_disk()) is not None:
                with contextlib.suppress(OSError):  # not kept: the next run compiles it again
                    on_disk.dump_bytecode(bucket)

    def on_disk(self) -> jinja2.FileSystemBytecodeCache | None:
        """Jinja's cache folder of this user, None where no safe one can be made."""
        if self._on_disk is None:
            try:
                self._on_disk = jinja2.FileSystemBytecodeCache()
            except (OSError, RuntimeError):  # RuntimeError: another user's folder, or a shared one
                return None
        return self._on_disk


_COMPILED = _CompiledTemplates()  # every environment has the settings below, so they can share it


def environment(root: Path) -> jinja2.Environment:
    return _Environment(
        loader=jinja2.FileSystemLoader([str(d) for d in template_dirs(root)]),
        bytecode_cache=_COMPILED,
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        # An environment serves one render or one set of keys, during which templates do not change:
        # asking the disk whether they did costs a call for each page.
        auto_reload=False,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )


def template_position(error: jinja2.TemplateError, root: Path) -> Position:
    """Where in which template an error arose: syntax errors say it, runtime errors leave it
    in the traceback, whose frames Jinja maps back to template files and lines."""
    if isinstance(error, jinja2.TemplateSyntaxError):
        return Position(f"templates/{error.name}", error.lineno)
    frames = traceback.extract_tb(error.__traceback__)
    dirs = template_dirs(root)
    for frame in reversed(frames):
        path = Path(frame.filename)
        for folder in dirs:
            if path.is_relative_to(folder):
                return Position(f"templates/{path.relative_to(folder).as_posix()}", frame.lineno or 1)
    return Position("templates")


@dataclass(frozen=True)
class Page:
    """One page to render; its context is made only when it is rendered."""

    path: str  # in the site
    template: str
    source: str | None  # the file whose data the page shows, for reports about its links
    context: Callable[[], dict]
    shows: Callable[[Any], str]  # which key of `efflit.memory.keys.Keys` covers the data the page shows


SITE, LISTINGS, NOTHING = methodcaller("site"), methodcaller("listings"), methodcaller("nothing")
QUALITY = methodcaller("quality")
REDIRECT = "redirect.html"  # the template of a record's old address: no page of its own for sitemaps


def pages(catalog: Catalog, only: Collection[str] | None = None) -> Iterator[Page]:
    """Every page of the site; with ``only``, those at these paths (`efflit serve` renders the pages
    open in a browser first, and making all 130,000 pages' `Page` at 100,000 records takes 0.7 s)."""
    wanted = only.__contains__ if only is not None else lambda _: True
    settings = catalog.kb.project.settings
    grouped = (
        ("author", "authors", catalog.authors),
        ("year", "years", catalog.years),
        ("venue", "venues", catalog.venues),
    )
    fixed = [
        ("index.html", "home.html", lambda: views.home(catalog), SITE),
        ("papers/index.html", "table.html", lambda: views.table_page(catalog), LISTINGS),
        ("search/index.html", "search.html", lambda: views.search_page(catalog), SITE),
        ("downloads/index.html", "downloads.html", lambda: views.downloads_page(catalog), SITE),
        (
            "quality/index.html",
            "quality.html",
            lambda: views.quality_page(catalog, settings, quality.broken_links(catalog.kb.project.root)),
            QUALITY,
        ),
        ("404.html", "404.html", lambda: {"title": "Page not found", "description": "No such page."}, NOTHING),
        *(
            (f"{plural}/index.html", "groups.html", partial(views.group_index, kind, plural, groups, plural), LISTINGS)
            for kind, plural, groups in grouped
        ),
    ]
    for path, template, context, shows in fixed:
        if wanted(path):
            yield Page(path, template, None, context, shows)
    for node in catalog.nodes.values():
        if wanted(path := f"topics/{node.path}/index.html"):
            yield Page(path, "node.html", TAXONOMY, partial(views.node_page, catalog, node), methodcaller("node", node))
    for record in catalog.papers:
        if wanted(path := f"papers/{record.id}/index.html"):
            context = partial(views.paper_page, catalog, record, settings)
            yield Page(path, "paper.html", f"papers/{record.id}.yaml", context, methodcaller("paper", record))
        for alias in record.aliases:
            if wanted(path := f"papers/{alias}/index.html"):
                context = partial(views.redirect_page, record)
                yield Page(path, REDIRECT, f"papers/{record.id}.yaml", context, methodcaller("redirect", record))
    for kind, plural, groups in grouped:
        for group in groups.values():
            if wanted(path := f"{plural}/{group.slug}/index.html"):
                context = partial(views.group_page, kind, group, catalog)
                yield Page(path, "listing.html", None, context, methodcaller("group", kind, group))


def origins(catalog: Catalog) -> dict[str, str]:
    """For each page, what made it: its template, and the file whose data it shows."""
    return {
        page.path: f"templates/{page.template}" + (f" with {page.source}" if page.source else "")
        for page in pages(catalog)
    }


def url_of(path: str) -> str:
    """The address of a page: `papers/x/index.html` is served as `papers/x/`."""
    return path.removesuffix("index.html")


# Partials that show one paper, each through the template global of its name, which shows a list
# of papers (`cards(papers, root)`): rendered once per paper and reused by every page that shows it
# (a paper appears in a dozen listings, at several depths), and kept between builds (see
# `build._write_site`).
PAPER_PARTIALS = {"cards": "_partials/card.html", "rows": "_partials/row.html"}
# Stands for the path to the site root while a paper partial is rendered, so that one rendering
# serves every depth; made of characters that autoescaping leaves alone and no text holds.
ROOT_MARK = "\x00root\x00"

Partials = dict[str, dict[str, str]]  # partial's name -> paper id -> its rendering, with ROOT_MARK


def _paper_partial(template: jinja2.Template, rendered: dict[str, str], fresh: dict[str, str]) -> Callable:
    """The template global for one paper partial.  ``rendered`` holds what is known already (from
    the last build); what is rendered here goes into ``fresh`` too."""

    def render(papers: Iterable[views.PaperView], root: str) -> Markup:
        ids = []
        for paper in papers:
            if paper.id not in rendered:
                rendered[paper.id] = fresh[paper.id] = template.render(paper=paper, root=ROOT_MARK)
            ids.append(paper.id)
        # Joined first, then placed at the page's depth in one pass: a topic lists thousands.
        return Markup("".join(map(rendered.__getitem__, ids)).replace(ROOT_MARK, root))

    return render


def site_base_path(catalog: Catalog, options: Options) -> str:
    """The path the site is served under (`/efflit/` for https://example.org/efflit/)."""
    base_url = _base_url(catalog, options)
    return urlsplit(base_url).path if base_url else "/"


class TemplateFailure(Exception):
    """A template failed while rendering; carries where, so it survives a worker process."""

    def __init__(self, position: Position, message: str) -> None:
        super().__init__(position, message)  # both, so that unpickling in the parent can make it again
        self.position, self.message = position, message

    def __str__(self) -> str:
        return self.message


Write = Callable[[str, bytes], bool | None]  # whether the bytes are new


class Downloads(NamedTuple):
    """What the files beside the pages (downloads, feeds) hold of one record: made once, and kept
    between builds (see `made_for_files`)."""

    bibtex: str  # its BibTeX entry, formatted
    csl: bytes  # its CSL-JSON item
    record: bytes  # its item of papers.json
    description: str  # its line in the feeds (`views.description`)


Exported = dict[str, Downloads]  # record id -> its download entries


def render_pages(
    catalog: Catalog,
    options: Options,
    site_pages: list[Page],
    write: Write,
    workers: int = 1,
    partials: Partials | None = None,
) -> set[str]:
    """Render pages and hand each to ``write``, shared out between ``workers`` forked processes.
    Returns the pages whose bytes ``write`` found new; the paper partials rendered meanwhile are
    added to ``partials``, which may hold some already (see `_paper_partial`)."""
    if len(site_pages) <= workers:
        workers = 1
    shares = [site_pages[i::workers] for i in range(workers)]
    partials = {} if partials is None else partials
    new: set[str] = set()
    for pages_made, fresh in in_forks(partial(_render_pages, catalog, options, write=write, partials=partials), shares):
        new.update(pages_made)
        for name, rendered in fresh.items():
            partials.setdefault(name, {}).update(rendered)
    return new


class Beside(NamedTuple):
    """What the files beside the pages are made with, made once for all of them."""

    env: jinja2.Environment  # for the sitemap and feed templates
    absolute: str  # the site's address (its base URL, or "/")
    exported: Exported  # what the files hold of each record (see `made_for_files`)


@dataclass(frozen=True)
class File:
    """One file beside the pages (sitemap, feeds, robots.txt, downloads, static assets); its bytes
    are made only when it is made, as a build does only for a file whose key changed."""

    path: str  # in the site
    make: Callable[[Beside], bytes]
    key: Callable[[Any], str]  # its key, of `efflit.memory.keys.Keys`: what the file holds


SETTINGS = methodcaller("settings")  # files made from the site's settings and efflit's code alone


def files(catalog: Catalog, site_pages: list[Page]) -> Iterator[File]:
    """Every file beside the pages: sitemap, feeds, robots.txt, downloads and static assets."""
    urls = [url_of(page.path) for page in site_pages if page.path != "404.html" and page.template != REDIRECT]
    yield File("sitemap.xml", partial(_sitemap, urls), methodcaller("urls", urls))
    for path, about, records in feeds(catalog):
        yield File(path, partial(_feed, catalog, about, records), methodcaller("feed", records))
    yield File("robots.txt", _robots, SETTINGS)
    yield from downloads(catalog)
    for path, data in static_files(catalog.kb.project.root):
        yield File(path, partial(_given, data), methodcaller("static", data))


def render_files(catalog: Catalog, options: Options, chosen: list[File], write: Write, exported: Exported) -> set[str]:
    """Make the ``chosen`` files (of `files`) and hand each to ``write``; returns those whose bytes
    ``write`` found new.  ``exported`` holds what the files hold of some records already (see
    `made_for_files`); those made here are added."""
    made_for_files(catalog, exported)
    beside = Beside(_environment(catalog, options, {}, {}), _base_url(catalog, options) or "/", exported)
    return {file.path for file in chosen if write(file.path, file.make(beside))}


def _sitemap(urls: list[str], beside: Beside) -> bytes:
    return beside.env.get_template("sitemap.xml").render(base=beside.absolute, urls=urls).encode()


def _feed(catalog: Catalog, about: dict[str, str], records: list[Record], beside: Beside) -> bytes:
    entries = _entries(catalog, records, beside.exported)
    return beside.env.get_template("feed.xml").render(base=beside.absolute, **about, entries=entries).encode()


def _robots(beside: Beside) -> bytes:
    return f"User-agent: *\nAllow: /\nSitemap: {beside.absolute}sitemap.xml\n".encode()


def _given(data: bytes, beside: Beside) -> bytes:
    return data


def _base_url(catalog: Catalog, options: Options) -> str | None:
    return options.base_url or catalog.kb.project.settings.base_url


def _environment(catalog: Catalog, options: Options, partials: Partials, fresh: Partials) -> jinja2.Environment:
    env = environment(catalog.kb.project.root)
    settings = catalog.kb.project.settings
    for name, template in PAPER_PARTIALS.items():
        rendered, made = partials.setdefault(name, {}), fresh.setdefault(name, {})
        env.globals[name] = _paper_partial(env.get_template(template), rendered, made)
    env.globals["site"] = {
        "title": settings.title,
        "description": settings.description,
        "base_url": _base_url(catalog, options),
        "live_reload": False,  # tested by a `base.html` copied from an earlier theme: serve adds the script now
    }
    return env


def _render_pages(
    catalog: Catalog, options: Options, site_pages: list[Page], *, write: Write, partials: Partials
) -> tuple[list[str], Partials]:
    fresh: Partials = {}
    env = _environment(catalog, options, partials, fresh)
    base_url, base_path = _base_url(catalog, options), site_base_path(catalog, options)
    new = []
    for page in site_pages:
        # The 404 page is served at any depth, so only site-absolute links work there.
        root = base_path if page.path == "404.html" else "../" * page.path.count("/")
        url = url_of(page.path)
        about = {"url": url, "canonical": f"{base_url}{url}" if base_url else None}
        try:
            html = env.get_template(page.template).render(page.context(), page=about, root=root)
        except jinja2.TemplateError as error:
            raise TemplateFailure(
                template_position(error, catalog.kb.project.root), error.message or str(error)
            ) from None
        if write(page.path, html.encode("utf-8")):
            new.append(page.path)
    return new, fresh


def feeds(catalog: Catalog) -> Iterator[tuple[str, dict[str, str], list[Record]]]:
    """The Atom feeds of new papers, each with its title and page and the papers it lists: the
    site's, then one per taxonomy node, of the papers under it and its children, so a reader may
    follow one topic."""
    recent: dict[str, list[Record]] = {path: [] for path in catalog.nodes}
    for record in catalog.recent:  # most recently added first: each node keeps its first FEED_SIZE
        for path in {path for tag in record.tags for path in tag_paths(tag)}:
            if len(recent[path]) < FEED_SIZE:
                recent[path].append(record)
    yield "feed.xml", {"title": "new papers", "page": ""}, catalog.recent[:FEED_SIZE]
    for path, node in catalog.nodes.items():
        about = {"title": f"new papers in {node.node.name}", "page": views.node_href(path)}
        yield views.node_feed_href(path), about, recent[path]


def _entries(catalog: Catalog, records: list[Record], exported: Exported) -> list[dict]:
    return [
        {"card": views.Card(catalog, r), "added": r.added.isoformat(), "summary": exported[r.id].description}
        for r in records
    ]


def made_for_files(catalog: Catalog, exported: Exported) -> Exported:
    """``exported`` with what the files hold of every record, made for those it lacks (a paper is
    in the .bib of every node above its tags, and in several feeds: each is made once)."""
    entries = catalog.kb.bibtex
    for r in catalog.papers:
        if r.id not in exported:
            entry = entries[r.id]
            made = (exports.bibtex_entry(entry), exports.csl_item(r, entry), exports.record_item(r), views.description(r))
            exported[r.id] = Downloads(*made)
    return exported


def downloads(catalog: Catalog) -> Iterator[File]:
    """The download files, each made from what `made_for_files` made of its records."""
    records = catalog.papers
    bibliography = partial(_bibliography, catalog.kb.bibtex)
    yield File("downloads/efflit.bib", partial(bibliography, records), methodcaller("bibliography", records))
    for path, members in catalog.in_node.items():
        yield File(views.node_bib_href(path), partial(bibliography, members), methodcaller("bibliography", members))
    exported = methodcaller("exported", records)
    yield File("downloads/papers.json", partial(_json_array, "record", records), exported)
    yield File("downloads/papers.schema.json", lambda beside: exports.records_schema(beside.absolute), SETTINGS)
    yield File("downloads/record.schema.json", lambda _: exports.record_schema(), SETTINGS)
    yield File("downloads/papers.csl.json", partial(_json_array, "csl", records), exported)


def _bibliography(entries: dict[str, BibEntry], records: list[Record], beside: Beside) -> bytes:
    formatted = {entries[r.id].key: beside.exported[r.id].bibtex for r in records}
    return exports.bibliography(formatted).encode()


def _json_array(item: str, records: list[Record], beside: Beside) -> bytes:
    """The records as a JSON array of their ``item`` (a field of `Downloads`)."""
    return exports.json_array([getattr(beside.exported[r.id], item) for r in records])


def static_files(root: Path) -> Iterator[tuple[str, bytes]]:
    seen = set()
    for folder in template_dirs(root):
        for file in sorted((folder / "static").rglob("*")):
            relative = file.relative_to(folder).as_posix()
            if file.is_file() and relative not in seen:
                seen.add(relative)
                yield relative, file.read_bytes()
