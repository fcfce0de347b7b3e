"""`efflit build` end to end: errors write nothing, removed records leave no page behind."""

from __future__ import annotations

import shutil

import pytest
from bs4 import BeautifulSoup
from click.testing import CliRunner

from efflit.cli import main


def build(root, *args):
    return CliRunner().invoke(main, ["build", "--root", str(root), *args])


def snapshot(folder):
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


def test_build_with_errors_exits_1_and_leaves_the_previous_site(kb):
    assert build(kb).exit_code == 0
    before = snapshot(kb / "site")
    record = kb / "papers/caching2024.yaml"
    record.write_text(record.read_text().replace("year: 2024", "year: soon"))
    result = build(kb)
    assert result.exit_code == 1
    assert "papers/caching2024.yaml:4:7: error: 'year'" in result.output
    assert snapshot(kb / "site") == before


def test_removed_record_leaves_no_stale_page(kb):
    assert build(kb).exit_code == 0
    assert (kb / "site/papers/caching2024/index.html").exists()
    (kb / "papers/caching2024.yaml").unlink()
    bib = kb / "papers/references.bib"
    bib.write_text(bib.read_text().split("@misc{caching2024")[0])
    assert build(kb).exit_code == 0
    assert not (kb / "site/papers/caching2024").exists()


def test_a_knowledge_base_with_no_papers_yet_builds_a_site_that_says_so(kb):
    papers = kb / "papers"
    kept = {path.name: path.read_bytes() for path in papers.iterdir()}
    shutil.rmtree(papers)
    papers.mkdir()
    result = build(kb)
    assert result.exit_code == 0, result.output
    assert "0 records" in result.output

    def page(path):
        return BeautifulSoup((kb / "site" / path).read_text(), "html.parser")

    table = page("papers/index.html")
    assert table.select("#papers tbody tr") == []
    assert table.find(id="status").text == "0 papers."
    search = page("search/index.html")
    assert search.select_one("main .empty").text == "No papers to search yet."
    assert not search.select('script[src*="pagefind"]') and not (kb / "site/pagefind").exists()

    for name, data in kept.items():  # the first papers arrive: the search index with them
        (papers / name).write_bytes(data)
    assert build(kb).exit_code == 0
    assert page("search/index.html").select('script[src="../pagefind/pagefind-ui.js"]')
    assert (kb / "site/pagefind/pagefind-ui.js").is_file()


def test_out_and_base_url_options(kb, tmp_path):
    out = tmp_path / "public"
    assert build(kb, "--out", str(out), "--base-url", "https://example.org/kb").exit_code == 0
    assert (
        '<link rel="canonical" href="https://example.org/kb/papers/caching2024/">'
        in (out / "papers/caching2024/index.html").read_text()
    )


def test_unwritable_output_is_a_clean_error(kb, tmp_path):
    blocked = tmp_path / "file"
    blocked.write_text("not a folder")
    result = build(kb, "--out", str(blocked / "site"))
    assert result.exit_code == 1
    assert "cannot write the site" in result.output
    assert "Traceback" not in result.output


def test_template_error_is_reported_with_its_file_and_line(kb):
    (kb / "templates").mkdir()
    (kb / "templates/404.html").write_text(
        "{% extends 'base.html' %}\n{% block main %}{{ missing.value }}{% endblock %}\n"
    )
    result = build(kb)
    assert result.exit_code == 1
    assert "templates/404.html:2:1: error: template error: 'missing' is undefined" in result.output


def test_templates_cannot_reach_what_a_view_keeps_private(kb):
    # A card that read the catalog behind its paper would show what the card's cache key does not cover.
    (kb / "templates/_partials").mkdir(parents=True)
    for reach in ("paper._catalog.papers|length", "(paper|attr('_record')).title", "paper['_record'].title"):
        (kb / "templates/_partials/card.html").write_text(f"<li>{{{{ {reach} }}}}</li>\n")
        result = build(kb)
        assert result.exit_code == 1, reach
        assert "templates/_partials/card.html:1:1: error: template error:" in result.output
        assert "has no attribute '_" in result.output, result.output
        assert "Traceback" not in result.output


