"""What runs remember: the parse cache gives what parsing gives, on one core or several, and a
planted cache file cannot run code."""

from __future__ import annotations

import os
import pickle

from efflit import cache
from efflit.check import check


def outcome(root):
    kb, report = check(root)
    return [paper.record for paper in kb.papers], report.sorted()


def test_parsing_on_several_cores_gives_what_one_core_gives(kb, monkeypatch):
    (kb / "papers/muller2022attention.yaml").write_text("id: [unclosed\n")  # a problem to carry back too
    one_core = outcome(kb)
    (kb / cache.CACHE).rename(kb / "elsewhere")
    monkeypatch.setattr(cache, "PARALLEL_FROM", 1)
    monkeypatch.setattr(cache, "cores", lambda: 2)
    assert outcome(kb) == one_core
    assert outcome(kb) == one_core  # and from the cache


class Exploit:
    def __reduce__(self):
        return (os.system, ("touch pwned",))


def test_a_planted_cache_file_cannot_run_code(kb, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    expected = outcome(kb)
    (kb / cache.CACHE / "parsed.pickle").write_bytes(pickle.dumps({"version": "x", "files": Exploit()}))
    assert outcome(kb) == expected
    assert not (tmp_path / "pwned").exists()


def test_what_was_made_per_record_is_reused_only_for_records_whose_key_is_the_same(tmp_path):
    made = cache.PerRecord(tmp_path, "things", "v1", {"a": "key-a", "b": "key-b"})
    assert made.values == {}
    made.values |= {"a": "made from a", "b": "made from b"}
    made.save()
    again = cache.PerRecord(tmp_path, "things", "v1", {"a": "key-a", "b": "key-b2"})  # b was edited
    assert again.values == {"a": "made from a"}
    assert cache.PerRecord(tmp_path, "things", "v2", {"a": "key-a"}).values == {}  # made another way
