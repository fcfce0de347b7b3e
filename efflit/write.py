"""Write stage: the only code that touches the output folder (and `write_atomic`, for any other file).

A build writes a complete new site into a staging folder beside the output and
then swaps the two in one atomic step (Linux ``renameat2(RENAME_EXCHANGE)``),
so a reader, a server or a killed build only ever sees the previous complete
site or the new one, and nothing of a removed record survives.  Files the new
site shares with the previous one are hard links to them, not new writes; the
previous site is deleted in the background once the new one is in place.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import shutil
import tempfile
from pathlib import Path
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
        self._folders: set[str] = set()  # made in staging already

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
            _remove_in_background(self.staging)  # which now holds the previous site
        else:
            _remove(self.staging)

    def path(self, relative: str) -> Path:
        """The staging path for a site path, refusing anything that would leave the site."""
        return Path(self._place(relative))

    def _place(self, relative: str) -> str:
        # Text work, not pathlib (tens of thousands of files): the staging folder is our own, fresh
        # and without symbolic links, so the path's text decides whether it stays inside.
        parts = relative.split("/")
        if not relative or relative.startswith("/") or "\\" in relative or ".." in parts:
            raise UnsafePath(f"refusing to write outside the site: {relative!r}")
        return f"{self.staging}/{relative}"

    def _made(self, relative: str) -> str:
        """The staging path for a site path, with its folder made."""
        target = self._place(relative)
        folder = os.path.dirname(target)
        if folder not in self._folders:
            os.makedirs(folder, exist_ok=True)
            self._folders.add(folder)
        return target

    def write(self, relative: str, data: bytes) -> bool:
        """Write a file of the new site; one whose bytes the previous site holds already is taken over.
        Whether the bytes are new."""
        target, previous = self._made(relative), f"{self.out}/{relative}"
        try:
            found = os.lstat(previous)
            same = S_ISREG(found.st_mode) and found.st_size == len(data) and Path(previous).read_bytes() == data
        except OSError:
            same = False
        if same and _link(previous, target):
            return False
        with open(target, "wb") as file:
            file.write(data)
        return True

    def take(self, relative: str) -> None:
        """Take a file over from the previous site unchanged: a hard link, not a copy (or a copy
        where the file system has no hard links)."""
        previous, target = f"{self.out}/{relative}", self._made(relative)
        if not _link(previous, target):
            shutil.copyfile(previous, target)

    def take_folder(self, relative: str) -> None:
        """Take a whole folder of the previous site over."""
        for folder, _, names in os.walk(self.out / relative):
            inside = os.path.relpath(folder, self.out).replace(os.sep, "/")
            for name in names:
                self.take(f"{inside}/{name}")

    def _swap(self) -> None:
        if not self.out.exists():
            os.rename(self.staging, self.out)
            return
        if _exchange(self.staging, self.out):
            return  # the previous site is now in staging
        previous = self.out.with_name(f".{self.out.name}.previous")
        _remove(previous)
        os.rename(self.out, previous)
        os.rename(self.staging, self.out)
        _remove(previous)


def _link(previous: str, target: str) -> bool:
    try:
        os.link(previous, target, follow_symlinks=False)
    except OSError:
        return False
    return True


def _remove(folder: Path) -> None:
    """Delete a folder we made or replaced, even one a user made read-only; never fail the build."""

    def writable_then_retry(function, path, info) -> None:  # noqa: ANN001 -- shutil's callback
        if isinstance(info[1], FileNotFoundError):
            return  # removed meanwhile: a removal left running by the previous build
        os.chmod(os.path.dirname(path), 0o700)
        function(path)

    try:
        shutil.rmtree(folder, onerror=writable_then_retry)
    except OSError:
        pass


def _remove_in_background(folder: Path) -> None:
    """Delete a replaced site in a detached process: the new site is in place already, and nobody
    needs to wait while tens of thousands of files go (what an interrupted removal leaves, the
    next build removes)."""
    if not hasattr(os, "fork"):
        _remove(folder)
        return
    try:
        child = os.fork()
    except OSError:
        _remove(folder)
        return
    if child == 0:
        try:
            if os.fork() == 0:  # the grandchild, adopted by init, so never left a zombie
                os.closerange(3, 1 << 16)  # let go of what the parent holds (a server's sockets)
                _remove(folder)
        finally:
            os._exit(0)
    os.waitpid(child, 0)


def _exchange(a: Path, b: Path) -> bool:
    """Atomically swap two paths; False where the system cannot."""
    renameat2 = getattr(_libc, "renameat2", None)
    if renameat2 is None:
        return False
    result = renameat2(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE)
    return result == 0


def write_atomic(path: Path, data: str | bytes) -> None:
    """Replace ``path`` with ``data`` in one step: readers see the old file or the new one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as file:
            file.write(data.encode() if isinstance(data, str) else data)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
