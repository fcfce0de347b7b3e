"""The build: the check's stages (load, validate, link: see efflit.pipeline.check), then render and write.

Both report exactly the same problems, as the build runs the check first.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from functools import partial
from pathlib import Path

from efflit.base.forks import cores
from efflit.kb.catalog import Catalog
from efflit.kb.link import KnowledgeBase
from efflit.kb.problems import Position, Report
from efflit.kb.project import Options
from efflit.memory import checks
from efflit.memory.cache import Hashes, PerRecord, code_version, digest, recall, remember, site_stamp
from efflit.memory.keys import Keys
from efflit.memory.runs import BuildRun
from efflit.pipeline.check import check, no_cycle_collection
from efflit.site.render import (
    PAPER_PARTIALS,
    Page,
    TemplateFailure,
    files,
    origins,
    pages,
    render_files,
    render_pages,
    site_base_path,
)
from efflit.site.search import ENTRY_POINTS, SearchIndexError, indexer_version, search_index, shards
from efflit.site.sitecheck import check_site
from efflit.site.write import SiteWriter

PAPERS_PER_WORKER = 2000  # below this, forking costs more than it saves


def _workers(papers: int) -> int:
    return max(1, min(cores(), papers // PAPERS_PER_WORKER))


class SiteAbandoned(Exception):
    """The new site failed its own checks and is not swapped in."""


def _label(kb: KnowledgeBase, out: Path) -> str:
    """How problems name the output folder: relative to the knowledge base when inside it."""
    out = out.resolve()
    return out.relative_to(kb.project.root).as_posix() if out.is_relative_to(kb.project.root) else str(out)


def check_built_site(root: Path, site: Path, base_url: str | None = None) -> tuple[KnowledgeBase | None, Report]:
    """`efflit check --site`: the knowledge base, then the internal links of a built site."""
    kb, report = check(root)
    if kb is None or report.errors:
        return kb, report
    catalog = checks.catalogued(kb)
    base_path = site_base_path(catalog, Options(base_url=base_url))
    links, _ = check_site(site, base_path, _label(kb, site), partial(origins, catalog))
    report.problems += links.problems
    return kb, report


def preview(
    root: Path, paths: set[str], options: Options, hashes: Hashes | None = None
) -> tuple[Report, dict[str, bytes]]:
    """The check's report, and the pages at ``paths`` (in the site) as a build would make them now,
    if it has no errors: `efflit serve` shows an edit in the pages open in a browser before it
    builds the whole site.  A template that fails leaves it to the build to say so.  ``hashes``
    are the inputs' hashes when the caller knows them."""
    with no_cycle_collection():
        return _preview(root, paths, options, hashes)


def _preview(root: Path, paths: set[str], options: Options, hashes: Hashes | None) -> tuple[Report, dict[str, bytes]]:
    kb, report = check(root, hashes)
    shown: dict[str, bytes] = {}
    if kb is None or report.failed():
        return report, shown
    catalog = checks.catalogued(kb)
    wanted = list(pages(catalog, paths))
    try:
        partials = None
        if hashes is not None and any(page.template != "paper.html" for page in wanted):
            # A listing shows thousands of cards: those the builds made, as a build takes them (a
            # tenth of a second to key them at 10,000 records, which a paper page would not repay).
            stores = _paper_partials(kb, Keys(catalog, options, code_version(hashes), hashes))
            partials = {name: store.values for name, store in stores.items()}
        render_pages(catalog, options, wanted, shown.__setitem__, partials=partials)
    except TemplateFailure:
        shown.clear()  # all or none: the build says what failed
    return report, shown


def _paper_partials(kb: KnowledgeBase, keys: Keys) -> dict[str, PerRecord]:
    """The cards and table rows of earlier builds, each kept by its paper's key."""
    root, listed = kb.project.root, keys.listed()
    return {name: PerRecord(root, name, keys.template(path), listed) for name, path in PAPER_PARTIALS.items()}


# The record of a site's keys when none is usable.  "bundles" tells search bundles apart that
# Pagefind made in different runs (their filter files differ even for the same pages).
NOTHING_BUILT = {"outputs": {}, "search": {}, "bundles": {}, "links": {}, "back": None}
KEPT_OF_BACK = ("outputs", "bundles")  # what the record says of the back copy


def build(root: Path, out: Path | None = None, options: Options | None = None) -> tuple[KnowledgeBase | None, Report]:
    """Check, then render and write the site; with any error, the previous site stays as it was.
    Only the outputs whose key changed since the last build into the same folder are made again."""
    return build_run(BuildRun.of(root, out, options or Options()))


def build_run(run: BuildRun) -> tuple[KnowledgeBase | None, Report]:
    """`build`, for a run whose inputs are known already."""
    with no_cycle_collection():
        return _build(run)


