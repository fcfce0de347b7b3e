"""The built site, read back as a user and a tool would: parsed HTML, parsed downloads."""

from __future__ import annotations

import json
import pickle
import shutil
import xml.etree.ElementTree as ET
from pathlib import Path

import bibtexparser
import jsonschema
import pytest
from bs4 import BeautifulSoup

from efflit.kb.problems import Position
from efflit.kb.project import Options
from efflit.pipeline.build import build
from efflit.site.render import TemplateFailure
from efflit.site.sitecheck import check_site
from kbtools import FIXTURES

BASE = "https://kb.example.org/efflit/"
ATOM = "{http://www.w3.org/2005/Atom}"


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("render") / "kb"
    shutil.copytree(FIXTURES / "tiny", root)
    _, report = build(root, options=Options(base_url=BASE))
    assert not report.errors, report.errors
    return root / "site"


def page(site: Path, path: str) -> BeautifulSoup:
    return BeautifulSoup((site / path).read_text(encoding="utf-8"), "html.parser")


def test_home_shows_the_map_counts_chart_and_recent_papers(site):
    home = page(site, "index.html")
    dimensions = [a.get_text() for a in home.select(".map .dimension h3 a")]
    assert dimensions == ["Inference efficiency", "Architecture efficiency"]
    counts = {a.get_text(): a.find_next("span").get_text() for a in home.select(".map li > a")}
    assert counts == {"Quantization": "1", "KV cache": "2", "Efficient attention": "1"}
    assert home.select_one(".map abbr.ext")  # the extension node says it is not from the survey
    assert len(home.select(".chart svg rect")) == 4  # 2022 attention+inference, 2023, 2024
    assert [a.get_text() for a in home.select(".card .title")][0] == "Quantizing Imaginary Models: A Test Record"


def test_node_page_has_breadcrumbs_description_subnodes_and_papers_newest_first(site):
    node = page(site, "topics/inference/index.html")
    assert [a.get_text() for a in node.select(".breadcrumbs a")] == ["Home"]
    assert node.h1.get_text() == "Inference efficiency"
    assert [a.get_text() for a in node.select(".subnodes a")] == ["Quantization", "KV cache"]
    newest_first = node.find("h2", string="Papers, newest first").find_next("ol")
    assert [c.select_one(".title").get_text() for c in newest_first.select(".card")] == [
        "Caching Keys Without Authors",
        "Quantizing Imaginary Models: A Test Record",
        "Attention at a Discount",
    ]
    leaf = page(site, "topics/inference/kv-cache/index.html")
    assert [a.get_text() for a in leaf.select(".breadcrumbs a")] == ["Home", "Inference efficiency"]
    assert "not in the survey" in leaf.select_one(".origin").get_text()


def test_paper_page_has_everything_a_reader_needs(site):
    paper = page(site, "papers/example2023quantizing/index.html")
    assert paper.h1.get_text() == "Quantizing Imaginary Models: A Test Record"
    assert [a["href"] for a in paper.select(".byline a")] == ["../../authors/ada-example/", "../../authors/bo-sample/"]
    assert {a.get_text(): a["href"] for a in paper.select(".links a")} == {
        "arXiv": "https://arxiv.org/abs/2301.10010",
        "PDF": "https://arxiv.org/pdf/2301.10010",
        "Code": "https://example.org/code/quantizing",
    }
    assert paper.select_one(".summary em").get_text() == "fabricated"
    assert paper.select_one("#bibtex").get_text().startswith("@inproceedings{example2023quantizing,")
    assert paper.select_one("button.copy")
    assert "efflit test suite" in paper.select_one("#source").find_next("ul").get_text()
    assert paper.find("a", string="Edit this record")["href"] == (
        "https://github.com/example/kb/edit/main/papers/example2023quantizing.yaml"
    )
    meta = {m.get("name") or m.get("property"): m["content"] for m in paper.find_all("meta") if m.get("content")}
    assert meta["citation_title"] == "Quantizing Imaginary Models: A Test Record"
    assert [m["content"] for m in paper.find_all("meta", attrs={"name": "citation_author"})] == [
        "Ada Example",
        "Bo Sample",
    ]
    assert meta["citation_arxiv_id"] == "2301.10010"
    assert meta["og:url"] == BASE + "papers/example2023quantizing/"


