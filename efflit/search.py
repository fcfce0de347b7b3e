"""The full-text search index: Pagefind's indexer run over the paper pages of the staging site.

Paper pages mark what is indexed (`data-pagefind-body`), the facets
(`data-pagefind-filter`: dimension, topic, year) and what is left out
(`data-pagefind-ignore`: the BibTeX block and source).  We call the indexer
binary from the `pagefind_bin` package directly: its Python wrapper waits
0.1 s per record, ten times the whole build on a large corpus.
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from importlib import metadata
from pathlib import Path

from pagefind.service import get_executable

BUNDLE = "pagefind"  # the bundle's folder in the site
# What the site's pages link to in the bundle; checked once the indexer is done.
ENTRY_POINTS = frozenset(f"{BUNDLE}/{name}" for name in ("pagefind-ui.js", "pagefind-ui.css"))
# Pagefind exits 0 even when a full disk left its files empty: these must hold something.
MUST_HOLD = (*sorted(ENTRY_POINTS), f"{BUNDLE}/pagefind-entry.json")
PAGES = "papers/*/index.html"


def indexer_version() -> str:
    """Which Pagefind makes the bundle: another one makes it anew."""
    try:
        return metadata.version("pagefind_bin")
    except metadata.PackageNotFoundError:
        return "unknown"


class SearchIndexError(RuntimeError):
    """The indexer failed; its output says why."""


@contextmanager
def search_index(site: Path) -> Iterator[None]:
    """Index the paper pages under ``site`` into ``site/pagefind`` in a separate process, while the
    caller goes on (the build checks its links meanwhile); leaving the block waits for it."""
    executable = get_executable()
    if executable is None:
        raise SearchIndexError("the Pagefind indexer is missing: pip install 'pagefind[bin]'")
    command = [str(executable), "--site", str(site), "--output-subdir", BUNDLE, "--glob", PAGES]
    process = subprocess.Popen(
        [*command, "--force-language", "en", "--silent"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    try:
        yield
    except BaseException:
        process.kill()
        process.wait()
        raise
    output, _ = process.communicate()
    if process.returncode != 0:
        raise SearchIndexError(f"Pagefind failed (exit {process.returncode}): {output.strip() or 'no message'}")
    empty = [name for name in MUST_HOLD if not (site / name).is_file() or (site / name).stat().st_size == 0]
    if empty:
        raise SearchIndexError(f"Pagefind left {', '.join(empty)} missing or empty (is the disk full?)")