def _build(run: BuildRun) -> tuple[KnowledgeBase | None, Report]:
    started = time.perf_counter()
    kb, report = check(run.root, run.hashes)
    report.timings["check"] = time.perf_counter() - started
    if kb is None or report.failed():
        return kb, report
    catalog = checks.catalogued(kb)
    code = code_version(run.hashes)
    # Keyed by the code version too: another efflit's record may differ in form.
    previous = recall(run.root, run.site_record, f"{code} {run.out}")
    if previous is None or run.stamp is None or previous["stamp"] != run.stamp:
        previous = NOTHING_BUILT  # or a site touched since: it is made anew
    # The back copy (the site before this one, see efflit.site.write) is of use when the record knows it.
    back = previous["back"] or NOTHING_BUILT
    made = None  # the record of the new site's keys, once it is in place
    writer = SiteWriter(run.out, _files_of(back) if previous["back"] else None, back.get("identity"))
    try:
        with writer as site:
            back = back if site.held is not None else NOTHING_BUILT
            keys = Keys(catalog, run.options, code, run.hashes)
            made, links = _write_site(kb, catalog, run.options, keys, previous, back, site, report.timings)
            if links.problems:
                report.problems += links.problems
                raise SiteAbandoned
    except SiteAbandoned:
        pass  # its links are broken: the staging site is dropped, the previous one stays
    except TemplateFailure as failure:
        report.error(
            failure.position, f"template error: {failure.message}", "fix the template; the previous site is unchanged"
        )
    except SearchIndexError as error:
        report.error(Position(str(run.out)), str(error), "the previous site is unchanged")
    except OSError as error:
        report.error(
            Position(str(run.out)),
            f"cannot write the site: {error.strerror or error}",
            "free disk space or make the folder writable; the previous site is unchanged",
        )
    if writer.failed_back is not None:  # the build failed in the back copy, which it changed
        record = previous | {"back": _after_failure(previous["back"], writer.changed)}
        if remember(run.root, run.site_record, f"{code} {run.out}", record):
            writer.restore_back_copy()  # else the next build deletes it: its old record would mislead
    if made is not None and not report.failed():
        made_files = (list(made["outputs"]), list(made["bundles"]))
        stamp = site_stamp(run.out, made_files, parallel=True)
        # The site replaced is the back copy now: it is what ``previous`` says, unless that was nothing.
        # Its folder is the one that was live when the build began, unless another build swapped since.
        kept = {part: previous[part] for part in KEPT_OF_BACK} | {"identity": run.identity}
        made["back"] = kept if previous is not NOTHING_BUILT else None
        # In the background (pickling the keys and links of every page takes a fifth of a second at
        # 10,000 records): a next build that finds the record before it is stored finds the site
        # unlike the old record's stamp, and makes it anew.
        record = {"stamp": stamp, **made}
        remember(run.root, run.site_record, f"{code} {run.out}", record, in_background=True)
        run.remember(made_files, stamp, report)
    # For the next build, which then checks and catalogues only what was edited.  Stored once the
    # site is made: the process that stores it shares this one's memory until either changes it.
    checks.save(run.root, code)
    return kb, report


@contextmanager
def _timed(timings: dict[str, float], stage: str) -> Iterator[None]:
    """Adds the time the block takes to the stage's."""
    started = time.perf_counter()
    try:
        yield
    finally:
        timings[stage] = timings.get(stage, 0.0) + time.perf_counter() - started


def _files_of(record: dict) -> list[str]:
    """The files and whole folders a record says its site holds: after a failed build in a back
    copy, its record lists as "unknown" the ones the build made there (see `_after_failure`)."""
    return [*record["outputs"], *record["bundles"], *record.get("unknown", ())]


def _after_failure(back: dict, changed: set[str]) -> dict:
    """The record of a back copy in which a failed build replaced or removed ``changed`` (files
    and whole folders): no key matches what they were or held now, so the next build makes them
    again, and they stay listed, so that it removes what it does not make.  Staging in this back
    copy spares the next build making the site's tree again (and the failed build deleting it)."""

    def in_changed_folder(path: str) -> bool:
        return any(path[:end] in changed for end, char in enumerate(path) if char == "/")

    def touched(path: str) -> bool:
        return path in changed or in_changed_folder(path)

    outputs = {path: None if touched(path) else key for path, key in back["outputs"].items()}
    bundles = {folder: None if touched(folder) else key for folder, key in back["bundles"].items()}
    held = {*outputs, *bundles, *back.get("unknown", ())}
    new_paths = {path for path in changed - held if not in_changed_folder(path)}
    return back | {
        "outputs": outputs,
        "bundles": bundles,
        "unknown": sorted({*back.get("unknown", ()), *new_paths}),
    }


def _page_keys(site_pages: list[Page], keys: Keys) -> dict[str, str]:
    return {page.path: keys.page(page.template, page.shows(keys)) for page in site_pages}


