"""`efflit apply`: checked facts, as data, applied to records and references.bib by one writer."""

from __future__ import annotations

import json

import bibtexparser
import yaml
from click.testing import CliRunner

from efflit.cli import main
from kbtools import errors, problems, write

PAGE = "https://example.org/abs/caching"


def apply(kb, *rows):
    write(kb, "findings.jsonl", "".join(json.dumps(row) + "\n" for row in rows))
    return CliRunner().invoke(main, ["apply", "--root", str(kb), str(kb / "findings.jsonl")])


def record(kb, record_id):
    return yaml.safe_load((kb / f"papers/{record_id}.yaml").read_text(encoding="utf-8"))


def entries(kb):
    return bibtexparser.parse_string((kb / "papers/references.bib").read_text(encoding="utf-8")).entries_dict


def test_facts_fill_the_record_name_their_page_and_remake_its_entry(kb):
    result = apply(
        kb,
        {"id": "caching2024", "field": "authors", "value": ["Lia Cache", "Bo Sample"], "page": PAGE},
        {"id": "caching2024", "field": "venue", "value": "ICLR", "page": PAGE},
        {"id": "caching2024", "field": "summary", "value": "Keeps 2x fewer keys.", "page": PAGE},
    )
    assert result.exit_code == 0, result.output
    assert "caching2024: changed: authors, summary, venue; renamed to cache2024caching" in result.output
    # Without authors its id was made from the title: now it gets the conventional one, and the old
    # address stays an alias.
    assert not (kb / "papers/caching2024.yaml").exists()
    data = record(kb, "cache2024caching")
    assert data["authors"] == ["Lia Cache", "Bo Sample"] and data["venue"] == "ICLR"
    assert data["aliases"] == ["caching2024"]
    assert data["source"][-1] == {"page": PAGE, "facts": ["authors", "venue", "summary"]}
    entry = entries(kb)["cache2024caching"]
    assert entry.entry_type == "inproceedings"
    assert entry["booktitle"] == "International Conference on Learning Representations"
    assert entry["author"] == "Lia Cache and Bo Sample"
    assert "caching2024" not in entries(kb)
    assert errors(kb) == []


def test_a_paper_out_of_scope_leaves_with_its_entry(kb):
    result = apply(kb, {"id": "caching2024", "field": "scope", "value": "out", "why": "not about efficiency"})
    assert result.exit_code == 0, result.output
    assert not (kb / "papers/caching2024.yaml").exists() and "caching2024" not in entries(kb)
    assert errors(kb) == []


def test_a_duplicate_is_merged_into_one_record_with_both_sources(kb):
    write(
        kb,
        "papers/muller2022attentionb.yaml",
        (kb / "papers/muller2022attention.yaml")
        .read_text()
        .replace("id: muller2022attention", "id: muller2022attentionb")
        .replace("arxiv: hep-th/9901001\n", "")
        .replace("venue: arXiv", "venue: ACL")
        .replace("section: Efficient Attention", "section: Other"),
    )
    with (kb / "papers/references.bib").open("a") as bib:
        bib.write(
            "\n@misc{muller2022attentionb, title={Attention at a Discount}, author={Müller, Jörg}, year={2022}}\n"
        )
    result = apply(kb, {"id": "muller2022attentionb", "field": "duplicate", "value": "muller2022attention"})
    assert result.exit_code == 0, result.output
    assert not (kb / "papers/muller2022attentionb.yaml").exists() and "muller2022attentionb" not in entries(kb)
    data = record(kb, "muller2022attention")
    assert data["venue"] == "ACL"  # the published version's
    assert data["aliases"] == ["muller2022attentionb"]
    assert [s["section"] for s in data["source"]] == ["Efficient Attention", "Other"]
    assert [p for p in problems(kb) if "nearly the same" in p] == []


def test_a_new_paper_is_added_with_its_page(kb):
    paper = {
        "new": True,
        "title": "Scaling Tiny Things",
        "authors": ["Ada Law"],
        "year": 2020,
        "arxiv": "2001.08361",
        "tags": ["inference/quantization"],
        "page": "https://example.org/abs/2001.08361",
        "summary": "Laws.",
    }
    assert apply(kb, paper).exit_code == 0
    data = record(kb, "law2020scaling")
    assert data["source"] == [
        {"page": paper["page"], "facts": ["title", "authors", "year", "arxiv", "tags", "summary"]}
    ]
    assert errors(kb) == []


def test_a_line_that_is_no_finding_is_reported_at_its_place_and_nothing_is_written(kb):
    before = (kb / "papers/references.bib").read_text()
    result = apply(
        kb, {"id": "caching2024", "field": "authors", "value": ["A B"], "page": PAGE}, {"id": "x", "field": "colour"}
    )
    assert result.exit_code == 1
    assert f"{kb / 'findings.jsonl'}:2:1: error: not a finding" in result.output
    assert "Traceback" not in result.output
    assert (kb / "papers/caching2024.yaml").exists() and (kb / "papers/references.bib").read_text() == before


def test_decisions_are_kept_for_later_imports(kb):
    apply(
        kb,
        {"id": "caching2024", "field": "scope", "value": "out", "why": "background"},
        {"id": "muller2022attention", "field": "title", "value": "Attention, Discounted", "page": PAGE},
        {"id": "muller2022attention", "field": "arxiv", "value": "2301.00002", "page": PAGE},
    )
    decisions = yaml.safe_load((kb / "sources/decisions.yaml").read_text(encoding="utf-8"))
    assert decisions["out_of_scope"] == [{"title": "Caching Keys Without Authors", "why": "background"}]
    assert decisions["former_titles"] == {"Attention at a Discount": "muller2022attention"}
    assert decisions["former_arxiv"] == {"hep-th/9901001": "muller2022attention"}


def test_tags_judged_from_the_abstract_rest_on_its_page(kb):
    apply(
        kb,
        {"id": "muller2022attention", "field": "summary", "value": "Cheaper.", "page": PAGE},
        {"id": "muller2022attention", "field": "tags", "value": ["inference/kv-cache"], "why": "a cache paper"},
    )
    assert record(kb, "muller2022attention")["source"][-1] == {"page": PAGE, "facts": ["tags", "summary"]}


def test_a_search_that_found_no_authors_goes_on_record_and_stops_the_warning(kb):
    assert [p for p in problems(kb) if "list no authors" in p or "lists no authors" in p]
    searched = "arXiv and OpenReview by title: no page lists the authors"
    result = apply(kb, {"id": "caching2024", "field": "unresolved", "value": searched})
    assert result.exit_code == 0, result.output
    assert record(kb, "caching2024")["not_found"] == {"authors": searched}
    assert not [p for p in problems(kb) if "no authors" in p]
    # Found later after all: the note of the search goes.
    apply(kb, {"id": "caching2024", "field": "authors", "value": ["Lia Cache"], "page": PAGE})
    assert "not_found" not in record(kb, "cache2024caching")
    assert errors(kb) == []
