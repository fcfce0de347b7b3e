"""The `efflit` command line. Commands only parse options and call one function.

Each command imports the stage it calls when it runs: `efflit check` and `efflit build` answer
unchanged inputs from the cache (`efflit.pipeline.replay`) in less time than importing all of efflit takes.
"""

from __future__ import annotations

import contextlib
import gc
import json
import os
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import click

from efflit.curation import apis
from efflit.kb.problems import FORMATTERS, Report, summary
from efflit.kb.project import BROKEN_LINKS, Options, open_project
from efflit.pipeline import replay

if TYPE_CHECKING:
    from efflit.curation import arxiv
    from efflit.curation.findings import Applier
    from efflit.curation.importer import Importer

format_option = click.option(
    "--format",
    "output_format",
    type=click.Choice(sorted(FORMATTERS)),
    default="text",
    show_default=True,
    help="text for people, github for Actions annotations, json for tools.",
)
root_option = click.option(
    "--root",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("."),
    show_default=True,
    help="Knowledge-base folder (holding taxonomy.yaml and papers/).",
)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="efflit")
def main() -> None:
    """efflit: a curated knowledge base of research on LLM efficiency."""
    # No cycle collection in a command's process, which ends soon: a build makes millions of
    # long-lived objects and next to no cyclic garbage, and a collection after it, even the
    # one as the process ends, would scan them all (a second at 10,000 records).
    gc.disable()


def run() -> None:
    """The `efflit` command: `main`, then the process ends at once, without freeing what the
    command made object by object (a quarter of a second after a build of 10,000 records); only
    when no other thread is left to wind down (`efflit serve`'s are)."""
    try:
        main()
        code: int | str | None = 0
    except SystemExit as end:
        code = end.code
    if threading.active_count() > 1:
        raise SystemExit(code)
    if isinstance(code, str):  # a message, as sys.exit prints it
        print(code, file=sys.stderr)
        code = 1
    with contextlib.suppress(OSError):  # a closed pipe: nothing more can be told
        sys.stdout.flush()
        sys.stderr.flush()
    os._exit(code or 0)


@main.command()
@root_option
@click.option("--strict", is_flag=True, help="Fail on warnings too.")
@format_option
@click.option(
    "--site", type=click.Path(file_okay=False, exists=True, path_type=Path), help="Also check this built site's links."
)
@click.option("--base-url", help="The address the site was built for (as given to efflit build).")
@click.option("--quality", is_flag=True, help="Also print how complete the records are, per taxonomy node.")
def check(root: Path, strict: bool, output_format: str, site: Path | None, base_url: str | None, quality: bool) -> None:
    """Check records, taxonomy and BibTeX (and with --site, a built site's internal links)."""
    if site is None and not quality:
        counted, report = replay.check(root)  # replayed when nothing changed
        _finish("efflit check", counted, report, strict=strict, output_format=output_format)
    from efflit.pipeline.check import check as run_check
    from efflit.pipeline.check import counts

    if site is None:
        kb, report = run_check(root.resolve())  # the report needs the knowledge base itself
    else:
        from efflit.pipeline.build import check_built_site

        kb, report = check_built_site(root, site, _with_slash(base_url))
    if quality and kb is not None:
        from efflit.kb.catalog import build_catalog
        from efflit.kb.quality import as_json, as_text, broken_links
        from efflit.kb.quality import report as quality_report

        lines = quality_report(build_catalog(kb), broken_links(kb.project.root))
        if output_format == "json":  # one document: the report and the problems
            problems = json.loads(FORMATTERS["json"](report.sorted()))
            click.echo(json.dumps({"quality": as_json(lines), "problems": problems}, indent=2, ensure_ascii=False))
            raise SystemExit(1 if report.failed(strict) else 0)
        click.echo(as_text(lines))
    _finish("efflit check", counts(kb), report, strict=strict, output_format=output_format)


def _finish(command: str, counted: str, report: Report, *, strict: bool = False, output_format: str = "text") -> None:
    """Print the problems and a summary line, and exit 1 if the run failed."""
    problems = report.sorted()
    if problems or output_format == "json":
        click.echo(FORMATTERS[output_format](problems))
    if output_format != "json":
        click.echo(f"{command}: {counted}{summary(report)}", err=True)
    raise SystemExit(1 if report.failed(strict) else 0)


