"""The full-text search index: Pagefind's indexer run over the paper pages of the staging site.

Paper pages mark what is indexed (`data-pagefind-body`), the facets
(`data-pagefind-filter`: dimension, topic, year) and what is left out
(`data-pagefind-ignore`: the BibTeX block and source).  We call the indexer
binary from the `pagefind_bin` package directly: its Python wrapper waits
0.1 s per record, ten times the whole build on a large corpus.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

from pagefind.service import get_executable

BUNDLE = "pagefind"  # the bundle's folder in the site
PAGES = "papers/*/index.html"


class SearchIndexError(RuntimeError):
    """The indexer failed; its output says why."""


def write_search_index(site: Path) -> None:
    """Index the paper pages under ``site`` and write the bundle into ``site/pagefind``."""
    executable = get_executable()
    if executable is None:
        raise SearchIndexError("the Pagefind indexer is missing: pip install 'pagefind[bin]'")
    command = [str(executable), "--site", str(site), "--output-subdir", BUNDLE, "--glob", PAGES]
    result = subprocess.run([*command, "--force-language", "en", "--silent"], capture_output=True, text=True)
    if result.returncode != 0:
        raise SearchIndexError(f"Pagefind failed: {(result.stdout + result.stderr).strip()}")