def test_related_papers_share_tags_or_authors(site):
    paper = page(site, "papers/caching2024/index.html")
    assert [a.get_text() for a in paper.select("#related ~ .papers .title")] == ["Attention at a Discount"]


def test_incomplete_record_says_so(site):
    assert "incomplete" in page(site, "papers/caching2024/index.html").select_one(".byline").get_text()


def test_author_year_and_venue_pages(site):
    assert page(site, "authors/jorg-muller/index.html").h1.get_text() == "Jörg Müller"
    assert [a.get_text() for a in page(site, "years/index.html").select(".groups a")] == ["2024", "2023", "2022"]
    venue = page(site, "venues/neurips/index.html")
    assert [c.select_one(".title").get_text() for c in venue.select(".card")] == [
        "Quantizing Imaginary Models: A Test Record"
    ]


def test_table_has_a_row_per_paper_with_filter_data(site):
    table = page(site, "papers/index.html")
    rows = table.select("#papers tbody tr")
    assert len(rows) == 3
    assert rows[0]["data-tags"] == "inference inference/kv-cache"
    assert table.select_one("#filters")  # shown by table.js; the table itself works without scripts


def test_search_page_loads_pagefind(site):
    search = page(site, "search/index.html")
    assert search.select_one("#search")["data-bundle"] == "../pagefind/"
    assert (site / "pagefind/pagefind.js").is_file() and (site / "pagefind/pagefind-ui.js").is_file()


def test_every_internal_link_and_fragment_resolves_and_every_page_is_reachable(site):
    assert [str(p) for p in check_site(site, base_path="/efflit/")[0].problems] == []


def test_bibtex_downloads_parse_with_the_same_entries(site):
    library = bibtexparser.parse_string((site / "downloads/efflit.bib").read_text(encoding="utf-8"))
    assert library.failed_blocks == []
    assert sorted(e.key for e in library.entries) == ["caching2024", "example2023quantizing", "muller2022attention"]
    node = bibtexparser.parse_string((site / "downloads/topics/inference--kv-cache.bib").read_text(encoding="utf-8"))
    assert sorted(e.key for e in node.entries) == ["caching2024", "muller2022attention"]


def test_json_download_validates_against_its_published_schema(site):
    papers = json.loads((site / "downloads/papers.json").read_text(encoding="utf-8"))
    schema = json.loads((site / "downloads/papers.schema.json").read_text(encoding="utf-8"))
    jsonschema.validate(papers, schema)
    assert {p["id"] for p in papers} == {"caching2024", "example2023quantizing", "muller2022attention"}


def test_json_downloads_are_indented_for_reading(site):
    # Each record's items are kept between builds as text and joined: the file must still read as
    # one document laid out throughout, as a JSON encoder lays it out.
    for name in ("papers.json", "papers.csl.json"):
        text = (site / "downloads" / name).read_text(encoding="utf-8")
        assert text == json.dumps(json.loads(text), indent=2, ensure_ascii=False)


def test_csl_json_is_what_zotero_reads(site):
    items = {i["id"]: i for i in json.loads((site / "downloads/papers.csl.json").read_text(encoding="utf-8"))}
    assert items["muller2022attention"]["author"] == [{"family": "Müller", "given": "Jörg"}]
    assert items["example2023quantizing"]["type"] == "paper-conference"
    assert items["example2023quantizing"]["issued"] == {"date-parts": [[2023]]}


def test_feed_sitemap_and_robots(site):
    feed = ET.parse(site / "feed.xml").getroot()
    assert atom_problems(feed) == []
    titles = [e.find(f"{ATOM}title").text for e in feed.findall(f"{ATOM}entry")]
    assert titles[0] == "Quantizing Imaginary Models: A Test Record"  # most recently added first
    urls = [
        u.text
        for u in ET.parse(site / "sitemap.xml").getroot().iter("{http://www.sitemaps.org/schemas/sitemap/0.9}loc")
    ]
    assert BASE + "papers/caching2024/" in urls and BASE in urls
    assert f"Sitemap: {BASE}sitemap.xml" in (site / "robots.txt").read_text()


