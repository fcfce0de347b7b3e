"""What runs remember: the parse cache gives what parsing gives, on one core or several, and a
planted cache file cannot run code."""

from __future__ import annotations

import os
import pickle
import subprocess
import sys
import time
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


def _edit_keeping_size_and_times(path: Path) -> None:
    before = path.stat()
    path.write_text(path.read_text().replace("2022", "2021"))
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))


def test_inputs_are_read_again_only_when_their_identity_changed(kb, monkeypatch):
    monkeypatch.setattr(cache, "RACY_SECONDS", 0)  # every file's identity is kept at once
    time.sleep(0.05)  # past a tick of the file system's clock, which stamps the files' changes
    first = cache.input_hashes(kb)
    forget_memory()  # as the next process
    read = []
    monkeypatch.setattr(cache, "_content_hash", read.append)
    assert cache.input_hashes(kb) == first
    assert read == []


def test_an_input_edited_since_it_was_hashed_is_hashed_again_though_its_size_and_times_are_the_same(kb, monkeypatch):
    record = kb / "papers/muller2022attention.yaml"
    monkeypatch.setattr(cache, "RACY_SECONDS", 0)
    time.sleep(0.05)
    first = cache.input_hashes(kb)
    time.sleep(0.05)
    _edit_keeping_size_and_times(record)
    forget_memory()
    assert cache.input_hashes(kb)[str(record)] != first[str(record)]


def test_an_input_edited_in_the_moment_it_was_hashed_is_hashed_again(kb):
    record = kb / "papers/muller2022attention.yaml"
    first = cache.input_hashes(kb)
    _edit_keeping_size_and_times(record)  # perhaps within the same tick of the file system's clock
    forget_memory()
    assert cache.input_hashes(kb)[str(record)] != first[str(record)]


def test_hashing_a_folder_that_holds_no_knowledge_base_leaves_no_cache_there(tmp_path):
    (tmp_path / "papers").mkdir()
    (tmp_path / "papers/a.yaml").write_text("id: a\n")
    assert str(tmp_path / "papers/a.yaml") in cache.input_hashes(tmp_path)
    assert not (tmp_path / cache.CACHE).exists()


def test_records_are_validated_again_in_the_same_process_when_their_file_changes(kb):
    record = kb / "papers/muller2022attention.yaml"
    first = check(kb)[1].sorted()
    record.write_text(record.read_text().replace("year: 2022", "year: 1022"))
    assert any("year" in problem.message for problem in check(kb)[1].errors)
    record.write_text(record.read_text().replace("year: 1022", "year: 2022"))
    assert check(kb)[1].sorted() == first


def test_a_site_is_stamped_alike_on_several_cores_and_not_at_all_once_a_file_is_gone(tmp_path, monkeypatch):
    files = [f"papers/p{k}/index.html" for k in range(5)] + ["index.html", "pagefind/ui.js"]
    for file in files:
        (tmp_path / file).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / file).write_text(file)
    made = (files[:-1], ["pagefind"])
    one_core = cache.site_stamp(tmp_path, made, parallel=True)
    monkeypatch.setattr(cache, "PARALLEL_FROM", 1)
    monkeypatch.setattr(cache, "cores", lambda: 2)
    assert cache.site_stamp(tmp_path, made, parallel=True) == one_core
    (tmp_path / files[3]).unlink()
    assert cache.site_stamp(tmp_path, made, parallel=True) is None