def test_an_unchanged_knowledge_base_is_not_built_again_but_any_edit_is_seen(kb):
    assert build(kb).exit_code == 0
    again = build(kb)
    assert again.exit_code == 0 and "site is up to date" in again.output
    record = kb / "papers/caching2024.yaml"
    record.write_text(record.read_text().replace("Caching Keys Without Authors", "Caching Keys Anew"))
    bib = kb / "papers/references.bib"
    bib.write_text(bib.read_text().replace("Caching Keys Without Authors", "Caching Keys Anew"))
    assert "site is up to date" not in build(kb).output
    assert "Caching Keys Anew" in (kb / "site/papers/caching2024/index.html").read_text()


def _page_removed(site):
    (site / "papers/caching2024/index.html").unlink()


def _page_edited_in_place(site):
    page = site / "papers/caching2024/index.html"
    page.write_bytes(page.read_bytes().replace(b"<html", b"<HTML", 1))  # the same size


def _file_added_beside_a_page(site):
    (site / "papers/caching2024/notes.txt").write_text("by hand")


def _file_added_to_the_search_index(site):
    (site / "pagefind/stray.js").write_text("by hand")


@pytest.mark.parametrize(
    "touch", [_page_removed, _page_edited_in_place, _file_added_beside_a_page, _file_added_to_the_search_index]
)
def test_a_touched_site_is_built_again(kb, touch):
    assert build(kb).exit_code == 0
    made = pages_of(kb / "site")
    touch(kb / "site")
    assert "site is up to date" not in build(kb).output
    assert pages_of(kb / "site") == made
    assert b"<HTML" not in (kb / "site/papers/caching2024/index.html").read_bytes()
    assert not (kb / "site/pagefind/stray.js").exists()


def pages_of(site):
    """The site's files but the search index, whose names differ from one build to the next."""
    return {
        path.relative_to(site).as_posix() for path in site.rglob("*") if path.relative_to(site).parts[0] != "pagefind"
    }


def test_check_reuses_its_last_report_only_while_nothing_changed(kb):
    from efflit.cli import main

    first = CliRunner().invoke(main, ["check", "--root", str(kb)])
    assert CliRunner().invoke(main, ["check", "--root", str(kb)]).output == first.output
    record = kb / "papers/caching2024.yaml"
    record.write_text(record.read_text().replace("year: 2024", "year: 2O24"))
    assert "papers/caching2024.yaml:4:7: error" in CliRunner().invoke(main, ["check", "--root", str(kb)]).output


def test_exports_hold_what_a_join_and_a_crossref_mean(kb):
    """`#` joins of strings and @string macros are joined, and a crossref's fields are inherited,
    in every export: a citation manager reads the same reference BibTeX would make."""
    import bibtexparser

    bib = kb / "papers/references.bib"
    bib.write_text(
        '@string{mlsys = "Proceedings of Machine Learning and Systems"}\n'
        + bib.read_text()
        .replace("booktitle = {NeurIPS},", 'booktitle = mlsys # " (MLSys) " # 2024,')
        .replace(
            "  year = {2024},\n}", "  crossref = {proceedings2024},\n}\n\n@proceedings{proceedings2024, year = {2024}}"
        )
    )
    result = build(kb)
    assert result.exit_code == 0, result.output
    assert "belongs to no record" not in result.output  # an entry others inherit from needs no record
    for path in ("downloads/efflit.bib", "downloads/topics/inference.bib"):
        entries = bibtexparser.parse_string((kb / "site" / path).read_text(encoding="utf-8")).entries_dict
        assert (
            entries["example2023quantizing"]["booktitle"] == "Proceedings of Machine Learning and Systems (MLSys) 2024"
        )
        assert entries["caching2024"]["year"] == "2024" and "crossref" not in entries["caching2024"].fields_dict
    page = BeautifulSoup((kb / "site/papers/example2023quantizing/index.html").read_text(), "html.parser")
    assert (
        "booktitle     = {Proceedings of Machine Learning and Systems (MLSys) 2024},"
        in page.select_one("#bibtex").get_text()
    )