def atom_problems(feed: ET.Element) -> list[str]:
    """What RFC 4287 requires of a feed and its entries, and is missing: an id, a title, an updated
    time; an author for each entry; a self link."""
    problems = [f"feed lacks {name}" for name in ("id", "title", "updated") if feed.find(ATOM + name) is None]
    if not any(link.get("rel") == "self" for link in feed.findall(ATOM + "link")):
        problems.append("feed lacks a self link")
    for entry in feed.findall(ATOM + "entry"):
        required = ("id", "title", "updated", "author", "link")
        problems += [f"entry lacks {name}" for name in required if entry.find(ATOM + name) is None]
    return problems


def test_each_node_has_a_valid_feed_of_its_own_papers_linked_from_its_page(site):
    feed = ET.parse(site / "topics/inference/quantization/feed.xml").getroot()
    assert atom_problems(feed) == []
    assert feed.find(ATOM + "title").text.endswith(": new papers in Quantization")
    assert [e.find(ATOM + "title").text for e in feed.findall(ATOM + "entry")] == [
        "Quantizing Imaginary Models: A Test Record"
    ]
    assert {link.get("rel"): link.get("href") for link in feed.findall(ATOM + "link")} == {
        "alternate": BASE + "topics/inference/quantization/",
        "self": BASE + "topics/inference/quantization/feed.xml",
    }
    parent = ET.parse(site / "topics/inference/feed.xml").getroot()  # a node's feed holds its children's papers
    assert len(parent.findall(ATOM + "entry")) == 3
    head = page(site, "topics/inference/quantization/index.html").find_all("link", rel="alternate")
    assert [link["href"] for link in head] == ["../../../feed.xml", "../../../topics/inference/quantization/feed.xml"]


def test_paper_page_is_light(site):
    weight = (site / "papers/example2023quantizing/index.html").stat().st_size + (
        site / "static/style.css"
    ).stat().st_size
    assert weight < 30_000


def test_every_page_forbids_inline_scripts(site):
    for path in site.rglob("*.html"):
        csp = page(site, str(path.relative_to(site))).find("meta", attrs={"http-equiv": "Content-Security-Policy"})
        assert "script-src 'self'" in csp["content"] and "unsafe-inline" not in csp["content"]


PAYLOAD = "<script>alert(1)</script><img src=x onerror=alert(2)>\"'><svg onload=alert(3)>"


def test_script_payloads_in_every_text_field_render_as_inert_text(tmp_path):
    root = tmp_path / "kb"
    shutil.copytree(FIXTURES / "tiny", root)
    (root / "papers/evil2023.yaml").write_text(
        f"""id: evil2023
title: {json.dumps("Evil " + PAYLOAD)}
authors:
  - {json.dumps("Mallory " + PAYLOAD)}
year: 2023
venue: {json.dumps("Venue " + PAYLOAD)}
url: https://example.org/?q=<script>
tags:
  - inference/quantization
summary: {json.dumps("[click](javascript:alert(4)) ![x](data:text/html,<script>alert(5)</script>) " + PAYLOAD + " {: onclick=alert(6) }")}
source:
  - list: {json.dumps("a/b" + PAYLOAD)}
    section: {json.dumps(PAYLOAD)}
added: 2026-11-25
""",
        encoding="utf-8",
    )
    with (root / "papers/references.bib").open("a", encoding="utf-8") as bib:
        bib.write(f"\n@misc{{evil2023, title = {{Evil {PAYLOAD}}}, author = {{Mallory {PAYLOAD}}}, year = {{2023}}}}\n")
    _, report = build(root)
    assert not report.errors, report.errors
    site = root / "site"
    ours = {"static/copy.js", "static/table.js", "static/search.js", "pagefind/pagefind-ui.js"}
    for path in site.rglob("*.html"):
        soup = page(site, str(path.relative_to(site)))
        for script in soup.find_all("script"):
            assert script.get("src", "").lstrip("./") in ours, (path, script)
        for tag in soup.find_all(True):
            assert not [a for a in tag.attrs if a.lower().startswith("on")], (path, tag)
            for attribute in ("href", "src"):
                assert not tag.get(attribute, "").lower().startswith(("javascript:", "data:")), (path, tag)
        assert not soup.find(["img", "svg"], attrs={"src": "x"})
    evil = page(site, "papers/evil2023/index.html")
    assert evil.h1.get_text() == "Evil " + PAYLOAD  # shown as the text it is


