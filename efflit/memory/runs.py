"""A build's run: its inputs (their hashes), its output folder and options, and what the last
build into that folder made of the same inputs, so that it can be replayed."""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import partial
from pathlib import Path

from efflit.base.forks import cores, side_by_side
from efflit.kb.problems import Report
from efflit.kb.project import PAPERS, Options
from efflit.memory.cache import (
    PARALLEL_FROM,
    Hashes,
    digest,
    fingerprint,
    input_hashes,
    recall,
    recorded,
    remember,
    site_stamp,
)
from efflit.site.write import folder_identity

Made = tuple[list[str], list[str]]  # the files a build made (site paths), and the folders it filled whole


@dataclass(frozen=True)
class BuildRun:
    """A build's inputs (their hashes), output folder and options, and the state of that folder."""

    root: Path  # resolved
    out: Path  # resolved
    options: Options
    hashes: Hashes
    stamp: list[int] | None  # of the output folder before the build (see `cache.site_stamp`)
    identity: tuple[int, int] | None  # of the output folder before the build (see `write.folder_identity`)

    @classmethod
    def of(cls, root: Path, out: Path | None, options: Options) -> BuildRun:
        root = root.resolve()
        out = (out or root / "site").resolve()
        # Both read thousands of files and folders: side by side, a fifth of a second sooner at 10k
        # records; below a thousand, forking costs more than it saves.
        calls = partial(input_hashes, root), partial(_stamp_as_recorded, root, out)
        hashes, stamp = side_by_side(*calls) if _many_records(root) else [call() for call in calls]
        return cls(root, out, options, hashes, stamp, folder_identity(out))

    @property
    def site_record(self) -> str:
        """The cache file of the record of the pages' keys and links built into the output folder."""
        return _kept_for(self.out, "site")

    def _key(self) -> str:
        return fingerprint(self.hashes, str(self.out), str(self.options))

    def replayed(self) -> Report | None:
        """The last build's report, if it had these very inputs and its site is as it left it."""
        stored = recall(self.root, _kept_for(self.out, "build"), self._key())
        as_left = stored is not None and self.stamp is not None and stored["site"] == self.stamp
        return Report(stored["problems"]) if as_left else None

    def remember(self, made: Made, stamp: list[int], report: Report) -> None:
        """A build made these files of the site, now stamped ``stamp``, with ``report``."""
        stored = {"site": stamp, "made": made, "problems": report.problems}
        remember(self.root, _kept_for(self.out, "build"), self._key(), stored)


def _kept_for(out: Path, what: str) -> str:
    """The cache file of ``what`` a build kept of the output folder ``out``: each folder's apart."""
    return f"{what}-{digest(str(out))}"


def _stamp_as_recorded(root: Path, out: Path) -> list[int] | None:
    """The stamp of the site in ``out`` (see `cache.site_stamp`) over what the last build into it
    made, as its record says; None where there is none.  Kept apart from the record of the pages'
    keys and links, which would take 2.6 s to load at 100,000 records: the whole stamp took 3.2 s
    where walking the site took 6.1 s."""
    made = (recorded(root, _kept_for(out, "build")) or {}).get("made")
    if not (isinstance(made, tuple) and len(made) == 2 and all(isinstance(part, list) for part in made)):
        return None
    return site_stamp(out, made)


def _many_records(root: Path) -> bool:
    """Whether a knowledge base holds enough records for work in forks to pay."""
    try:
        return cores() > 1 and len(os.listdir(root / PAPERS)) >= PARALLEL_FROM
    except OSError:
        return False
