"""Internal links: every href, src and #fragment of a built site resolves, every page is reachable."""

from __future__ import annotations

from click.testing import CliRunner

from efflit.cli import main
from efflit.memory.cache import recall, remember
from efflit.site.sitecheck import check_site
from kbtools import forget_memory


def run(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


def test_built_site_passes(kb):
    assert run("build", "--root", kb).exit_code == 0
    assert run("check", "--root", kb, "--site", kb / "site").exit_code == 0


def test_planted_broken_link_and_missing_fragment_name_the_page_and_its_source(kb):
    assert run("build", "--root", kb).exit_code == 0
    page = kb / "site/papers/caching2024/index.html"
    html = page.read_text()
    html = html.replace('<a href="../../papers/">All papers</a>', '<a href="../../papers/gone/">All papers</a>')
    html = html.replace('href="../../topics/inference/kv-cache/"', 'href="../../topics/inference/kv-cache/#nothing"', 1)
    page.write_text(html)
    result = run("check", "--root", kb, "--site", kb / "site")
    assert result.exit_code == 1
    lines = [line for line in result.output.splitlines() if ": error: " in line]
    assert any(
        line.startswith("site/papers/caching2024/index.html:")
        and "broken link '../../papers/gone/': no file papers/gone/index.html" in line
        and "(made by templates/paper.html with papers/caching2024.yaml)" in line
        for line in lines
    ), lines
    assert any("topics/inference/kv-cache/index.html has no element with id 'nothing'" in line for line in lines), lines


def test_a_template_making_a_broken_link_fails_the_build_and_keeps_the_previous_site(kb):
    assert run("build", "--root", kb).exit_code == 0
    before = (kb / "site/404.html").read_bytes()
    (kb / "templates").mkdir()
    (kb / "templates/404.html").write_text(
        '{% extends "base.html" %}{% block main %}<a href="{{ root }}lost/">x</a><a href="#nowhere">y</a>{% endblock %}'
    )
    result = run("build", "--root", kb)
    assert result.exit_code == 1
    assert "site/404.html:" in result.output and "broken link '/lost/'" in result.output
    assert "(made by templates/404.html)" in result.output
    assert "broken link '#nowhere': 404.html has no element with id 'nowhere'" in result.output
    assert (kb / "site/404.html").read_bytes() == before


def test_an_unreachable_page_is_reported(kb):
    assert run("build", "--root", kb).exit_code == 0
    (kb / "site/orphan.html").write_text("<!doctype html><title>x</title><p>nobody links here</p>")
    result = run("check", "--root", kb, "--site", kb / "site")
    assert "site/orphan.html:1:1: error: page is not reachable from the home page" in result.output


def small_site(folder, pages):
    for name, html in pages.items():
        (folder / name).write_text(html, encoding="utf-8")
    return folder


def test_pages_known_from_the_last_check_are_not_read_again(tmp_path):
    site = small_site(tmp_path, {"index.html": '<a href="a.html">a</a>', "a.html": "<p>a</p>"})
    report, links = check_site(site)
    assert report.problems == []
    (site / "index.html").write_text('<a href="nowhere.html">changed behind its back</a>')
    assert check_site(site, known=links)[0].problems == []


def test_a_known_page_is_read_again_when_a_file_or_id_it_links_to_is_gone(tmp_path):
    pages = {"index.html": '<a href="a.html">a</a>\n<a href="b.html#x">b</a>', "a.html": "", "b.html": '<p id="x">'}
    site = small_site(tmp_path, pages)
    _, links = check_site(site)
    (site / "a.html").unlink()
    (site / "b.html").write_text("<p>no id</p>")
    known = {"index.html": links["index.html"]}
    problems = [str(p).split("\n")[0] for p in check_site(site, known=known)[0].problems]
    assert problems == [
        "index.html:1:4: error: broken link 'a.html': no file a.html",
        "index.html:2:4: error: broken link 'b.html#x': b.html has no element with id 'x'",
    ]


def a_chain_checked_then_edited(folder, page, html):
    """index -> a -> b#x, checked and found sound; then ``page`` rewritten as ``html``.  What a build
    passes the next check: the pages it did not make again, and the last check's record."""
    pages = {"index.html": '<a href="a.html">a</a>', "a.html": '<a href="b.html#x">b</a>', "b.html": '<p id="x">'}
    site = small_site(folder, pages)
    _, sound = check_site(site)
    (site / page).write_text(html)
    known = {name: links for name, links in sound.items() if name != page}
    return site, known, sound


def first_lines(report):
    return [str(problem).split("\n")[0] for problem in report.problems]


def test_pages_read_again_that_link_as_before_leave_the_last_sound_check_standing(tmp_path):
    site, known, sound = a_chain_checked_then_edited(tmp_path, "a.html", '<p>new</p><a href="b.html#x">b</a>')
    report, links = check_site(site, known=known, sound=sound)
    assert report.problems == [] and links == sound


def test_a_page_read_again_that_links_elsewhere_has_the_whole_site_checked(tmp_path):
    site, known, sound = a_chain_checked_then_edited(tmp_path, "a.html", "<p>no more links</p>")
    report = check_site(site, known=known, sound=sound)[0]
    assert first_lines(report) == ["b.html:1:1: error: page is not reachable from the home page"]


def test_a_page_read_again_without_an_id_has_the_pages_linking_to_it_read_again(tmp_path):
    site, known, sound = a_chain_checked_then_edited(tmp_path, "b.html", "<p>no id</p>")
    report = check_site(site, known=known, sound=sound)[0]
    assert first_lines(report) == ["a.html:1:4: error: broken link 'b.html#x': b.html has no element with id 'x'"]


def test_what_a_check_knows_survives_the_cache(tmp_path):
    site = small_site(tmp_path, {"index.html": '<a id="top" href="a.html#y">a</a>', "a.html": '<p id="y">'})
    _, links = check_site(site)
    remember(tmp_path, "links", "key", {"links": links})
    forget_memory()  # read from the disk, as the next process does, not from this one's memory
    assert recall(tmp_path, "links", "key") == {"links": links}


def test_pages_read_in_several_processes_give_the_same_report(tmp_path, monkeypatch):
    pages = {f"p{n}.html": f'<a id="top" href="p{n + 1}.html#top">next</a>' for n in range(40)}
    pages |= {"index.html": '<a href="p0.html">first</a>', "p7.html": '<a href="gone.html">x</a>'}
    site = small_site(tmp_path, pages)
    alone = check_site(site)
    monkeypatch.setattr("efflit.site.sitecheck.PAGES_PER_WORKER", 5)
    shared = check_site(site)
    assert [str(p) for p in shared[0].sorted()] == [str(p) for p in alone[0].sorted()]
    assert shared[1] == alone[1]
    lines = {str(p).split("\n")[0] for p in shared[0].problems}
    assert "p39.html:1:13: error: broken link 'p40.html#top': no file p40.html" in lines
    assert "p7.html:1:4: error: broken link 'gone.html': no file gone.html" in lines
    assert "p6.html:1:13: error: broken link 'p7.html#top': p7.html has no element with id 'top'" in lines
    assert "p8.html:1:1: error: page is not reachable from the home page" in lines
