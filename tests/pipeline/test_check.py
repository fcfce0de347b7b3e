"""The check and the catalog in a process that checks again after each edit (`efflit serve`):
records edited since the last check are read again alone, the last catalog serves while no paper
moves between listings, and both are what a whole check and a whole catalog are."""

from __future__ import annotations

import pytest

from efflit.kb import catalog as catalog_module
from efflit.memory import cache
from efflit.memory import checks as memory_of_checks
from efflit.memory.cache import input_hashes
from efflit.pipeline import check as check_module
from efflit.pipeline.check import check

RECORD = "papers/example2023quantizing.yaml"


def outcome(kb, report) -> tuple:
    records = [paper.record for paper in kb.papers] if kb else None
    bibtex = {key: entry.key for key, entry in kb.bibtex.items()} if kb else None
    return records, bibtex, [str(problem) for problem in report.sorted()], listed(kb, report)


def listed(kb, report) -> dict | None:
    """Everything the catalog of ``kb`` lists, in order, if it is catalogued (it has no errors)."""
    if kb is None or report.failed():
        return None
    catalog = memory_of_checks.catalogued(kb)
    assert catalog.kb is kb
    groups = {
        kind: {key: (g.name, g.papers) for key, g in getattr(catalog, kind).items()}
        for kind in ("authors", "years", "venues")
    }
    fields = (
        "papers",
        "in_node",
        "recent",
        "heads",
        "newest",
        "author_slugs",
        "tag_bits",
        "dimensions",
        "dimensions_of",
    )
    return {field: getattr(catalog, field) for field in fields} | groups


def replace(root, old: str, new: str) -> None:
    path = root / RECORD
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new))


EDITS = {  # each from the one before
    "summary": ("A *fabricated* paper", "An *edited* paper"),  # lists the paper where it was
    "code": ("https://example.org/code/quantizing", "https://example.org/code/quantizing-v2"),
    "added": ("added: 2026-11-25", "added: 2026-11-26"),  # moves it among the recent additions
    "title": ("Quantizing Imaginary Models", "Quantizing Imagined Models"),  # the BibTeX entry disagrees now
    # The same fields, a line lower: where the disagreement stands is worked out again.
    "lines moved": ("id: example2023quantizing", "# A comment.\nid: example2023quantizing"),
    "unknown tag": ("inference/quantization", "inference/quantisation"),
    "authors": ("  - Ada Example\n  - Bo Sample\n", "  - Bo Sample\n"),
    "invalid": ("year: 2023", "year: next"),  # not a valid record: the whole check says why
    "valid again": ("year: next", "year: 2023"),
}


def counted(monkeypatch, module, name: str) -> list:
    """The calls to a module's function, which goes on working."""
    calls = []
    function = getattr(module, name)
    monkeypatch.setattr(module, name, lambda *args: calls.append(args) or function(*args))
    return calls


@pytest.fixture
def whole_checks(monkeypatch):
    return counted(monkeypatch, check_module, "_check")


def test_a_check_after_record_edits_finds_what_a_whole_check_finds(kb, whole_checks, monkeypatch):
    whole_catalogs = counted(monkeypatch, catalog_module, "build_catalog")
    cross_record_checks = counted(monkeypatch, memory_of_checks, "linked")
    outcome(*check(kb, input_hashes(kb)))
    for name, (old, new) in EDITS.items():
        replace(kb, old, new)
        hashes = input_hashes(kb)
        checks, catalogs, linked = len(whole_checks), len(whole_catalogs), len(cross_record_checks)
        found = outcome(*check(kb, hashes))
        assert len(whole_checks) == checks + (name in ("invalid", "valid again")), name
        assert len(whole_catalogs) == catalogs + (name == "added"), name  # none once it has errors
        # Edits to what no cross-record check reads, in a record none of their findings names, skip them.
        assert len(cross_record_checks) == linked + (name not in ("summary", "code", "added")), name
        memory_of_checks.forget()  # whole ones, from scratch
        assert found == outcome(*check(kb, hashes)), name


def test_a_finding_that_names_the_edited_record_is_made_again(kb):
    duplicate = (kb / RECORD).read_text().replace("id: example2023quantizing", "id: example2023zcopy")
    (kb / "papers/example2023zcopy.yaml").write_text(duplicate)  # its arXiv id is the record's
    _, report = check(kb, input_hashes(kb))
    assert [p for p in report.errors if p.message.startswith(f"arxiv '2301.10010' is also used by {RECORD}:8:")]
    replace(kb, "id: example2023quantizing", "# A comment.\nid: example2023quantizing")
    _, report = check(kb, input_hashes(kb))
    assert [p for p in report.errors if p.message.startswith(f"arxiv '2301.10010' is also used by {RECORD}:9:")]


def test_any_other_change_is_checked_whole(kb, whole_checks):
    check(kb, input_hashes(kb))
    bib = kb / "papers/references.bib"
    bib.write_text(bib.read_text() + "\n@misc{unused2020, title={Unused}, year={2020}, author={Nobody, A.}}\n")
    _, report = check(kb, input_hashes(kb))
    assert len(whole_checks) == 2
    assert any("unused2020" in problem.message for problem in report.warnings)


def test_a_template_edit_leaves_the_last_check_standing(kb, whole_checks):
    """Only a build reads the templates: the last check serves, even in a new process."""
    first = outcome(*check(kb, input_hashes(kb)))
    memory_of_checks.save(kb, cache.code_version(input_hashes(kb)))
    own = kb / "templates/404.html"
    own.parent.mkdir(exist_ok=True)
    own.write_text("<p>Lost.</p>")
    assert outcome(*check(kb, input_hashes(kb))) == first
    memory_of_checks.forget()
    cache.forget()
    assert outcome(*check(kb, input_hashes(kb))) == first
    assert len(whole_checks) == 1


def test_what_reading_an_edited_record_found_is_reported_once_by_the_next_whole_check(kb, whole_checks):
    check(kb, input_hashes(kb))
    path = kb / RECORD
    path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes())  # a byte-order mark: a warning, and a valid record
    check(kb, input_hashes(kb))
    bib = kb / "papers/references.bib"
    bib.write_text(bib.read_text() + "\n")  # another input changed: a whole check, with what it knows
    found = outcome(*check(kb, input_hashes(kb)))
    assert len(whole_checks) == 2
    memory_of_checks.forget()
    assert found == outcome(*check(kb, input_hashes(kb)))


def test_a_record_that_became_a_link_to_outside_is_checked_whole(kb, tmp_path):
    check(kb, input_hashes(kb))
    outside = tmp_path / "outside.yaml"
    outside.write_text((kb / RECORD).read_text().replace("A *fabricated* paper", "An outside paper"))
    (kb / RECORD).unlink()
    (kb / RECORD).symlink_to(outside)
    _, report = check(kb, input_hashes(kb))
    assert [p for p in report.errors if "symbolic link to outside" in p.message]


def test_a_damaged_kept_state_is_not_taken_up(kb, whole_checks):
    """What the last process kept (`checks.save`), damaged, means a whole check, no traceback."""
    hashes = input_hashes(kb)
    first = outcome(*check(kb, hashes))
    cache.remember(kb, memory_of_checks.STATE, cache.code_version(hashes), {"last": "not a check"})
    memory_of_checks.forget()
    cache.forget()
    assert outcome(*check(kb, hashes)) == first
    assert len(whole_checks) == 2
