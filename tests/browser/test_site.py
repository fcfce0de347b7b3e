"""The site as a reader uses it, in Chromium: clicks, search, filters, copy, accessibility."""

from __future__ import annotations

import re
import shutil
import time
import xml.etree.ElementTree as ET

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import expect

from efflit.serve import DevServer
from kbtools import FIXTURES

ATOM = "{http://www.w3.org/2005/Atom}"


def test_home_to_a_dimension_to_a_paper_by_clicks(page, site_url):
    page.goto(site_url)
    page.get_by_role("link", name="Inference efficiency").first.click()
    expect(page).to_have_url(re.compile(r"/topics/inference/$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Inference efficiency")
    page.get_by_role("link", name="Quantizing Imaginary Models: A Test Record").click()
    expect(page).to_have_url(re.compile(r"/papers/example2023quantizing/$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Quantizing Imaginary Models: A Test Record")


def search(page, site_url, words: str):
    page.goto(site_url + "search/")
    page.locator(".pagefind-ui__search-input").fill(words)
    return page.locator(".pagefind-ui__result-link")


def test_search_finds_a_paper_by_a_title_word(page, site_url):
    results = search(page, site_url, "imaginary")
    expect(results).to_have_count(1)
    expect(results.first).to_have_text("Quantizing Imaginary Models: A Test Record")
    results.first.click()
    expect(page).to_have_url(re.compile(r"/papers/example2023quantizing/$"))


def test_search_finds_a_paper_by_an_author(page, site_url):
    results = search(page, site_url, "Müller")
    expect(results).to_have_count(1)
    expect(results.first).to_have_text("Attention at a Discount")


def test_a_facet_narrows_the_results(page, site_url):
    results = search(page, site_url, "cache")  # two papers carry the topic "KV cache"
    expect(results).to_have_count(2)
    expect(page.get_by_text("Dimension", exact=True)).to_be_visible()
    expect(page.get_by_text("Topic", exact=True)).to_be_visible()
    # Open the year facet (a <details>): a click could also close it when the UI opened it already.
    page.locator("details", has=page.get_by_text("Year", exact=True)).evaluate("facet => { facet.open = true; }")
    page.get_by_label("2024").check()
    expect(results).to_have_text(["Caching Keys Without Authors"])


def test_home_search_box_hands_the_query_to_the_search_page(page, site_url):
    page.goto(site_url)
    page.get_by_label("Search papers").fill("discount")
    page.get_by_role("button", name="Search").click()
    expect(page.locator(".pagefind-ui__result-link")).to_have_text(["Attention at a Discount"])


def test_table_filter_narrows_and_the_url_restores_it(page, site_url):
    page.goto(site_url + "papers/")
    rows = page.locator("#papers tbody tr:visible")
    expect(rows).to_have_count(3)
    page.get_by_label("Topic").select_option(label="KV cache")
    expect(rows).to_have_count(2)
    page.get_by_label("has code").check()
    expect(rows).to_have_count(0)
    page.get_by_label("has code").uncheck()
    page.get_by_label("Text").fill("caching")
    expect(rows).to_have_count(1)
    shared = page.url
    assert "tag=inference%2Fkv-cache" in shared and "q=caching" in shared
    page.goto(site_url)
    page.goto(shared)
    expect(rows).to_have_count(1)
    expect(page.get_by_label("Topic")).to_have_value("inference/kv-cache")
    expect(page.get_by_label("Text")).to_have_value("caching")
    page.get_by_role("button", name="Year").click()
    expect(page.locator("th[aria-sort=ascending]")).to_have_text("Year")


def test_bibtex_copy_button_puts_the_entry_on_the_clipboard(page, site_url):
    page.goto(site_url + "papers/muller2022attention/")
    page.get_by_role("button", name="Copy BibTeX").click()
    expect(page.get_by_role("status").filter(has_text="Copied")).to_be_visible()
    copied = page.evaluate("navigator.clipboard.readText()")
    assert copied.startswith("@article{muller2022attention,") and copied.rstrip().endswith("}")


def test_a_topic_page_offers_a_feed_of_that_topic_alone(page, site_url):
    page.goto(site_url + "topics/inference/quantization/")
    alternate = page.locator('link[rel=alternate][title="New papers in Quantization"]')
    answer = page.request.get(alternate.evaluate("link => link.href"))
    assert answer.ok and answer.headers["content-type"].startswith(("application/xml", "text/xml", "application/atom"))
    feed = ET.fromstring(answer.body())
    entries = [e.find(ATOM + "title").text for e in feed.iter(ATOM + "entry")]
    assert entries == ["Quantizing Imaginary Models: A Test Record"]
    visible = page.get_by_role("link", name="Atom feed of this topic")
    assert visible.evaluate("link => link.href") == alternate.evaluate("link => link.href")


def test_keyboard_reaches_the_content_through_the_skip_link(page, site_url):
    page.goto(site_url)
    page.keyboard.press("Tab")
    expect(page.get_by_role("link", name="Skip to content")).to_be_focused()


@pytest.mark.parametrize(
    "path", ["", "topics/inference/", "papers/example2023quantizing/", "papers/", "search/", "quality/"]
)
def test_no_serious_accessibility_violations(page, site_url, path):
    page.goto(site_url + path)
    violations = Axe().run(page).response["violations"]
    serious = [
        (v["id"], v["impact"], [n["target"] for n in v["nodes"]])
        for v in violations
        if v["impact"] in ("serious", "critical")
    ]
    assert serious == []


@pytest.mark.parametrize("width", [1280, 390], ids=["desktop", "phone"])
def test_screenshots(page, site_url, artifacts, width):
    page.set_viewport_size({"width": width, "height": 900})
    for name, path in [("home", ""), ("node", "topics/inference/"), ("paper", "papers/example2023quantizing/")]:
        page.goto(site_url + path)
        page.screenshot(path=artifacts / f"{name}-{width}.png", full_page=True)
    search(page, site_url, "attention")
    expect(page.locator(".pagefind-ui__result-link").first).to_be_visible()
    page.screenshot(path=artifacts / f"search-{width}.png", full_page=True)


def until(condition, seconds: float = 15) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "waited in vain"
        time.sleep(0.02)


def test_serve_reloads_the_open_page_after_an_edit(browser, tmp_path):
    root = tmp_path / "kb"
    shutil.copytree(FIXTURES / "tiny", root)
    builds = []
    server = DevServer(root, root / "site", 0, on_build=builds.append)
    server.start()
    try:
        page = browser.new_page()
        page.goto(server.url + "papers/muller2022attention/")
        expect(page.get_by_role("heading", level=1)).to_have_text("Attention at a Discount")
        until(lambda: server.browsers.open_pages() == {"papers/muller2022attention/index.html"})
        for name in ("papers/muller2022attention.yaml", "papers/references.bib"):
            path = root / name
            path.write_text(path.read_text().replace("a {D}iscount", "a {B}argain").replace("a Discount", "a Bargain"))
        expect(page.get_by_role("heading", level=1)).to_have_text("Attention at a Bargain", timeout=15000)
        # The page was shown the edit ahead of the whole build.
        until(lambda: any("open pages shown" in report.timings for report in builds[1:]))
        page.close()
    finally:
        server.stop()
