"""The `efflit` command line. Commands only parse options and call one function."""

from __future__ import annotations

import json
import time
from pathlib import Path

import click

from efflit import build as pipeline
from efflit.models import Record, field_table
from efflit.problems import FORMATTERS, Report, summary
from efflit.render import Options
from efflit.serve import DevServer

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


@main.command()
@root_option
@click.option("--strict", is_flag=True, help="Fail on warnings too.")
@click.option(
    "--format",
    "output_format",
    type=click.Choice(sorted(FORMATTERS)),
    default="text",
    show_default=True,
    help="text for people, github for Actions annotations, json for tools.",
)
def check(root: Path, strict: bool, output_format: str) -> None:
    """Check records, taxonomy and BibTeX; report every problem with its file and line."""
    kb, report = pipeline.check(root)
    _finish("efflit check", kb, report, strict=strict, output_format=output_format)


def _finish(
    command: str,
    kb: pipeline.KnowledgeBase | None,
    report: Report,
    *,
    strict: bool = False,
    output_format: str = "text",
) -> None:
    """Print the problems and a summary line, and exit 1 if the run failed."""
    problems = report.sorted()
    if problems or output_format == "json":
        click.echo(FORMATTERS[output_format](problems))
    if output_format != "json":
        counted = f"{len(kb.papers)} records, {len(kb.bibtex)} linked BibTeX entries: " if kb else ""
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
    click.echo(
        field_table(Record)
        if output_format == "markdown"
        else json.dumps(Record.model_json_schema(), indent=2, ensure_ascii=False)
    )


@main.command()
@root_option
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), help="Output folder [default: ROOT/site].")
@click.option("--base-url", help="Public address of the site, e.g. https://example.org/efflit/ (for feed and sitemap).")
def build(root: Path, out: Path | None, base_url: str | None) -> None:
    """Check the knowledge base, then render the static site into site/."""
    kb, report = pipeline.build(root, out, Options(base_url=_with_slash(base_url)))
    _finish("efflit build", kb, report)


def _with_slash(url: str | None) -> str | None:
    return url if url is None or url.endswith("/") else url + "/"


@main.command()
@root_option
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), help="Output folder [default: ROOT/site].")
@click.option("--port", type=click.IntRange(0, 65535), default=8000, show_default=True, help="Port on 127.0.0.1.")
def serve(root: Path, out: Path | None, port: int) -> None:
    """Build and serve the site on 127.0.0.1; rebuild on changes and reload open pages."""
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
    verdict = "build failed, still serving the previous site" if report.failed() else "built"
    click.echo(f"{time.strftime('%H:%M:%S')} {verdict}: {summary(report)}", err=True)