@main.command()
@click.option(
    "--format",
    "output_format",
    type=click.Choice(["json", "markdown"]),
    default="json",
    show_default=True,
    help="json: the JSON Schema; markdown: the field table of the README.",
)
def schema(output_format: str) -> None:
    """Print the schema of a paper record, derived from the model."""
    from efflit.kb.models import Record, field_table

    click.echo(
        field_table(Record)
        if output_format == "markdown"
        else json.dumps(Record.model_json_schema(), indent=2, ensure_ascii=False)
    )


@main.command()
@root_option
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), help="Output folder [default: ROOT/site].")
@click.option("--base-url", help="Public address of the site, e.g. https://example.org/efflit/ (for feed and sitemap).")
@click.option("--timings", is_flag=True, help="Also print how long each stage took.")
def build(root: Path, out: Path | None, base_url: str | None, timings: bool) -> None:
    """Check the knowledge base, then render the static site into site/."""
    counted, report, _ = replay.build(root, out, Options(base_url=_with_slash(base_url)))
    if timings:
        click.echo(f"efflit build: timings: {_timings(report)}", err=True)
    _finish("efflit build", counted, report)


def _timings(report: Report) -> str:
    if not report.timings:
        return "nothing to build"
    stages = ", ".join(f"{stage} {seconds:.2f} s" for stage, seconds in report.timings.items() if stage != "total")
    alongside = " (alongside rendering and the link check)" if "search index" in report.timings else ""
    return f"{report.timings['total']:.2f} s in all: {stages}{alongside}"


def _with_slash(url: str | None) -> str | None:
    return url if url is None or url.endswith("/") else url + "/"


@main.command()
@root_option
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), help="Output folder [default: ROOT/site].")
@click.option("--port", type=click.IntRange(0, 65535), default=8000, show_default=True, help="Port on 127.0.0.1.")
def serve(root: Path, out: Path | None, port: int) -> None:
    """Build and serve the site on 127.0.0.1; rebuild on changes and reload open pages."""
    from efflit.serve import DevServer

    gc.enable()  # it runs for hours, and builds again and again
    server = DevServer(root, out or root / "site", port, on_build=_print_build)
    server.start()
    click.echo(f"Serving {server.url} (Ctrl-C to stop); watching records, taxonomy, BibTeX and templates.", err=True)
    try:
        server.stopping.wait()
    except KeyboardInterrupt:
        server.stop()


def _print_build(report: Report) -> None:
    problems = report.sorted()
    if problems:
        click.echo(FORMATTERS["text"](problems))
    took = f" in {report.timings['total']:.2f} s" if "total" in report.timings else ""  # none when up to date
    if "open pages shown" in report.timings:
        took += f" (open pages showed it after {report.timings['open pages shown']:.2f} s)"
    verdict = f"build failed{took}, still serving the previous site" if report.failed() else f"built{took}"
    click.echo(f"{time.strftime('%H:%M:%S')} {verdict}: {summary(report)}", err=True)


def _curation(run: Callable[[], Importer | Applier]) -> Importer | Applier:
    """Run an import-like operation; print every outcome and a summary, or why nothing was done."""
    from efflit.curation.arxiv import ArxivError
    from efflit.curation.curate import CurationError

    try:
        importer = run()
    except CurationError as error:
        click.echo(FORMATTERS["text"](error.report.sorted()))
        click.echo("nothing was written: fix the problems above first", err=True)
        raise SystemExit(1) from None
    except ArxivError as error:
        click.echo(f"error: {error}", err=True)
        raise SystemExit(1) from None
    for outcome in importer.outcomes:
        click.echo(str(outcome))
    click.echo(importer.summary(), err=True)
    return importer


@main.group("import")
def import_group() -> None:
    """Import papers from a BibTeX file or a Markdown paper list."""


tag_option = click.option(
    "--tag", "tags", multiple=True, help="Taxonomy tag for papers that come without one (repeatable)."
)


