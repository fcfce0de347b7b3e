"""Work in forked processes, which inherit everything the parent holds (the catalog, the parsed
records) instead of receiving a pickled copy: shared out, with only the results travelling back
(`in_forks`), or done in the background (`meanwhile`, `detached`).  Where no process can be
forked, the work is done in this one."""

from __future__ import annotations

import contextlib
import multiprocessing
import os
from collections.abc import Callable
from typing import Any, TypeVar

T = TypeVar("T")
R = TypeVar("R")

_work: tuple[Callable[[Any], Any], list[Any]] | None = None  # set just before the fork, read by _run


def cores() -> int:
    return os.cpu_count() or 1


def in_forks(function: Callable[[list[T]], R], shares: list[list[T]]) -> list[R]:
    """``function`` of each share: the first in this process, each other in a forked one, all at
    once; all in this process where no pool of processes can be made (a full disk, no /dev/shm)."""
    global _work
    pool = None
    _work = (function, shares)  # before the fork: the workers find it there
    try:
        if len(shares) > 1:
            with contextlib.suppress(OSError):
                pool = multiprocessing.get_context("fork").Pool(len(shares) - 1)
        if pool is None:
            return [function(share) for share in shares]
        with pool:
            others = pool.map_async(_run, range(1, len(shares)))
            first = function(shares[0])  # meanwhile: its result need not travel
            return [first, *others.get()]
    finally:
        _work = None


def side_by_side(*calls: Callable[[], Any]) -> list[Any]:
    """What each call returns: the first made here, each other in a forked process, all at once."""
    return [results[0] for results in in_forks(_call_each, [[call] for call in calls])]


def _call_each(calls: list[Callable[[], Any]]) -> list[Any]:
    return [call() for call in calls]


def _run(index: int) -> Any:
    function, shares = _work
    return function(shares[index])


_meanwhile: list[int] = []  # processes started by `meanwhile` and not waited for yet


def meanwhile(function: Callable[[], Any]) -> int | None:
    """``function()`` in a forked process while this one goes on (here, where none can be forked);
    `wait_meanwhile` waits for it by the number returned (None: done already)."""
    child = _fork()
    if child is None:
        function()
    elif child == 0:
        try:
            function()
        finally:
            os._exit(0)
    else:
        _meanwhile.append(child)
    return child


def wait_meanwhile(child: int | None = None) -> None:
    """Wait for the process ``child`` started by `meanwhile`, or for all of them."""
    for waited in [child] if child is not None else list(_meanwhile):
        if waited in _meanwhile:
            _meanwhile.remove(waited)
            with contextlib.suppress(ChildProcessError):  # reaped already (SIGCHLD ignored)
                os.waitpid(waited, 0)


def detached(function: Callable[[], Any]) -> None:
    """``function()`` in a process nobody waits for (adopted by init, so never left a zombie), which
    lets go of the files this one holds open (a server's sockets); here, where none can be forked."""
    child = _fork()
    if child is None:
        function()
    elif child == 0:
        try:
            if os.fork() == 0:
                os.closerange(3, 1 << 16)
                function()
        finally:
            os._exit(0)
    else:
        os.waitpid(child, 0)


def _fork() -> int | None:
    """``os.fork()``, or None where processes cannot be forked (no fork, or no room for one)."""
    try:
        return os.fork()
    except (AttributeError, OSError):
        return None
