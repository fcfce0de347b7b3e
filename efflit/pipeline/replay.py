"""Runs whose inputs did not change since the last one: their outcome is replayed, not made again.

`efflit check` and `efflit build` ask here first.  Only this module, the cache and the project's
layout are imported to answer, not the pipeline: importing pydantic, Jinja, the YAML and BibTeX
parsers takes longer than the whole answer (a quarter of a second).
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import NamedTuple

from efflit.kb.problems import Report
from efflit.kb.project import Options
from efflit.memory.cache import Hashes, fingerprint, input_hashes, recall, remember
from efflit.memory.runs import BuildRun


def check(root: Path) -> tuple[str, Report]:
    """`efflit check`: its count line and report, replayed when no input changed since last time."""
    root = root.resolve()
    hashes = input_hashes(root)
    key = fingerprint(hashes)
    if (stored := recall(root, "check", key)) is not None:
        return stored["counts"], Report(stored["problems"])
    from efflit.memory import checks  # only now that there is work: see above
    from efflit.memory.cache import code_version
    from efflit.pipeline.check import check as run_check
    from efflit.pipeline.check import counts

    kb, report = run_check(root, hashes)
    checks.save(root, code_version(hashes))  # for the next check, which then checks only edits
    if kb is not None:  # else perhaps no knowledge base at all: no cache folder is made there
        remember(root, "check", key, {"counts": counts(kb), "problems": report.problems})
    return counts(kb), report


class Built(NamedTuple):
    """What `build` tells: its count line, its report, and the hashes of the inputs it built from."""

    counts: str
    report: Report
    hashes: Hashes


def build(root: Path, out: Path | None, options: Options) -> Built:
    """`efflit build`: its count line and report.  Nothing is done when no input changed since the
    last build into ``out`` and that site is as the build left it.  The report says how long each
    stage took, and the whole build from hashing the inputs on ("total")."""
    started = time.perf_counter()
    run = BuildRun.of(root, out, options)
    inputs = time.perf_counter() - started
    if (report := run.replayed()) is not None:
        return Built("site is up to date: ", report, run.hashes)
    from efflit.pipeline.build import build_run  # only now that there is work: see above
    from efflit.pipeline.check import counts

    kb, report = build_run(run)
    report.timings = {"inputs": inputs, **report.timings, "total": time.perf_counter() - started}
    return Built(counts(kb), report, run.hashes)