@import_group.command("bib")
@root_option
@tag_option
@click.argument("file", type=click.Path(dir_okay=False, exists=True, path_type=Path))
def import_bib(root: Path, tags: tuple[str, ...], file: Path) -> None:
    """Import the entries of a BibTeX file; the original keys stay the citation keys."""
    from efflit.curation import curate

    _curation(lambda: curate.import_bib(root, file, list(tags)))


@import_group.command("list")
@root_option
@click.option(
    "--map",
    "map_file",
    required=True,
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    help="Section map: which headings go to which taxonomy nodes (see sources/).",
)
@click.argument("file", type=click.Path(dir_okay=False, exists=True, path_type=Path))
def import_list(root: Path, map_file: Path, file: Path) -> None:
    """Import a Markdown paper list, section by section as its map says."""
    from efflit.curation import curate

    _curation(lambda: curate.import_list(root, file, map_file))


def arxiv_options(command: Callable) -> Callable:
    """Where and how politely to ask arXiv; tests point these at a fake API."""
    options = [
        click.option("--endpoint", default=apis.ARXIV_ENDPOINT, show_default=True, help="arXiv API address."),
        click.option(
            "--interval",
            type=float,
            default=apis.ARXIV_INTERVAL,
            show_default=True,
            help="Seconds between requests (arXiv asks for 3).",
        ),
        click.option("--timeout", type=float, default=30.0, show_default=True, help="Seconds to wait for an answer."),
    ]
    for option in reversed(options):
        command = option(command)
    return command


def _client(root: Path, endpoint: str, interval: float, timeout: float) -> arxiv.Client:
    from efflit.curation import arxiv
    from efflit.curation.curate import ARXIV_CACHE

    return arxiv.Client(endpoint, interval, cache=root / ARXIV_CACHE, timeout=timeout)


@main.command()
@root_option
@tag_option
@arxiv_options
@click.argument("paper", required=False)
def add(root: Path, tags: tuple[str, ...], endpoint: str, interval: float, timeout: float, paper: str | None) -> None:
    """Add one paper: an arXiv id, or a BibTeX entry (as the argument or on standard input)."""
    from efflit.curation import curate

    given = paper if paper is not None else sys.stdin.read()
    if not tags and sys.stdin.isatty():
        tags = tuple(click.prompt("Taxonomy tag (e.g. inference/quantization)").split())
    importer = _curation(lambda: curate.add_paper(root, given, list(tags), _client(root, endpoint, interval, timeout)))
    problems, missing = curate.follow_up(root, sorted(importer.new))
    if problems:
        click.echo(FORMATTERS["text"](problems))
    for path, fields in missing.items():
        click.echo(f"{path}: to fill in: {', '.join(fields)}")
    nothing_done = all(outcome.kind == "skipped" for outcome in importer.outcomes)
    raise SystemExit(1 if nothing_done or any(p.severity == "error" for p in problems) else 0)


