"""Venues, canonical: `venues.yaml` names each venue once; the check asks records written with
another spelling to use the name, and BibTeX entries take the venue's full name and type."""

from __future__ import annotations

import json

import bibtexparser
from click.testing import CliRunner

from efflit.cli import main
from efflit.kb.models import Venue
from efflit.kb.venues import Venues
from efflit.memory.cache import input_hashes
from efflit.pipeline.check import check
from kbtools import RECORD, errors, problems, write

VENUES = """\
venues:
  - name: NeurIPS
    full: Advances in Neural Information Processing Systems
    kind: conference
    aliases:
      - NIPS
  - name: NeurIPS Workshop
    kind: workshop
  - name: ICLR
    full: International Conference on Learning Representations
    kind: conference
  - name: TMLR
    full: Transactions on Machine Learning Research
    kind: journal
"""


def venue_warnings(kb) -> list[str]:
    return [p for p in problems(kb) if "venues.yaml" in p and ": warning: " in p]


def test_another_spelling_of_a_listed_venue_is_a_warning_at_the_venue(kb):
    write(kb, "venues.yaml", VENUES)
    write(kb, "papers/r2020.yaml", RECORD.format(id="r2020", title="A Title") + "venue: NIPS\n")
    assert venue_warnings(kb) == [
        "papers/r2020.yaml:11:8: warning: venue 'NIPS' is another spelling of 'NeurIPS' in venues.yaml"
    ]
    write(kb, "papers/r2020.yaml", RECORD.format(id="r2020", title="A Title") + "venue: NeurIPS\n")
    assert venue_warnings(kb) == []


def test_presentation_formats_and_named_workshops_are_spellings_of_their_venue():
    venues = Venues.of(
        [
            Venue(name="ICLR", kind="conference"),
            Venue(name="NeurIPS", kind="conference", aliases=["NIPS"]),
            Venue(name="NeurIPS Workshop", kind="workshop"),
        ]
    )
    assert venues.name_for("ICLR Oral") == "ICLR"
    assert venues.name_for("iclr  (spotlight)") == "ICLR"
    assert venues.name_for("NIPS") == "NeurIPS"
    assert venues.name_for("NeurIPS Workshop on Efficient Natural Language Processing") == "NeurIPS Workshop"
    assert venues.name_for("ICLRX") is None  # a longer word is another venue
    assert venues.name_for("Journal of Imaginary Results") is None


def test_a_spelling_given_twice_is_an_error_at_the_second(kb):
    write(kb, "venues.yaml", VENUES + "  - name: NIPS Proceedings\n    kind: conference\n    aliases:\n      - nips\n")
    assert errors(kb) == ["venues.yaml:18:9: error: 'nips' is already a spelling of a venue on line 6"]


def test_without_venues_file_any_venue_is_taken_as_written(kb):
    (kb / "venues.yaml").unlink()
    write(kb, "papers/r2020.yaml", RECORD.format(id="r2020", title="A Title") + "venue: NIPS\n")
    assert [p for p in problems(kb) if "venue" in p] == []


def test_an_edit_of_venues_file_is_checked_again(kb):
    (kb / "venues.yaml").unlink()
    write(kb, "papers/r2020.yaml", RECORD.format(id="r2020", title="A Title") + "venue: NIPS\n")
    check(kb, input_hashes(kb))
    write(kb, "venues.yaml", VENUES)
    _, report = check(kb, input_hashes(kb))
    assert [p.message for p in report.warnings if "venues.yaml" in p.message]


def test_apply_writes_the_listed_name_full_name_and_entry_type(kb):
    write(kb, "venues.yaml", VENUES)
    findings = [
        {"id": "example2023quantizing", "field": "venue", "value": "TMLR", "page": "https://example.org/tmlr"},
        {"id": "example2023quantizing", "field": "year", "value": 2024, "page": "https://example.org/tmlr"},
    ]
    write(kb, "findings.jsonl", "".join(json.dumps(f) + "\n" for f in findings))
    result = CliRunner().invoke(main, ["apply", "--root", str(kb), str(kb / "findings.jsonl")])
    assert result.exit_code == 0, result.output
    entry = bibtexparser.parse_string((kb / "papers/references.bib").read_text()).entries_dict["example2023quantizing"]
    assert entry.entry_type == "article"
    assert entry["journal"] == "Transactions on Machine Learning Research"


def test_an_imported_spelling_becomes_the_listed_name(kb, tmp_path):
    bib = write(
        tmp_path,
        "in.bib",
        "@inproceedings{new2019, title={A New Imaginary Paper}, author={Sample, Bo}, year={2019},"
        " booktitle={Advances in Neural Information Processing Systems}}\n",
    )
    write(
        kb,
        "venues.yaml",
        VENUES.replace("      - NIPS\n", "      - NIPS\n      - Advances in Neural Information Processing Systems\n"),
    )
    result = CliRunner().invoke(main, ["import", "bib", "--root", str(kb), "--tag", "inference/quantization", str(bib)])
    assert result.exit_code == 0, result.output
    added = next(p for p in (kb / "papers").glob("*.yaml") if "A New Imaginary Paper" in p.read_text())
    assert "venue: NeurIPS\n" in added.read_text()
