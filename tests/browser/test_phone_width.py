"""At a phone's width (390 px) no page scrolls sideways: wide parts wrap or scroll in their own box."""

from __future__ import annotations

import shutil

import pytest
from playwright.sync_api import expect

from efflit.pipeline.build import build
from kbtools import FIXTURES, served

PHONE = {"width": 390, "height": 844}

# The longest things the real knowledge base holds, which the tiny one lacks: a venue name of
# 68 characters (an option of the table's venue filter) and a source page's URL of 400
# characters without a space (a paper page's "Source" list).
LONG_VENUE = "IEEE International Conference on Cybernetics and Intelligent Systems"
LONG_URL = "https://example.org/resource/e-article/?app=eds&query_string=" + "%2526sort%253Drelevance" * 16

# One page of each kind, and what to wait for before measuring: scripts add the table's
# filters and the search results, which are among the widest parts.
PAGES = {
    "home": ("", None),
    "paper": ("papers/example2023quantizing/", None),
    "dimension": ("topics/inference/", None),
    "topic": ("topics/inference/kv-cache/", None),
    "table": ("papers/", "#filters"),
    "search": ("search/?q=cache", ".pagefind-ui__result-link >> nth=0"),
    "authors": ("authors/", None),
    "author": ("authors/jorg-muller/", None),
    "venues": ("venues/", None),
    "venue": ("venues/neurips/", None),
    "years": ("years/", None),
    "year": ("years/2023/", None),
    "downloads": ("downloads/", None),
    "quality": ("quality/", None),
    "404": ("404.html", None),  # the test server answers a missing page with its own; ask for ours by name
}


@pytest.fixture(scope="module")
def wide_site_url(tmp_path_factory):
    """The tiny knowledge base with a long venue name and a long source URL, built and served."""
    root = tmp_path_factory.mktemp("phone") / "kb"
    shutil.copytree(FIXTURES / "tiny", root)
    venues = root / "venues.yaml"
    venues.write_text(venues.read_text() + f"  - name: {LONG_VENUE}\n    kind: conference\n")
    caching = root / "papers" / "caching2024.yaml"
    caching.write_text(caching.read_text().replace("year: 2024\n", f"year: 2024\nvenue: {LONG_VENUE}\n"))
    paper = root / "papers" / "example2023quantizing.yaml"
    paper.write_text(paper.read_text().replace("https://example.org/abs/2301.10010", LONG_URL))
    _, report = build(root)
    assert not report.errors, report.errors
    with served(root / "site") as url:
        yield url


@pytest.fixture
def phone(browser):
    context = browser.new_context(viewport=PHONE)
    yield context.new_page()
    context.close()


@pytest.mark.parametrize("kind", PAGES)
def test_no_page_scrolls_sideways_on_a_phone(phone, wide_site_url, kind):
    path, ready = PAGES[kind]
    assert phone.goto(wide_site_url + path).ok
    if ready:
        expect(phone.locator(ready)).to_be_visible()
    assert phone.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]


@pytest.mark.parametrize("width", [1280, 390], ids=["desktop", "phone"])
def test_table_and_paper_screenshots(browser, wide_site_url, artifacts, width):
    context = browser.new_context(viewport={"width": width, "height": 844})
    page = context.new_page()
    page.goto(wide_site_url + "papers/")
    expect(page.locator("#filters")).to_be_visible()
    page.screenshot(path=artifacts / f"table-{width}.png", full_page=True)
    page.goto(wide_site_url + "papers/example2023quantizing/")
    page.screenshot(path=artifacts / f"paper-long-url-{width}.png", full_page=True)
    context.close()
