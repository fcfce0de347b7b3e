"""Work shared out between forked processes, which inherit everything the parent holds (the
catalog, the parsed records) instead of receiving a pickled copy; only results travel back."""

from __future__ import annotations

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
    """``function`` of each share: the first in this process, each other in a forked one, all at once."""
    global _work
    if len(shares) < 2:
        return [function(share) for share in shares]
    _work = (function, shares)
    try:
        with multiprocessing.get_context("fork").Pool(len(shares) - 1) as pool:
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