@main.command()
@root_option
@arxiv_options
@click.option(
    "--source",
    "sources",
    type=click.Choice(["arxiv", "openalex", "semanticscholar", "crossref", "dblp"]),
    multiple=True,
    default=("arxiv",),
    show_default=True,
    help="Which API to ask (repeat for several): arXiv for authors; OpenAlex (by arXiv id), Semantic Scholar "
    "(by arXiv id or DOI), Crossref (by DOI) and DBLP (by title) for published venues, DOIs and authors.",
)
@click.option(
    "--openalex-endpoint", default=apis.OPENALEX_ENDPOINT, show_default=True, help="OpenAlex works API address."
)
@click.option(
    "--semanticscholar-endpoint",
    default=apis.SEMANTICSCHOLAR_ENDPOINT,
    show_default=True,
    help="Semantic Scholar paper batch API address.",
)
@click.option(
    "--crossref-endpoint", default=apis.CROSSREF_ENDPOINT, show_default=True, help="Crossref works API address."
)
@click.option("--dblp-endpoint", default=apis.DBLP_ENDPOINT, show_default=True, help="DBLP publication search address.")
@click.option("--dry-run", is_flag=True, help="Print the changes as a diff; write nothing.")
def enrich(
    root: Path,
    endpoint: str,
    interval: float,
    timeout: float,
    sources: tuple[str, ...],
    openalex_endpoint: str,
    semanticscholar_endpoint: str,
    crossref_endpoint: str,
    dblp_endpoint: str,
    dry_run: bool,
) -> None:
    """Fill what records lack from scholarly APIs, never overwriting a field a curator set: authors
    from arXiv; from the scholarly indexes, the venue and year where a preprint was published, its
    DOI and missing authors.  Each API is asked in turn; one that is down does not stop the others."""
    from efflit.curation import curate, enrich

    contact = open_project(root, Report()).settings.contact
    endpoints = {
        "openalex": openalex_endpoint,
        "semanticscholar": semanticscholar_endpoint,
        "crossref": crossref_endpoint,
        "dblp": dblp_endpoint,
    }

    def asking(name: str) -> Callable[[], Importer | Applier]:
        if name == "arxiv":
            return lambda: curate.enrich(root, _client(root, endpoint, interval, timeout), dry_run)
        return lambda: enrich.enrich_from_index(root, name, endpoints[name], contact, timeout, dry_run)

    failed = False
    for name in dict.fromkeys(sources):
        try:  # one API down does not stop the others
            done = _curation(asking(name))
        except SystemExit:
            failed = True
            continue
        if dry_run:
            click.echo(done.diff(), nl=False)
    raise SystemExit(1 if failed else 0)


@main.command()
@root_option
@click.option(
    "--openalex-endpoint", default=apis.OPENALEX_ENDPOINT, show_default=True, help="OpenAlex works API address."
)
@click.option("--github-endpoint", default=apis.GITHUB_ENDPOINT, show_default=True, help="GitHub REST API address.")
@click.option(
    "--interval",
    type=float,
    default=apis.GITHUB_INTERVAL,
    show_default=True,
    help="Seconds between requests to GitHub.",
)
@click.option("--timeout", type=float, default=30.0, show_default=True, help="Seconds to wait for an answer.")
def metrics(root: Path, openalex_endpoint: str, github_endpoint: str, interval: float, timeout: float) -> None:
    """Fetch cited-by counts (OpenAlex) and code repositories' stars, last push and archived state
    (GitHub) into data/metrics.json; what an API cannot tell keeps its last figure (exit 1)."""
    from efflit.curation import github, openalex
    from efflit.curation.arxiv import ArxivError
    from efflit.curation.curate import CurationError, sound_knowledge_base
    from efflit.curation.metrics import fetch_metrics, write_metrics

    try:
        kb = sound_knowledge_base(root)
    except CurationError as error:
        click.echo(FORMATTERS["text"](error.report.sorted()))
        raise SystemExit(1) from None
    scholar = openalex.Client(openalex_endpoint, contact=kb.project.settings.contact, timeout=timeout)
    try:
        fetched = fetch_metrics(kb, scholar, github.Client(github_endpoint, interval, timeout))
    except ArxivError as error:
        click.echo(f"error: {error}; data/metrics.json is unchanged", err=True)
        raise SystemExit(1) from None
    write_metrics(kb, fetched.metrics)
    for problem in fetched.problems:
        click.echo(problem)
    found = fetched.metrics
    archived = sum(state.archived for state in found.code.values())
    click.echo(
        f"efflit metrics: {len(found.papers)} papers with cited-by counts, {len(found.code)} repositories "
        f"({archived} archived), as of {found.date}",
        err=True,
    )
    raise SystemExit(1 if fetched.problems else 0)


@main.command("apply")
@root_option
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=False, exists=True, path_type=Path))
def apply(root: Path, files: tuple[Path, ...]) -> None:
    """Apply findings files (JSON Lines of checked facts, each naming its page) to the records."""
    from efflit.curation import findings

    applier = _curation(lambda: findings.apply_findings(root, list(files)))
    for note in applier.notes:
        click.echo(f"{note.id}: {note.field}: {note.value}")


