"""The metrics file in Chromium: the table of all papers sorts by cited-by counts and stars; paper
pages lead to the papers they build on and that build upon them."""

from __future__ import annotations

import json
import shutil

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import expect

from efflit.pipeline.build import build
from kbtools import FIXTURES, served, write

METRICS = {
    "date": "2026-12-01",
    "papers": {
        "example2023quantizing": {"cited_by": 42, "cites": ["muller2022attention"]},
        "muller2022attention": {"cited_by": 7},
    },
    "code": {"https://example.org/code/quantizing": {"stars": 1234, "archived": True}},
}


@pytest.fixture(scope="module")
def metrics_site(tmp_path_factory):
    root = tmp_path_factory.mktemp("metrics") / "kb"
    shutil.copytree(FIXTURES / "tiny", root)
    write(root, "data/metrics.json", json.dumps(METRICS))
    _, report = build(root)
    assert not report.errors, report.errors
    with served(root / "site") as url:
        yield url


def test_the_table_sorts_by_citations_and_by_stars(browser, metrics_site):
    page = browser.new_page()
    page.goto(metrics_site + "papers/")
    titles = page.locator("#papers tbody tr td:first-child")
    page.get_by_role("button", name="Cited by").click()  # ascending: unknown counts first
    expect(titles).to_have_text(
        ["Caching Keys Without Authors", "Attention at a Discount", "Quantizing Imaginary Models: A Test Record"]
    )
    page.get_by_role("button", name="Cited by").click()
    expect(page.locator("th[aria-sort=descending]")).to_have_text("Cited by")
    expect(titles.first).to_have_text("Quantizing Imaginary Models: A Test Record")
    assert "sort=cited" in page.url and "order=desc" in page.url
    page.get_by_role("button", name="Stars").click()
    page.get_by_role("button", name="Stars").click()
    expect(titles.first).to_have_text("Quantizing Imaginary Models: A Test Record")
    page.goto(metrics_site + "papers/example2023quantizing/")
    expect(page.locator(".venue .quiet")).to_have_text("archived")
    page.close()


def test_a_paper_page_leads_to_the_papers_that_build_upon_it_and_back(browser, metrics_site):
    page = browser.new_page()
    page.goto(metrics_site + "papers/muller2022attention/")
    built_upon = page.get_by_role("region", name="Built upon by")
    expect(built_upon.get_by_role("heading")).to_have_text("Built upon by 1")
    built_upon.get_by_role("link", name="Quantizing Imaginary Models: A Test Record").click()
    expect(page).to_have_url(metrics_site + "papers/example2023quantizing/")
    builds_on = page.get_by_role("region", name="Builds on")
    builds_on.get_by_role("link", name="Attention at a Discount").click()
    expect(page).to_have_url(metrics_site + "papers/muller2022attention/")
    page.close()


@pytest.mark.parametrize("path", ["papers/muller2022attention/", "topics/inference/kv-cache/"])
def test_the_sections_of_the_metrics_have_no_serious_accessibility_violations(browser, metrics_site, path):
    page = browser.new_page()
    page.goto(metrics_site + path)
    violations = Axe().run(page).response["violations"]
    assert [(v["id"], v["impact"]) for v in violations if v["impact"] in ("serious", "critical")] == []
    page.close()