def _sort_out(keys: dict[str, str], live: dict, back: dict, site: SiteWriter) -> tuple[set[str], set[str]]:
    """Of outputs with these ``keys``: those to make, and those kept as the back copy has them whose
    bytes differ from the live site's.  The others are taken over from the live site."""
    fresh, unlike_live = set(), set()
    for path, key in keys.items():
        if back["outputs"].get(path) == key:  # kept as the back copy has it
            # The same key means the same bytes: only an output made in the last build is compared.
            if live["outputs"].get(path) != key and site.differs_from_live(path):
                unlike_live.add(path)
        elif live["outputs"].get(path) == key:
            site.take(path)
        else:
            fresh.add(path)
    return fresh, unlike_live


def _write_site(
    kb: KnowledgeBase,
    catalog: Catalog,
    options: Options,
    keys: Keys,
    live: dict,
    back: dict,
    site: SiteWriter,
    timings: dict[str, float],
) -> tuple[dict, Report]:
    """Write the site into staging.  An output whose key is the one recorded for the back copy
    (``back``, which staging starts from when it can) is kept as it is there; one whose key is the
    live site's (``live``) is taken over from it; the others are made.  Returns the new record of
    keys, and the report of the new site's links; ``timings`` gets the time of each stage."""
    site_pages = list(pages(catalog))
    papers = [page for page in site_pages if page.template == "paper.html"]
    # The paper pages first: Pagefind indexes them while the other outputs are keyed and made.
    output_keys = _page_keys(papers, keys)
    fresh, unlike_live = _sort_out(output_keys, live, back, site)
    papers = [page for page in papers if page.path in fresh]
    # Cards and table rows rendered by an earlier build are reused: a topic's page lists thousands.
    stores = _paper_partials(kb, keys)
    partials = {name: store.values for name, store in stores.items()}
    site.writing(page.path for page in papers)  # in forked processes
    with _timed(timings, "render"):
        new_papers = unlike_live | render_pages(catalog, options, papers, site.write, _workers(len(papers)), partials)
    # A shard of the search index is made again when its papers, or the bytes of one's page, changed.
    shared_out = shards([record.id for record in catalog.papers])
    search = {folder: digest(indexer_version(), *papers) for folder, papers in shared_out.items()}
    stale = {
        folder: papers
        for folder, papers in shared_out.items()
        if live["search"].get(folder) != search[folder]
        or any(f"papers/{paper}/index.html" in new_papers for paper in papers)
    }
    bundles = {folder: digest(search[folder], os.urandom(8).hex()) for folder in stale}
    for folder in stale:
        site.clear_folder(folder)
    for folder in shared_out.keys() - stale.keys():
        bundles[folder] = live["bundles"][folder]
        if back["bundles"].get(folder) != bundles[folder]:  # else the back copy holds this very bundle
            site.take_folder(folder)
    # Pagefind indexes them while the rest is made and checked.
    with search_index(site.staging, stale) as indexing:
        others = [page for page in site_pages if page.template != "paper.html"]
        site_files = list(files(catalog, site_pages))
        other_keys = _page_keys(others, keys) | {file.path: file.key(keys) for file in site_files}
        fresh, others_unlike_live = _sort_out(other_keys, live, back, site)
        output_keys |= other_keys
        others = [page for page in others if page.path in fresh]
        site.writing(page.path for page in others)
        with _timed(timings, "render"):
            new_others = render_pages(catalog, options, others, site.write, _workers(len(others)), partials)
            new_outputs = new_papers | others_unlike_live | new_others
            for store in stores.values():
                store.save()
            if fresh_files := [file for file in site_files if file.path in fresh]:
                exported = PerRecord(kb.project.root, "downloads", keys.common, keys.record)
                new_outputs |= render_files(catalog, options, fresh_files, site.write, exported.values)
                exported.save()
        site.drop_others({*output_keys, *shared_out})
        base_path, label = site_base_path(catalog, options), _label(kb, site.out)
        # Pages with the bytes they had (taken over, or made again alike) link where they did.
        known = {page: held for page, held in live["links"].items() if page not in new_outputs}
        # The staging site holds these files and the search bundles, nothing else; pages link into
        # the bundles only through their entry points.
        made_by = partial(origins, catalog)
        # The last site's links were sound (else it was not swapped in): as they are, where it held these very files.
        sound = live["links"] if live["outputs"].keys() == output_keys.keys() else None
        with _timed(timings, "link check"):
            links, held = check_site(
                site.staging, base_path, label, made_by, ENTRY_POINTS, known, list(output_keys), sound
            )
    if stale:
        timings["search index"] = indexing.seconds  # alongside rendering and the link check
    keys.keep()
    made = {"outputs": output_keys, "search": search, "bundles": bundles, "links": held}
    return made, links
