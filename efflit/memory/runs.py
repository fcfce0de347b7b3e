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
from efflit.memory.cache import PARALLEL_FROM, digest, fingerprint, input_hashes, recall, remember, site_stamp
from efflit.site.write import folder_identity


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
