"""Write stage: the only code that touches the output folder.

A build writes a complete new site into a staging folder beside the output and
then swaps the two in one atomic step (Linux ``renameat2(RENAME_EXCHANGE)``),
so a reader, a server or a killed build only ever sees the previous complete
site or the new one, and nothing of a removed record survives.  Files the new
site shares with the previous one are hard links to them, not new writes.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import shutil
import tempfile
from pathlib import Path, PurePosixPath
from stat import S_ISREG
from types import TracebackType

_RENAME_EXCHANGE = 2
_AT_FDCWD = -100
_libc = ctypes.CDLL(ctypes.util.find_library("c") or None, use_errno=True)


class UnsafePath(ValueError):
    """An output path that would land outside the site folder."""


class SiteWriter:
    """``with SiteWriter(out) as site: site.write("a/index.html", data)`` then swap on success."""

    def __init__(self, out: Path) -> None:
        self.out = out.resolve()
        self.staging = self.out  # set on entering
        self._folders: set[Path] = set()  # made in staging already

    def __enter__(self) -> SiteWriter:
        self.out.parent.mkdir(parents=True, exist_ok=True)
        for left in self.out.parent.glob(f".{self.out.name}.staging-*"):  # left by a killed build
            _remove(left)
        # A fresh name each time: a leftover that cannot be removed must not block the build.
        self.staging = Path(tempfile.mkdtemp(prefix=f".{self.out.name}.staging-", dir=self.out.parent))
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, tb: TracebackType | None) -> None:
        if kind is None:
            self._swap()
        _remove(self.staging)

    def path(self, relative: str) -> Path:
        """The staging path for a site path, refusing anything that would leave the site (the staging
        folder is our own, fresh and without symbolic links, so the path's text decides)."""
        pure = PurePosixPath(relative)
        if pure.is_absolute() or ".." in pure.parts or "\\" in relative or not pure.parts:
            raise UnsafePath(f"refusing to write outside the site: {relative!r}")
        return self.staging.joinpath(*pure.parts)

    def _made(self, relative: str) -> Path:
        """The staging path for a site path, with its folder made."""
        target = self.path(relative)
        if target.parent not in self._folders:
            target.parent.mkdir(parents=True, exist_ok=True)
            self._folders.add(target.parent)
        return target

    def write(self, relative: str, data: bytes) -> None:
        """Write a file of the new site; one whose bytes the previous site holds already is taken over."""
        target = self._made(relative)
        previous = self.out / relative
        try:
            found = previous.lstat()
            same = S_ISREG(found.st_mode) and found.st_size == len(data) and previous.read_bytes() == data
        except OSError:
            same = False
        if not (same and self._link(previous, target)):
            target.write_bytes(data)

    def take(self, relative: str) -> None:
        """Take a file over from the previous site unchanged: a hard link, not a copy (or a copy
        where the file system has no hard links)."""
        previous, target = self.out / relative, self._made(relative)
        if not self._link(previous, target):
            shutil.copyfile(previous, target)

    def take_folder(self, relative: str) -> None:
        """Take a whole folder of the previous site over."""
        start = self.out / relative
        for folder, _, names in os.walk(start):
            inside = Path(folder).relative_to(self.out).as_posix()
            for name in names:
                self.take(f"{inside}/{name}")

    @staticmethod
    def _link(previous: Path, target: Path) -> bool:
        try:
            os.link(previous, target, follow_symlinks=False)
        except OSError:
            return False
        return True

    def _swap(self) -> None:
        if not self.out.exists():
            os.rename(self.staging, self.out)
            return
        if _exchange(self.staging, self.out):
            return  # the previous site is now in staging, which __exit__ removes
        previous = self.out.with_name(f".{self.out.name}.previous")
        _remove(previous)
        os.rename(self.out, previous)
        os.rename(self.staging, self.out)
        _remove(previous)


def _remove(folder: Path) -> None:
    """Delete a folder we made or replaced, even one a user made read-only; never fail the build."""

    def writable_then_retry(function, path, _) -> None:  # noqa: ANN001 -- shutil's callback
        os.chmod(os.path.dirname(path), 0o700)
        function(path)

    try:
        shutil.rmtree(folder, onerror=writable_then_retry)
    except OSError:
        pass


def _exchange(a: Path, b: Path) -> bool:
    """Atomically swap two paths; False where the system cannot."""
    renameat2 = getattr(_libc, "renameat2", None)
    if renameat2 is None:
        return False
    result = renameat2(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE)
    return result == 0
