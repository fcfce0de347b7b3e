"""Page keys: what a template pulls in is part of its pages' keys, including what is not there yet."""

from __future__ import annotations

import pytest

import efflit.pipeline.build
from efflit.kb.project import Options
from efflit.memory import cache, checks
from efflit.memory.keys import KEPT, Keys
from efflit.pipeline.build import build
from efflit.pipeline.check import check
from efflit.site.render import files, pages


def test_a_template_included_if_present_is_optional_and_picked_up_once_added(kb):
    own = kb / "templates"
    own.mkdir()
    (own / "404.html").write_text(
        '{% extends "base.html" %}{% block main %}<h1>Lost</h1>{% include "notice.html" ignore missing %}{% endblock %}'
    )
    _, report = build(kb)
    assert not report.errors, [str(p) for p in report.errors]
    assert "Lost" in (kb / "site/404.html").read_text()
    (own / "notice.html").write_text("<p>Moved recently.</p>")
    _, report = build(kb)
    assert not report.errors, [str(p) for p in report.errors]
    assert "Moved recently." in (kb / "site/404.html").read_text()


def rendered_by_builds(monkeypatch) -> list[str]:
    """The pages and files beside them that the builds make from now on."""
    rendered = []
    for name in ("render_pages", "render_files"):
        real = getattr(efflit.pipeline.build, name)

        def render(catalog, options, outputs, *args, real=real, **kwargs):
            rendered.extend(output.path for output in outputs)
            return real(catalog, options, outputs, *args, **kwargs)

        monkeypatch.setattr(efflit.pipeline.build, name, render)
    return rendered


def edited_and_built(kb, monkeypatch, old: str, new: str) -> list[str]:
    """What a build makes after the fixture's quantizing record has ``old`` replaced by ``new``."""
    _, report = build(kb)
    assert not report.errors
    rendered = rendered_by_builds(monkeypatch)
    record = kb / "papers/example2023quantizing.yaml"
    record.write_text(record.read_text().replace(old, new))
    _, report = build(kb)
    assert not report.errors
    return rendered


def test_a_summary_edit_renders_the_papers_page_not_the_pages_that_list_it(kb, monkeypatch):
    rendered = edited_and_built(kb, monkeypatch, "A *fabricated* paper", "An edited paper")
    record = kb / "papers/example2023quantizing.yaml"
    assert "papers/example2023quantizing/index.html" in rendered
    lists_it = ("topics/", "authors/", "years/", "venues/", "papers/index.html", "papers/muller2022", "papers/caching")
    pages = [path for path in rendered if path.endswith(".html")]
    assert not [path for path in pages if path.startswith(lists_it)]  # the last two: as a related paper
    assert "quality/index.html" not in pages  # it has a summary still
    # Of the files beside the pages: those holding whole records, and the feeds that show its summary
    # among their newest papers; not the .bib files or the sitemap.
    assert {path for path in rendered if not path.endswith(".html")} == {
        "downloads/papers.json",
        "downloads/papers.csl.json",
        "feed.xml",
        "topics/inference/feed.xml",
        "topics/inference/quantization/feed.xml",
    }

    rendered.clear()
    record.write_text(record.read_text().replace("code/quantizing", "code/quantizing-v2"))  # cards link to code
    _, report = build(kb)
    assert not report.errors
    for shows_its_card in (
        "topics/inference/quantization/index.html",
        "authors/ada-example/index.html",
        "years/2023/index.html",
        "papers/index.html",
    ):
        assert shows_its_card in rendered


def test_the_quality_page_is_made_again_when_a_record_loses_a_fact(kb, monkeypatch):
    rendered = edited_and_built(kb, monkeypatch, "summary: |\n  A *fabricated* paper used by the test suite.\n", "")
    assert "quality/index.html" in rendered
    quality = (kb / "site/quality/index.html").read_text()
    assert "Quantizing Imaginary Models: A Test Record</a> (2023): lacks summary" in quality


def every_key(root) -> dict[str, str]:
    """The key of every page and file of the site, as a build makes them now."""
    hashes = cache.input_hashes(root)
    kb, _ = check(root, hashes)
    catalog = checks.catalogued(kb)
    keys = Keys(catalog, Options(), cache.code_version(hashes), hashes)
    site_pages = list(pages(catalog))
    made = {page.path: keys.page(page.template, page.shows(keys)) for page in site_pages}
    return made | {file.path: file.key(keys) for file in files(catalog, site_pages)}


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ("A *fabricated* paper", "An edited paper"),  # what no listing shows
        ("A Test Record", "A Renamed Record"),  # what every listing of it shows
        ("inference/quantization", "inference/kv-cache"),  # where it is listed
        ("quantizing2023imaginary", "quantizing2023renamed"),  # an old address of it
        ("added: 2026-11-25", "added: 2026-12-01"),  # where it stands among the newest
        ("code/quantizing", "code/quantizing-v2"),  # what its card shows, in the same listings
        ("Bo Sample", "Cy Sample"),  # whose listings show it
        ("year: 2023", "year: 2021"),  # where it stands in each listing
    ],
)
def test_the_keys_a_build_carries_over_are_those_made_afresh(kb, old, new):
    root = kb.resolve()
    _, report = build(root)
    assert not report.errors
    record = root / "papers/example2023quantizing.yaml"
    record.write_text(record.read_text().replace(old, new))
    carried = every_key(root)
    cache.forget()  # waits for the build's keys to be stored, then reads from the disk
    (root / f".efflit-cache/{KEPT}.pickle").unlink()
    assert every_key(root) == carried
