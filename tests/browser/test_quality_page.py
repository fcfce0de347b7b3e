"""The quality page in Chromium: reached from the footer, its figures those of
`efflit check --quality --format json` (with the health of links from the last link check), each
incomplete record with its edit link."""

from __future__ import annotations

import json
import shutil

import pytest
from click.testing import CliRunner
from playwright.sync_api import expect

from efflit.cli import main
from efflit.pipeline.build import build
from kbtools import FIXTURES, served, write


@pytest.fixture(scope="module")
def quality_site(tmp_path_factory):
    root = tmp_path_factory.mktemp("quality") / "kb"
    shutil.copytree(FIXTURES / "tiny", root)
    # The last `efflit links` run found one link of caching2024 broken.
    write(root, ".efflit-cache/links-broken.json", json.dumps({"https://example.org/papers/caching": 1}))
    _, report = build(root)
    assert not report.errors, report.errors
    result = CliRunner().invoke(main, ["check", "--root", str(root), "--quality", "--format", "json"])
    with served(root / "site") as url:
        yield url, json.loads(result.output)["quality"]


def test_the_quality_page_shows_the_figures_of_the_quality_report(browser, quality_site):
    url, report = quality_site
    page = browser.new_page()
    page.goto(url)
    page.get_by_role("contentinfo").get_by_role("link", name="Quality: where help is needed").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Quality")
    rows = page.locator("table.quality tbody tr")
    shown = [
        [row.locator("th").inner_text(), *(cell.split(" ")[0] for cell in row.locator("td").all_inner_texts())]
        for row in rows.all()
    ]
    columns = ("records", "authors", "identifier", "published", "summary", "code", "links")
    headings = page.locator("table.quality thead th").all_inner_texts()
    assert headings[-1] == "links work" and len(headings) == 1 + len(columns)
    assert shown == [[line["name"], *(str(line[c]) for c in columns)] for line in report]
    incomplete = page.get_by_role("region", name="Records still incomplete")
    caching = incomplete.get_by_role("listitem").filter(has_text="Caching Keys Without Authors")
    expect(caching).to_contain_text("lacks authors, arXiv id or DOI, summary, links that work")
    expect(caching.get_by_role("link", name="Edit this record")).to_have_attribute(
        "href", "https://github.com/example/kb/edit/main/papers/caching2024.yaml"
    )
    page.close()