def test_a_template_failure_survives_the_way_back_from_a_worker():
    failure = pickle.loads(pickle.dumps(TemplateFailure(Position("templates/x.html", 3), "boom")))
    assert (failure.position, failure.message, str(failure)) == (Position("templates/x.html", 3), "boom", "boom")


def test_paper_page_names_the_page_each_fact_was_checked_on(site):
    sources = page(site, "papers/example2023quantizing/index.html").select_one("#source").find_next("ul")
    checked = sources.find("a", href="https://example.org/abs/2301.10010")
    assert checked.get_text() == "example.org/abs/2301.10010"
    assert "checked there: authors, venue" in checked.parent.get_text()


def test_an_old_id_redirects_to_the_paper_and_stays_out_of_sitemap_and_search(site):
    old = page(site, "papers/quantizing2023imaginary/index.html")
    assert old.find("meta", attrs={"http-equiv": "refresh"})["content"] == "0; url=../../papers/example2023quantizing/"
    assert old.find("meta", attrs={"name": "robots"})["content"] == "noindex"
    assert old.select_one("main a[rel=canonical]")["href"] == "../../papers/example2023quantizing/"
    assert old.find(attrs={"data-pagefind-body": True}) is None  # the search indexes paper pages only
    assert "quantizing2023imaginary" not in (site / "sitemap.xml").read_text()


def test_a_node_page_starts_with_the_papers_that_define_it(site):
    node = page(site, "topics/inference/kv-cache/index.html")
    assert [a.get_text() for a in node.select(".start-here .card .title")] == ["Attention at a Discount"]
    assert node.select_one(".start-here .defining").get_text() == "start here"
    assert node.select_one("#start-here").find_next("h2").get_text() != "Start here"  # then every paper
    assert len(page(site, "topics/inference/quantization/index.html").select(".start-here")) == 0


def test_paper_page_says_what_was_searched_for_in_vain(tmp_path):
    root = tmp_path / "kb"
    shutil.copytree(FIXTURES / "tiny", root)
    record = root / "papers/caching2024.yaml"
    record.write_text(record.read_text() + "not_found:\n  authors: arXiv and DBLP by title, 2026-12\n")
    _, report = build(root, options=Options(base_url=BASE))
    assert not report.errors and not [p for p in report.warnings if "no authors" in p.message]
    note = page(root / "site", "papers/caching2024/index.html").select_one(".not-found")
    assert note.get_text(" ", strip=True) == "Searched for and not found: authors (arXiv and DBLP by title, 2026-12)."


def test_templates_compiled_by_an_earlier_run_are_taken_up_only_for_their_own_source(tmp_path, monkeypatch):
    import tempfile

    import jinja2

    from efflit.site import render

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))  # where Jinja makes its cache folder
    templates = tmp_path / "templates"
    templates.mkdir()
    (templates / "page.html").write_text("first {{ x }}")

    def rendered_by_a_new_run() -> str:
        compiled = render._CompiledTemplates()  # as a new process starts: nothing in memory
        env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(templates)), bytecode_cache=compiled)
        return env.get_template("page.html").render(x=1)

    assert rendered_by_a_new_run() == "first 1"
    [kept] = tmp_path.glob("_jinja2-cache-*/*.cache")
    assert rendered_by_a_new_run() == "first 1"
    (templates / "page.html").write_text("second {{ x }}")
    assert rendered_by_a_new_run() == "second 1"
    assert kept.stat().st_mode & 0o077 == 0 and (kept.parent.stat().st_mode & 0o777) == 0o700  # the user's alone
