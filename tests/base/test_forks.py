"""Work shared out between forked processes, and done here where none can be made."""

from __future__ import annotations

import multiprocessing
import os

import pytest

from efflit.base import forks


def test_each_share_but_the_first_is_worked_in_another_process() -> None:
    here, there = forks.side_by_side(os.getpid, os.getpid)
    assert here == os.getpid() != there
    assert forks.in_forks(sum, [[1, 2], [3], [4, 5]]) == [3, 3, 9]


def test_where_no_pool_can_be_made_the_work_is_done_here(monkeypatch: pytest.MonkeyPatch) -> None:
    def full_disk(*args: object, **kwargs: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(multiprocessing.get_context("fork"), "Pool", full_disk)
    assert forks.side_by_side(os.getpid, os.getpid) == [os.getpid(), os.getpid()]
    assert forks.in_forks(sum, [[1, 2], [3], [4, 5]]) == [3, 3, 9]