@main.command("fmt")
@root_option
@click.option("--check", "check_only", is_flag=True, help="Change nothing; fail if a record is not canonical.")
def fmt(root: Path, check_only: bool) -> None:
    """Rewrite records into canonical form (field order, quoting, layout), keeping comments."""
    from efflit.kb.canonical import schema_url, unformatted

    project = open_project(root, Report())
    changed, broken = unformatted(project.record_files(), schema_url(project.settings), fix=not check_only)
    for path, reason in broken:
        click.echo(f"{project.display(path)}:1:1: error: cannot format: {reason} (run efflit check)")
    for path in changed:
        verb = "is not in canonical form (run efflit fmt)" if check_only else "reformatted"
        click.echo(f"{project.display(path)}: {verb}")
    click.echo(
        f"efflit fmt: {len(changed)} of {len(project.record_files())} records "
        f"{'need formatting' if check_only else 'reformatted'}",
        err=True,
    )
    raise SystemExit(1 if broken or (check_only and changed) else 0)


@main.command()
@root_option
@click.option(
    "--file",
    "target",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Markdown file with the marker comments [default: ROOT/README.md].",
)
@click.option("--check", "check_only", is_flag=True, help="Change nothing; fail if the file is stale.")
def readme(root: Path, target: Path | None, check_only: bool) -> None:
    """Write the paper list and counts per node between the marker comments of a Markdown file."""
    from efflit.base.files import write_atomic
    from efflit.curation import curate
    from efflit.curation.readme import MissingMarkers
    from efflit.curation.readme import update as update_readme
    from efflit.kb.catalog import build_catalog

    target = target or root / "README.md"
    try:
        kb = curate.sound_knowledge_base(root)
        text = target.read_text(encoding="utf-8")
        updated = update_readme(text, build_catalog(kb))
    except curate.CurationError as error:
        click.echo(FORMATTERS["text"](error.report.sorted()))
        raise SystemExit(1) from None
    except (OSError, MissingMarkers) as error:
        click.echo(f"{target}:1:1: error: {error}")
        raise SystemExit(1) from None
    if updated == text:
        click.echo(f"{target} is up to date", err=True)
    elif check_only:
        click.echo(f"{target}:1:1: error: the paper list is stale (run efflit readme)")
        raise SystemExit(1)
    else:
        write_atomic(target, updated)
        click.echo(f"{target} updated", err=True)


@main.command()
@root_option
@format_option
@click.option("--allow-private", is_flag=True, help="Also fetch URLs on loopback, private or link-local addresses.")
@click.option("--no-cache", is_flag=True, help="Check every link again, ignoring cached good results.")
@click.option("--fail-fast", is_flag=True, help="Fail on a link broken in this run, not only in two runs in a row.")
def links(root: Path, output_format: str, allow_private: bool, no_cache: bool, fail_fast: bool) -> None:
    """Check the external links of every record (exit 2 when one is broken in this run and the last,
    or with --fail-fast in this one)."""
    from efflit import links as link_check
    from efflit.pipeline.check import check as run_check
    from efflit.pipeline.check import counts

    kb, report = run_check(root)
    if kb is None or report.errors:
        _finish("efflit links", counts(kb), report, output_format=output_format)
    settings = kb.project.settings.links
    cache = None if no_cache else kb.project.root / link_check.CACHE
    show_progress = output_format == "text" and sys.stderr.isatty()
    broken = None if fail_fast else kb.project.root / BROKEN_LINKS
    ask_arxiv = _client(kb.project.root, apis.ARXIV_ENDPOINT, apis.ARXIV_INTERVAL, settings.timeout)
    found = link_check.check_links(
        kb.papers, settings, cache, allow_private, _progress if show_progress else None, broken, ask_arxiv
    )
    if show_progress:
        click.echo(err=True)
    problems = found.sorted()
    if problems or output_format == "json":
        click.echo(FORMATTERS[output_format](problems))
    if output_format != "json":
        click.echo(f"efflit links: {summary(found)}", err=True)
    raise SystemExit(2 if found.errors else 0)


def _progress(done: int, total: int) -> None:
    click.echo(f"\rchecked {done} of {total} links", err=True, nl=False)
