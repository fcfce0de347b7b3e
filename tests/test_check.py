"""The check in a process that checks again after each edit (`efflit serve`): records edited since
the last check are read again alone, and it finds what a whole check finds."""

from __future__ import annotations

import pytest

from efflit import check as check_module
from efflit.cache import input_hashes
from efflit.check import check

RECORD = "papers/example2023quantizing.yaml"


def outcome(kb, report) -> tuple:
    records = [paper.record for paper in kb.papers] if kb else None
    bibtex = {key: entry.key for key, entry in kb.bibtex.items()} if kb else None
    return records, bibtex, [str(problem) for problem in report.sorted()]


def replace(root, old: str, new: str) -> None:
    path = root / RECORD
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new))


EDITS = {  # each from the one before
    "summary": ("A *fabricated* paper", "An *edited* paper"),
    "title": ("Quantizing Imaginary Models", "Quantizing Imagined Models"),  # the BibTeX entry disagrees now
    "unknown tag": ("inference/quantization", "inference/quantisation"),
    "authors": ("  - Ada Example\n  - Bo Sample\n", "  - Bo Sample\n"),
    "invalid": ("year: 2023", "year: next"),  # not a valid record: the whole check says why
    "valid again": ("year: next", "year: 2023"),
}


@pytest.fixture
def whole_checks(monkeypatch):
    """Counts whole checks."""
    calls = []
    whole = check_module._check
    monkeypatch.setattr(check_module, "_check", lambda *args: calls.append(args) or whole(*args))
    return calls


def test_a_check_after_record_edits_finds_what_a_whole_check_finds(kb, whole_checks):
    check(kb, input_hashes(kb))
    for name, (old, new) in EDITS.items():
        replace(kb, old, new)
        hashes = input_hashes(kb)
        before = len(whole_checks)
        found = outcome(*check(kb, hashes))
        assert len(whole_checks) == before + (name in ("invalid", "valid again")), name
        check_module._last = None  # forgotten: a whole check, from scratch
        check_module._known.clear()
        assert found == outcome(*check(kb, hashes)), name


def test_any_other_change_is_checked_whole(kb, whole_checks):
    check(kb, input_hashes(kb))
    bib = kb / "papers/references.bib"
    bib.write_text(bib.read_text() + "\n@misc{unused2020, title={Unused}, year={2020}, author={Nobody, A.}}\n")
    _, report = check(kb, input_hashes(kb))
    assert len(whole_checks) == 2
    assert any("unused2020" in problem.message for problem in report.warnings)
