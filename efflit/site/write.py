"""Write stage: the only code that touches the output folder.

A build writes a complete new site into a staging folder beside the output and
then swaps the two in one atomic step (Linux ``renameat2(RENAME_EXCHANGE)``),
so a reader, a server or a killed build only ever sees the previous complete
site or the new one, and nothing of a removed record survives.  Files the new
site shares with the previous one are hard links to them, not new writes.

The replaced site is kept beside the output as the back copy (`.site.back`), and
the next build may stage in it: it then only replaces the files that differ and
deletes the ones no longer made, instead of making every folder and link again
(tens of thousands of them).  A file there may be the very file (hard link) of
the site being served, so nothing in staging is ever changed in place: it is
removed, then written anew.  A build that fails in a back copy sets it aside
(`.site.failed`) with the list of what it changed there, for its caller to make
it the back copy again once its record says so (see `SiteWriter.restore_back_copy`).
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterable
from functools import partial
from pathlib import Path
from stat import S_ISDIR, S_ISREG
from subprocess import DEVNULL
from types import TracebackType

from efflit.base.files import folders_holding
from efflit.base.forks import detached

_RENAME_EXCHANGE = 2
_AT_FDCWD = -100
_libc = ctypes.CDLL(ctypes.util.find_library("c") or None, use_errno=True)


class UnsafePath(ValueError):
    """An output path that would land outside the site folder."""


def back_copy(out: Path) -> Path:
    """Where the site a build replaced is kept."""
    return out.with_name(f".{out.name}.back")


def failed_copy(out: Path) -> Path:
    """Where a build that failed in the back copy leaves it."""
    return out.with_name(f".{out.name}.failed")


class SiteWriter:
    """``with SiteWriter(out) as site: site.write("a/index.html", data)`` then swap on success.

    ``held`` lists the files (and whole folders) of the back copy when the caller knows them
    exactly, and ``identity`` is the back copy's (see `folder_identity`): staging then starts from
    it, and ``drop_others`` deletes what the new site does not hold."""

    def __init__(self, out: Path, held: list[str] | None = None, identity: tuple[int, int] | None = None) -> None:
        self.out = out.resolve()
        self.back = back_copy(self.out)
        # The folder must be the one recorded: a build killed between swap and record, or another
        # build into the same folder, leaves another one there.
        self.held = held if held is not None and folder_identity(self.back) == identity else None
        self.staging = self.out  # set on entering
        self._folders: set[str] = set()  # made in staging already
        # Files and whole folders of the back copy replaced or removed in staging: after a failure,
        # what the back copy holds there is unknown.
        self.changed: set[str] = set()
        self.failed_back: Path | None = None  # the back copy a failed build changed, until restored
        self._removals: list[tuple[Path, subprocess.Popen]] = []  # folders being removed meanwhile

    def __enter__(self) -> SiteWriter:
        self.out.parent.mkdir(parents=True, exist_ok=True)
        for left in [*self.out.parent.glob(f".{self.out.name}.staging-*"), failed_copy(self.out)]:
            if left.is_dir():  # left by a killed build
                self._remove_meanwhile(left)
        if self.held is not None:
            # Renamed first: a killed build then leaves a staging leftover, never a back copy
            # that is no longer what its record says.
            self.staging = self._staging_name()
            os.rename(self.back, self.staging)
            return self
        if self.back.exists():  # not known to be as recorded: of no use
            unknown = self._staging_name()
            os.rename(self.back, unknown)  # out of the way of the back copy this build leaves
            detached(partial(_remove, unknown))
        self.staging = self._staging_name()
        self.staging.mkdir()
        return self

    def _staging_name(self) -> Path:
        """A fresh name each time: a leftover that cannot be removed must not block the build."""
        name = Path(tempfile.mkdtemp(prefix=f".{self.out.name}.staging-", dir=self.out.parent))
        name.rmdir()
        return name

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, tb: TracebackType | None) -> None:
        try:
            self._finish(kind)
        finally:
            self._removed()

    def _finish(self, kind: type[BaseException] | None) -> None:
        if kind is None:
            self._swap()  # staging now holds the previous site, if there was one
            _remove(self.back)  # only when a removal left it behind
            if self.staging.exists():
                os.rename(self.staging, self.back)
        elif self.held is not None:  # a back copy, which its record may still describe
            try:
                os.rename(self.staging, failed_copy(self.out))
                self.failed_back = failed_copy(self.out)
            except OSError:
                _remove(self.staging)
        else:
            _remove(self.staging)

    def restore_back_copy(self) -> None:
        """Make the back copy that a failed build set aside the back copy again, once its record
        says what the build changed there."""
        if self.failed_back is not None:
            with contextlib.suppress(OSError):  # else the next build finds no back copy
                os.rename(self.failed_back, self.back)

    def writing(self, paths: Iterable[str]) -> None:
        """Paths that forked processes are about to write through this writer: what they change in
        staging is not seen here."""
        self.changed.update(paths)

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
        """The staging path for a site path, with its folder made and no file there."""
        target = self._place(relative)
        self.changed.add(relative)
        folder = os.path.dirname(target)
        if folder not in self._folders:
            try:
                os.makedirs(folder, exist_ok=True)
            except (FileExistsError, NotADirectoryError):  # the back copy has a file where a folder goes
                self._clear_way(folder)
                os.makedirs(folder, exist_ok=True)
            self._folders.add(folder)
        if self.held is not None:
            try:
                os.unlink(target)  # never written over: it may be a file of the site being served
            except FileNotFoundError:
                pass
            except IsADirectoryError:  # the back copy has a folder where this file goes
                _remove(Path(target))
        return target

    def _clear_way(self, folder: str) -> None:
        """Remove the files of the back copy that stand where ``folder`` or one above it goes."""
        inside = folder[len(str(self.staging)) + 1 :].split("/")
        for depth in range(1, len(inside) + 1):
            path = "/".join([str(self.staging), *inside[:depth]])
            if os.path.lexists(path) and not os.path.isdir(path):
                os.unlink(path)
                self.changed.add("/".join(inside[:depth]))

    def differs_from_live(self, relative: str) -> bool:
        """Whether a file of the back copy, kept as it is, holds other bytes than the live site's."""
        kept, live = self._place(relative), f"{self.out}/{relative}"
        try:
            if os.path.samefile(kept, live):
                return False  # one file, linked into both
            return not _holds(live, Path(kept).read_bytes())
        except OSError:
            return True

    def clear_folder(self, relative: str) -> None:
        """An empty folder for someone else to fill (the search indexer)."""
        folder = self._place(relative)
        if os.path.isdir(folder):
            self._remove_meanwhile(Path(folder))
        self.changed.add(relative)

    def _remove_meanwhile(self, folder: Path) -> None:
        """Move a folder out of the way and delete it while the build goes on (`__exit__` waits):
        deleting the thousand files of a search shard written a build before took 0.1 to 4 s here,
        before the indexer could start."""
        aside = self._staging_name()  # should this build be killed, the next one removes it
        try:
            os.rename(folder, aside)
        except OSError:
            _remove(folder)
            return
        try:  # another process, started without copying this one (as a fork would)
            removal = subprocess.Popen(["rm", "-rf", "--", aside], stdin=DEVNULL, stdout=DEVNULL, stderr=DEVNULL)
        except OSError:  # no `rm` here
            _remove(aside)
            return
        self._removals.append((aside, removal))

    def _removed(self) -> None:
        """Wait for the removals started; finish one that `rm` could not (a folder made read-only)."""
        for folder, removal in self._removals:
            removal.wait()
            if folder.exists():
                _remove(folder)
        self._removals.clear()

    def drop_others(self, new_site: set[str]) -> None:
        """Delete the files and folders of the back copy that the new site (``new_site``: its files
        and whole folders) does not hold, and folders they leave empty."""
        folders = folders_holding(new_site)
        for relative in self.held or ():
            if relative not in new_site and relative not in folders:
                target = self._place(relative)
                self.changed.add(relative)
                (_remove(Path(target)) if os.path.isdir(target) else _unlink(target))
                folder = os.path.dirname(target)
                with contextlib.suppress(OSError):  # a folder not empty, or a file of the new site now
                    while folder != str(self.staging) and not os.listdir(folder):
                        os.rmdir(folder)
                        folder = os.path.dirname(folder)

    def write(self, relative: str, data: bytes) -> bool:
        """Write a file of the new site; one whose bytes the previous site holds already is taken over.
        Whether the bytes are new."""
        target, previous = self._made(relative), f"{self.out}/{relative}"
        if _holds(previous, data) and _link(previous, target):
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
        self.clear_folder(relative)
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
        try:
            os.rename(self.staging, self.out)
        except OSError:
            os.rename(previous, self.out)  # the live site back where it was
            raise
        os.rename(previous, self.staging)


def _holds(path: str, data: bytes) -> bool:
    """Whether ``path`` is a file (not a link) of exactly these bytes."""
    try:
        found = os.lstat(path)
        return S_ISREG(found.st_mode) and found.st_size == len(data) and Path(path).read_bytes() == data
    except OSError:
        return False


def folder_identity(folder: Path) -> tuple[int, int] | None:
    """Which folder is there (a folder keeps it when renamed); None when none is."""
    try:
        found = os.lstat(folder)
    except OSError:
        return None
    return (found.st_dev, found.st_ino) if S_ISDIR(found.st_mode) else None


def _unlink(path: str) -> None:
    with contextlib.suppress(FileNotFoundError, NotADirectoryError):  # gone, or its folder is a file now
        os.unlink(path)


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


def _exchange(a: Path, b: Path) -> bool:
    """Atomically swap two paths; False where the system cannot."""
    renameat2 = getattr(_libc, "renameat2", None)
    if renameat2 is None:
        return False
    result = renameat2(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE)
    return result == 0
