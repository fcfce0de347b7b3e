"""The full-text search index: Pagefind's indexer run over the paper pages of the staging site,
in shards that the search page merges.

Paper pages mark what is indexed (`data-pagefind-body`), the facets
(`data-pagefind-filter`: dimension, topic, year) and what is left out
(`data-pagefind-ignore`: the BibTeX block and source).  Pagefind reads only the
marked element (its root selector): the layout around it is half of each page,
and reading it made indexing twice as slow.  We call the indexer binary from the
`pagefind_bin` package directly: its Python wrapper waits 0.1 s per record, ten
times the whole build on a large corpus.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
import threading
import time
import zlib
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

from efflit.base.forks import cores

BUNDLE = "pagefind"  # the first shard's bundle, with the search UI; shard k > 0 is in pagefind-k
# What the site's pages link to in the bundle; checked once the indexer is done.
ENTRY_POINTS = frozenset(f"{BUNDLE}/{name}" for name in ("pagefind-ui.js", "pagefind-ui.css"))
# Pagefind exits 0 even when a full disk left its files empty: these must hold something.
MUST_HOLD = ("pagefind-ui.js", "pagefind-ui.css", "pagefind-entry.json")
# Papers per shard, on average: a shard not yet split holds twice as many as one split (500 to
# 1,500, see `shard_of`).  Pagefind cannot update an index, so the papers are split between several,
# which the search page merges: an edit re-indexes one shard, not every paper (0.7 s of CPU for
# 1,000 pages, 2.2 s for 2,500).  Each shard's Pagefind walks the whole site (0.1 s at 10,000
# papers), and a search fetches from every shard (10 at 10,000 papers): hence a cap.
SHARD_SIZE = 1000
MAX_SHARDS = 32
ROOT = "[data-pagefind-body]"


def shards(paper_ids: list[str]) -> dict[str, list[str]]:
    """Each shard's bundle folder and the ids of its papers.  A paper's shard follows from its id
    and the number of shards alone, so that adding or editing one paper leaves the other shards as
    they were.  With no papers there is nothing to index, and no bundle."""
    if not paper_ids:
        return {}
    count = min(MAX_SHARDS, max(1, -(-len(paper_ids) // SHARD_SIZE)))
    bundles: dict[str, list[str]] = {bundle(k): [] for k in range(count)}
    for paper in paper_ids:
        bundles[bundle(shard_of(paper, count))].append(paper)
    return {folder: papers for folder, papers in bundles.items() if papers or folder == BUNDLE}  # the UI's


def shard_of(paper: str, count: int) -> int:
    """Which of ``count`` shards holds a paper: by linear hashing, so that one more shard takes
    half the papers of one other and leaves the rest where they were (were it the hash modulo the
    count, each thousandth paper would move nearly every paper, and all shards be indexed again)."""
    hashed = zlib.crc32(paper.encode())  # fixed by the id, and ten times faster than blake2b
    level = 1 << (count.bit_length() - 1)  # the largest power of two up to the count
    shard = hashed % (2 * level)
    return shard if shard < count else hashed % level


def bundle(shard: int) -> str:
    return BUNDLE if shard == 0 else f"{BUNDLE}-{shard}"


def indexer_version() -> str:
    """Which Pagefind makes the bundle: another one makes it anew."""
    try:
        return metadata.version("pagefind_bin")
    except metadata.PackageNotFoundError:
        return "unknown"


class SearchIndexError(RuntimeError):
    """The indexer failed; its output says why."""


@dataclass
class Indexing:
    """How long the indexer ran, from the first bundle's start to the last one's end."""

    seconds: float = 0.0


@contextmanager
def search_index(site: Path, bundles: dict[str, list[str]]) -> Iterator[Indexing]:
    """Index each bundle's papers (their pages under ``site``) into ``site/<bundle>``, a Pagefind
    per core at a time, in the background while the caller goes on (the build renders the other
    pages and checks its links meanwhile); leaving the block waits for them, and then the
    `Indexing` it gave says how long they took."""
    from pagefind.service import get_executable  # here: it imports asyncio, a twentieth of a second

    executable = get_executable()
    if executable is None:
        raise SearchIndexError("the Pagefind indexer is missing: pip install 'pagefind[bin]'")
    configs: dict[str, Path] = {}
    try:
        for folder, papers in bundles.items():
            configs[folder] = Path(tempfile.mkdtemp(prefix=f"{site.name}-search-", dir=site.parent))
            (configs[folder] / "pagefind.json").write_text(json.dumps(_config(site, folder, papers)), encoding="utf-8")
    except OSError as error:
        for config in configs.values():
            shutil.rmtree(config, ignore_errors=True)
        raise SearchIndexError(f"cannot prepare the search index: {error.strerror or error}") from None
    try:
        with _indexing(executable, configs) as indexing:
            yield indexing
    finally:
        for config in configs.values():
            shutil.rmtree(config, ignore_errors=True)
    empty = [
        f"{folder}/{name}"
        for folder in bundles
        for name in MUST_HOLD
        if not (site / folder / name).is_file() or (site / folder / name).stat().st_size == 0
    ]
    if empty:
        raise SearchIndexError(f"Pagefind left {', '.join(empty)} missing or empty (is the disk full?)")


def _config(site: Path, folder: str, papers: list[str]) -> dict:
    """Pagefind's settings for one bundle: its papers' pages are picked out of the site by a glob.
    It goes in a file, as thousands of ids are too long for one command-line argument; ids hold
    only letters, digits, `-` and `_`, nothing a glob reads as a pattern."""
    return {
        "site": str(site),
        "glob": f"papers/{{{','.join(papers)}}}/index.html",
        "root_selector": ROOT,
        "output_path": str(site / folder),
        "force_language": "en",
    }


@contextmanager
def _indexing(executable: Path, configs: dict[str, Path]) -> Iterator[Indexing]:
    failures: list[str] = []
    running: list[subprocess.Popen] = []
    stop = threading.Event()
    indexing, start = Indexing(), time.perf_counter()
    waiting, taking = list(configs.values()), threading.Lock()

    def index_some(core: int | None) -> None:
        if core is not None:  # this thread, and so every Pagefind it starts, keeps to one core
            with suppress(OSError):  # taken away meanwhile: then it goes anywhere
                os.sched_setaffinity(0, {core})
        while True:
            with taking:  # so that no Pagefind starts once the build stops them all
                if stop.is_set() or failures or not waiting:
                    return
                config = waiting.pop(0)
                try:
                    process = subprocess.Popen(  # it reads pagefind.json in its working folder
                        [str(executable), "--silent"],
                        cwd=config,
                        stdout=subprocess.PIPE,
                        stderr=subprocess.STDOUT,
                        text=True,
                    )
                except OSError as error:
                    failures.append(f"Pagefind could not start: {error.strerror or error}")
                    return
                running.append(process)
            output, _ = process.communicate()
            if process.returncode != 0:
                failures.append(f"Pagefind failed (exit {process.returncode}): {output.strip() or 'no message'}")
                return
            indexing.seconds = max(indexing.seconds, time.perf_counter() - start)

    # One Pagefind per core, each kept to its core: a Pagefind free to use every core took a fifth
    # more CPU time for the same work (its threads' memory handling makes the cores interrupt each
    # other), and one at a time left a core idle once the pages were rendered and checked.
    own_cores = sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_setaffinity") else [None] * cores()
    workers = [threading.Thread(target=index_some, args=(core,)) for core in own_cores[: len(configs)]]
    for worker in workers:
        worker.start()
    try:
        yield indexing
    except BaseException:
        with taking:
            stop.set()
            for process in running:
                process.kill()
        raise
    finally:
        for worker in workers:
            worker.join()
    if failures:
        raise SearchIndexError(failures[0])
