"""Runs whose inputs did not change since the last one: their outcome is replayed, not made again.

`efflit check` and `efflit build` ask here first.  Only this module, the cache and the project's
layout are imported to answer, not the pipeline: importing pydantic, Jinja, the YAML and BibTeX
parsers takes longer than the whole answer (a quarter of a second).
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import NamedTuple

from efflit.cache import PARALLEL_FROM, digest, fingerprint, input_hashes, recall, remember, site_stamp
from efflit.forks import cores, side_by_side
from efflit.problems import Report
from efflit.project import PAPERS, Options
from efflit.write import folder_identity


def check(root: Path) -> tuple[str, Report]:
    """`efflit check`: its count line and report, replayed when no input changed since last time."""
    root = root.resolve()
    hashes = input_hashes(root)
    key = fingerprint(hashes)
    if (stored := recall(root, "check", key)) is not None:
        return stored["counts"], Report(stored["problems"])
    from efflit.check import check as run_check  # only now that there is work: see above
    from efflit.check import counts

    kb, report = run_check(root, hashes)
    if kb is not None:  # else perhaps no knowledge base at all: no cache folder is made there
        remember(root, "check", key, {"counts": counts(kb), "problems": report.problems})
    return counts(kb), report


@dataclass(frozen=True)
class BuildRun:
    """A build's inputs (their hashes), output folder and options, and the state of that folder."""

    root: Path  # resolved
    out: Path  # resolved
    options: Options
    hashes: dict[Path, str]
    stamp: list[int]  # of the output folder before the build (see `cache.site_stamp`)
    identity: tuple[int, int] | None  # of the output folder before the build (see `write.folder_identity`)

    @classmethod
    def of(cls, root: Path, out: Path | None, options: Options) -> BuildRun:
        root = root.resolve()
        out = (out or root / "site").resolve()
        # Both read thousands of files and folders: side by side, a fifth of a second sooner at 10k
        # records; below a thousand, forking costs more than it saves.
        calls = partial(input_hashes, root), partial(site_stamp, out)
        hashes, stamp = side_by_side(*calls) if _many_records(root) else [call() for call in calls]
        return cls(root, out, options, hashes, stamp, folder_identity(out))

    @property
    def folder_id(self) -> str:
        """What was built into each output folder is kept apart."""
        return digest(str(self.out))

    def _key(self) -> str:
        return fingerprint(self.hashes, str(self.out), str(self.options))

    def replayed(self) -> Report | None:
        """The last build's report, if it had these very inputs and its site is as it left it."""
        stored = recall(self.root, f"build-{self.folder_id}", self._key())
        return Report(stored["problems"]) if stored is not None and stored["site"] == self.stamp else None

    def remember(self, stamp: list[int], report: Report) -> None:
        """A build made the site now stamped ``stamp``, with ``report``."""
        remember(self.root, f"build-{self.folder_id}", self._key(), {"site": stamp, "problems": report.problems})


def _many_records(root: Path) -> bool:
    """Whether a knowledge base holds enough records for work in forks to pay."""
    try:
        return cores() > 1 and len(os.listdir(root / PAPERS)) >= PARALLEL_FROM
    except OSError:
        return False


class Built(NamedTuple):
    """What `build` tells: its count line, its report, and the hashes of the inputs it built from."""

    counts: str
    report: Report
    hashes: dict[Path, str]


def build(root: Path, out: Path | None, options: Options) -> Built:
    """`efflit build`: its count line and report.  Nothing is done when no input changed since the
    last build into ``out`` and that site is as the build left it.  The report says how long each
    stage took, and the whole build from hashing the inputs on ("total")."""
    started = time.perf_counter()
    run = BuildRun.of(root, out, options)
    inputs = time.perf_counter() - started
    if (report := run.replayed()) is not None:
        return Built("site is up to date: ", report, run.hashes)
    from efflit.build import build_run  # only now that there is work: see above
    from efflit.check import counts

    kb, report = build_run(run)
    report.timings = {"inputs": inputs, **report.timings, "total": time.perf_counter() - started}
    return Built(counts(kb), report, run.hashes)
