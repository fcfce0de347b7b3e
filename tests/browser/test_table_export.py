"""The table's view exported in Chromium: the rows shown, in their order, as BibTeX, CSV and
CSL-JSON files named after the filter, and copied as BibTeX."""

from __future__ import annotations

import csv
import io
import json

import bibtexparser
import pytest
from playwright.sync_api import expect


@pytest.fixture
def filtered(page, site_url):
    """The table filtered to one topic and sorted by title: two of its three papers."""
    page.goto(site_url + "papers/?tag=inference/kv-cache&sort=title&order=asc")
    expect(page.locator("#status")).to_have_text("2 of 3 papers.")
    return page


def shown_keys(page):
    return page.locator("#papers tbody tr:not([hidden])").evaluate_all("rows => rows.map(row => row.dataset.key)")


def exported(page, button):
    with page.expect_download() as info:
        page.locator("#export").get_by_role("button", name=button, exact=True).click()
    download = info.value
    return download.suggested_filename, open(download.path(), encoding="utf-8").read()


def test_bibtex_of_the_view_holds_exactly_the_rows_shown(filtered):
    name, text = exported(filtered, "BibTeX")
    assert name == "efflit-papers-tag-inference-kv-cache.bib"
    library = bibtexparser.parse_string(text)
    assert not library.failed_blocks
    assert [entry.key for entry in library.entries] == shown_keys(filtered)
    assert len(library.entries) == 2


def test_csv_and_csl_json_of_the_view(filtered):
    name, text = exported(filtered, "CSV")
    assert name == "efflit-papers-tag-inference-kv-cache.csv"
    lines = list(csv.DictReader(io.StringIO(text)))
    assert [line["key"] for line in lines] == shown_keys(filtered)
    assert lines[0]["title"] == "Attention at a Discount" and lines[0]["url"].endswith("/papers/muller2022attention/")
    name, text = exported(filtered, "CSL-JSON")
    assert name == "efflit-papers-tag-inference-kv-cache.json"
    assert [item["id"] for item in json.loads(text)] == shown_keys(filtered)


def test_copy_bibtex_names_and_copies_the_papers_shown(filtered):
    button = filtered.locator("#export").get_by_role("button", name="Copy BibTeX of these 2 papers")
    button.click()
    expect(filtered.locator("#exported")).to_have_text("Copied 2 BibTeX entries.")
    copied = bibtexparser.parse_string(filtered.evaluate("navigator.clipboard.readText()"))
    assert [entry.key for entry in copied.entries] == shown_keys(filtered)
    filtered.get_by_role("button", name="Clear").click()
    expect(filtered.locator("#export").get_by_role("button", name="Copy BibTeX of these 3 papers")).to_be_visible()
