"""The metrics file on the site: cited-by counts and stars on cards, paper pages and the table; an
archived or long-quiet repository marked; a poisoned file reported and left out."""

from __future__ import annotations

import json
import shutil

from bs4 import BeautifulSoup

from efflit.kb.project import Options
from efflit.pipeline.build import build
from kbtools import FIXTURES, write

METRICS = {
    "date": "2026-12-01",
    "papers": {"example2023quantizing": {"cited_by": 42}, "muller2022attention": {"cited_by": 7}},
    "code": {"https://example.org/code/quantizing": {"stars": 1234, "pushed": "2023-01-01", "archived": False}},
}


def built(tmp_path, metrics):
    root = tmp_path / "kb"
    if not root.exists():
        shutil.copytree(FIXTURES / "tiny", root)
    write(root, "data/metrics.json", metrics if isinstance(metrics, str) else json.dumps(metrics))
    _, report = build(root, options=Options(base_url="https://example.org/kb/"))
    return root / "site", report


def page(site, path):
    return BeautifulSoup((site / path).read_text(encoding="utf-8"), "html.parser")


def test_cards_and_paper_pages_show_cited_by_stars_and_a_quiet_repository(tmp_path):
    site, report = built(tmp_path, METRICS)
    assert not report.errors and not [p for p in report.warnings if "metrics" in p.message], report.problems
    paper = page(site, "papers/example2023quantizing/index.html")
    assert paper.select_one(".venue .cited").get_text() == "cited by 42"
    assert paper.select_one(".venue .stars").get_text() == "★ 1234"
    assert paper.select_one(".venue .quiet").get_text() == "no push since 2023"
    card = page(site, "topics/inference/quantization/index.html").select_one(".card .byline")
    assert card.select_one(".cited").get_text() == "cited by 42"


def test_an_archived_repository_is_marked(tmp_path):
    archived = json.loads(json.dumps(METRICS))
    archived["code"]["https://example.org/code/quantizing"]["archived"] = True
    site, _ = built(tmp_path, archived)
    assert page(site, "papers/example2023quantizing/index.html").select_one(".venue .quiet").get_text() == "archived"


def test_the_table_gains_sortable_columns_of_citations_and_stars(tmp_path):
    site, _ = built(tmp_path, METRICS)
    table = page(site, "papers/index.html").select_one("#papers")
    headers = [th.get_text(strip=True) for th in table.select("thead th")]
    assert headers[-2:] == ["Cited by", "Stars"]
    assert [b["data-sort"] for b in table.select("thead th[data-numeric] button")] == ["cited", "stars"]
    cells = {row.a.get_text(): [td.get_text() for td in row.select("td.number")] for row in table.select("tbody tr")}
    assert cells["Quantizing Imaginary Models: A Test Record"] == ["42", "1234"]
    assert cells["Caching Keys Without Authors"] == ["", ""]


def test_new_figures_are_shown_by_the_next_incremental_build(tmp_path):
    built(tmp_path, METRICS)
    fresher = json.loads(json.dumps(METRICS))
    fresher["papers"]["example2023quantizing"]["cited_by"] = 43
    site, _ = built(tmp_path, fresher)
    assert page(site, "papers/example2023quantizing/index.html").select_one(".cited").get_text() == "cited by 43"
    assert "cited by 43" in (site / "topics/inference/quantization/index.html").read_text()


def test_a_poisoned_metrics_file_is_reported_and_left_out(tmp_path):
    poisoned = json.loads(json.dumps(METRICS))
    poisoned["papers"]["example2023quantizing"]["cited_by"] = "<script>alert(1)</script>"
    site, report = built(tmp_path, poisoned)
    assert not report.errors
    (warning,) = [p for p in report.warnings if p.message.startswith("metrics are not used")]
    assert warning.position.path == "data/metrics.json" and "cited_by" in warning.message
    paper = page(site, "papers/example2023quantizing/index.html")
    assert paper.select_one(".cited") is None and "<script>alert" not in str(paper)


def test_without_a_metrics_file_the_table_has_no_such_columns(tmp_path):
    site, _ = built(tmp_path, METRICS)
    (tmp_path / "kb/data/metrics.json").unlink()
    build(tmp_path / "kb", options=Options(base_url="https://example.org/kb/"))
    headers = [th.get_text(strip=True) for th in page(site, "papers/index.html").select("#papers thead th")]
    assert (
        "Cited by" not in headers and page(site, "papers/example2023quantizing/index.html").select_one(".cited") is None
    )


CITING = {
    "date": "2026-12-01",
    "papers": {
        "example2023quantizing": {"cited_by": 42, "cites": ["muller2022attention", "gone2020paper"]},
        "caching2024": {"cited_by": 1, "cites": ["muller2022attention"]},
        "muller2022attention": {"cited_by": 7},
    },
}


def titles(section):
    return [a.get_text() for a in section.select(".card a.title")] if section else []


def test_a_paper_page_lists_what_it_builds_on_and_what_builds_upon_it(tmp_path):
    site, report = built(tmp_path, CITING)
    assert not report.errors
    quantizing = page(site, "papers/example2023quantizing/index.html")
    assert titles(quantizing.select_one("section[aria-labelledby=builds-on]")) == ["Attention at a Discount"]
    assert quantizing.select_one("section[aria-labelledby=built-upon-by]") is None
    attention = page(site, "papers/muller2022attention/index.html")
    assert titles(attention.select_one("section[aria-labelledby=built-upon-by]")) == [
        "Caching Keys Without Authors",  # newest first
        "Quantizing Imaginary Models: A Test Record",
    ]
    assert attention.select_one("#built-upon-by .count").get_text() == "2"


def test_a_node_page_shows_its_papers_most_cited_by_the_map(tmp_path):
    site, _ = built(tmp_path, CITING)
    cited = page(site, "topics/inference/kv-cache/index.html").select("section.most-cited li")
    assert [li.get_text(" ", strip=True) for li in cited] == ["Attention at a Discount (2022) cited by 2 papers here"]
    assert page(site, "topics/inference/quantization/index.html").select_one("section.most-cited") is None


def test_without_references_there_are_no_such_sections(tmp_path):
    site, _ = built(tmp_path, METRICS)
    attention = page(site, "papers/muller2022attention/index.html")
    assert attention.select_one("#builds-on") is None and attention.select_one("#built-upon-by") is None
    assert page(site, "topics/inference/kv-cache/index.html").select_one("section.most-cited") is None


def test_references_that_change_are_shown_by_the_next_incremental_build(tmp_path):
    built(tmp_path, CITING)
    fewer = json.loads(json.dumps(CITING))
    fewer["papers"]["caching2024"]["cites"] = []
    site, _ = built(tmp_path, fewer)
    attention = page(site, "papers/muller2022attention/index.html")
    assert titles(attention.select_one("section[aria-labelledby=built-upon-by]")) == [
        "Quantizing Imaginary Models: A Test Record"
    ]
    assert "cited by 1 paper here" in page(site, "topics/inference/kv-cache/index.html").get_text(" ")
