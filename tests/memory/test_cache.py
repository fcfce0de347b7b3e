"""What runs remember: the parse cache gives what parsing gives, on one core or several, and a
planted cache file cannot run code."""

from __future__ import annotations

import os
import pickle
import subprocess
import sys
from pathlib import Path

import efflit
from efflit.base.forks import wait_meanwhile
from efflit.memory import cache
from efflit.pipeline.check import check
from kbtools import forget_memory


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


def test_a_planted_cache_file_cannot_run_code(kb, tmp_path):
    expected = outcome(kb)
    for planted in (kb / cache.CACHE).glob("*.pickle"):  # every cache file a check reads
        with planted.open("rb") as stream:
            key = pickle.load(stream)  # a plain text: with it, a reader goes on to the value
        planted.write_bytes(pickle.dumps(key) + pickle.dumps(Exploit()))
    # A process of its own, which knows nothing from this one's memory: it reads the files.
    code = {**os.environ, "PYTHONPATH": str(Path(efflit.__file__).parent.parent)}  # this efflit
    checked = subprocess.run(
        [sys.executable, "-m", "efflit", "check", "--root", str(kb)], cwd=tmp_path, env=code, capture_output=True
    )
    assert checked.returncode == 0, checked.stderr
    assert not (tmp_path / "pwned").exists()
    assert outcome(kb) == expected


def test_what_was_made_per_record_is_reused_only_for_records_whose_key_is_the_same(tmp_path):
    made = cache.PerRecord(tmp_path, "things", "v1", {"a": "key-a", "b": "key-b"})
    assert made.values == {}
    made.values |= {"a": "made from a", "b": "made from b"}
    made.save()
    forget_memory()  # what the next process finds on disk
    again = cache.PerRecord(tmp_path, "things", "v1", {"a": "key-a", "b": "key-b2"})  # b was edited
    assert again.values == {"a": "made from a"}
    assert cache.PerRecord(tmp_path, "things", "v2", {"a": "key-a"}).values == {}  # made another way


def test_a_cache_file_another_process_wrote_is_read_again(tmp_path):
    cache.remember(tmp_path, "things", "key", {"made": "here"})
    forget_memory()
    assert cache.recall(tmp_path, "things", "key") == {"made": "here"}
    other = pickle.dumps("key") + pickle.dumps({"made": "by another efflit"})
    (tmp_path / cache.CACHE / "things.pickle").write_bytes(other)  # as another process would
    assert cache.recall(tmp_path, "things", "key") == {"made": "by another efflit"}


def test_a_cache_file_damaged_or_deleted_since_it_was_written_is_not_trusted(tmp_path):
    cache.remember(tmp_path, "things", "key", {"made": "here"})
    (tmp_path / cache.CACHE / "things.pickle").write_bytes(b"damaged")
    assert cache.recall(tmp_path, "things", "key") is None
    cache.remember(tmp_path, "things", "key", {"made": "here"}, in_background=True)
    wait_meanwhile()
    (tmp_path / cache.CACHE / "things.pickle").unlink()
    assert cache.recall(tmp_path, "things", "key") is None


def test_records_are_validated_again_in_the_same_process_when_their_file_changes(kb):
    record = kb / "papers/muller2022attention.yaml"
    first = check(kb)[1].sorted()
    record.write_text(record.read_text().replace("year: 2022", "year: 1022"))
    assert any("year" in problem.message for problem in check(kb)[1].errors)
    record.write_text(record.read_text().replace("year: 1022", "year: 2022"))
    assert check(kb)[1].sorted() == first
