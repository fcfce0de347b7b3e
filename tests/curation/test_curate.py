"""`efflit add`, `enrich`, `fmt` and `readme`, with a fake arXiv API on 127.0.0.1."""

from __future__ import annotations

import re
import time

import pytest
from click.testing import CliRunner
from werkzeug import Response

from efflit.cli import main
from kbtools import FIXTURES, errors

FEED = (FIXTURES / "arxiv/feed.atom").read_text()
NOT_IN_FEED = FEED.split("<entry>")[0] + "</feed>"


def run(*args, stdin=None):
    return CliRunner().invoke(main, [str(a) for a in args], input=stdin)


def api(httpserver):
    return ["--endpoint", httpserver.url_for("/api/query"), "--interval", "0.01"]


INCOMPLETE = """\
id: pruning2023pretend
title: Pruning Pretend Networks
authors: []
year: 2023
arxiv: '2302.00002'
tags:
  - inference/quantization
source:
  - person: efflit test suite
added: 2026-11-25
"""


@pytest.fixture
def incomplete(kb):
    (kb / "papers/pruning2023pretend.yaml").write_text(INCOMPLETE)
    with (kb / "papers/references.bib").open("a") as bib:
        bib.write("\n@misc{pruning2023pretend, title = {Pruning Pretend Networks}, year = {2023}}\n")
    return kb


def test_add_from_a_pasted_bibtex_entry(kb):
    entry = "@inproceedings{x, title={Tiny Test Paper}, author={Zed, Zoe}, booktitle={ICML}, year={2024}}"
    result = run("add", "--root", kb, "--tag", "inference/quantization", stdin=entry)
    assert result.exit_code == 0, result.output
    assert "pasted.bib:1: added: papers/zed2024tiny.yaml" in result.output
    assert "papers/zed2024tiny.yaml: to fill in: code, summary" in result.output
    assert "bibkey: x" in (kb / "papers/zed2024tiny.yaml").read_text()
    assert errors(kb) == []


def test_add_from_an_arxiv_id(kb, httpserver):
    httpserver.expect_request(
        "/api/query", query_string={"id_list": "2302.00002", "max_results": "1"}
    ).respond_with_data(FEED)
    result = run("add", "--root", kb, "--tag", "inference/quantization", *api(httpserver), "arXiv:2302.00002v1")
    assert "arXiv:2302.00002: added: papers/li2023pruning.yaml" in result.output
    assert result.exit_code == 0, result.output
    record = (kb / "papers/li2023pruning.yaml").read_text()
    assert "  - Chen Li\n  - Dana Smith\n" in record and "doi: 10.1234/pretend.2023" in record
    assert "  - api: arXiv\n" in record
    assert errors(kb) == []


def test_add_with_a_tag_the_taxonomy_lacks_writes_nothing(kb, httpserver):
    httpserver.expect_request("/api/query").respond_with_data(FEED)
    result = run("add", "--root", kb, "--tag", "inference/prunning", *api(httpserver), "2302.00002")
    assert result.exit_code == 1
    assert "arXiv:2302.00002: skipped: tag 'inference/prunning' is not a taxonomy node" in result.output
    assert not list(kb.glob("papers/li2023*"))


def test_add_an_unknown_arxiv_id_fails_cleanly(kb, httpserver):
    httpserver.expect_request("/api/query").respond_with_data(NOT_IN_FEED)
    result = run("add", "--root", kb, "--tag", "inference/quantization", *api(httpserver), "2401.99999")
    assert result.exit_code == 1
    assert "arXiv knows no paper '2401.99999'" in result.output and "Traceback" not in result.output


def test_enrich_fills_missing_authors_and_venue_and_never_overwrites(incomplete, httpserver):
    httpserver.expect_request("/api/query").respond_with_data(FEED)
    result = run("enrich", "--root", incomplete, *api(httpserver))
    assert result.exit_code == 0, result.output
    assert (
        "arXiv:2302.00002: merged: into papers/pruning2023pretend.yaml: +source, +authors, +venue, +doi"
        in result.output
    )
    record = (incomplete / "papers/pruning2023pretend.yaml").read_text()
    assert "  - Chen Li\n" in record and "title: Pruning Pretend Networks\n" in record
    assert errors(incomplete) == []  # the BibTeX entry got the authors as well
    assert len(httpserver.log) == 1  # one batched request for all records


def test_enrich_uses_its_cache_on_a_second_run(incomplete, httpserver):
    httpserver.expect_request("/api/query").respond_with_data(FEED)
    papers = incomplete / "papers"
    before = {path: path.read_bytes() for path in papers.iterdir()}
    assert "merged" in run("enrich", "--root", incomplete, *api(httpserver)).output
    for path, data in before.items():  # incomplete again: the second run wants the same facts
        path.write_bytes(data)
    result = run("enrich", "--root", incomplete, *api(httpserver))
    assert "merged" in result.output  # filled again, from the cache
    assert len(httpserver.log) == 1


def test_enrich_honours_429_and_503_with_retry_after(incomplete, httpserver):
    answers = iter([Response("slow down", 429, {"Retry-After": "1"}), Response("busy", 503), Response(FEED, 200)])
    httpserver.expect_request("/api/query").respond_with_handler(lambda request: next(answers))
    started = time.monotonic()
    result = run("enrich", "--root", incomplete, *api(httpserver))
    assert result.exit_code == 0, result.output
    assert "merged: into papers/pruning2023pretend.yaml" in result.output
    times = [entry[0] for entry in httpserver.log]
    assert len(times) == 3
    assert time.monotonic() - started >= 1.0  # the Retry-After second was waited


def test_enrich_survives_a_slow_server(incomplete, httpserver):
    calls = []

    def slow_then_fine(request):
        calls.append(1)
        if len(calls) == 1:
            time.sleep(1.5)
        return Response(FEED, 200)

    httpserver.expect_request("/api/query").respond_with_handler(slow_then_fine)
    result = run("enrich", "--root", incomplete, *api(httpserver), "--timeout", "0.5")
    assert result.exit_code == 0, result.output
    assert len(calls) >= 2  # the server answers one request at a time: retries queue behind the slow one


def test_enrich_gives_up_cleanly_when_arxiv_keeps_failing(incomplete, httpserver):
    httpserver.expect_request("/api/query").respond_with_data("down", status=503)
    result = run("enrich", "--root", incomplete, *api(httpserver))
    assert result.exit_code == 1
    assert "arXiv did not answer after 5 attempts: 503" in result.output
    assert "Traceback" not in result.output


def test_fmt_rewrites_into_canonical_form_keeping_comments(kb):
    path = kb / "papers/caching2024.yaml"
    path.write_text(
        '# a comment\nadded: 2026-11-21\ntitle: "Caching Keys Without Authors"  # why\n'
        + path.read_text().replace("added: 2026-11-21\n", "").replace("title: Caching Keys Without Authors\n", "")
    )
    check = run("fmt", "--root", kb, "--check")
    assert check.exit_code == 1
    assert "papers/caching2024.yaml: is not in canonical form (run efflit fmt)" in check.output
    assert run("fmt", "--root", kb).exit_code == 0
    text = path.read_text()
    assert re.match(r"# a comment\nid: caching2024\ntitle: Caching Keys Without Authors +# why\n", text)
    assert text.rstrip().endswith("added: 2026-11-21")
    assert run("fmt", "--root", kb, "--check").exit_code == 0  # idempotent
    assert errors(kb) == []


def test_fmt_check_passes_on_the_repository():
    from kbtools import REPOSITORY

    assert run("fmt", "--root", REPOSITORY, "--check").exit_code == 0


def test_readme_writes_between_markers_and_check_detects_staleness(kb):
    readme = kb / "README.md"
    readme.write_text(
        "# KB\n\n<!-- efflit:counts:start -->\n<!-- efflit:counts:end -->\n\n<!-- efflit:papers:start -->\n<!-- efflit:papers:end -->\n"
    )
    assert run("readme", "--root", kb, "--check").exit_code == 1
    assert run("readme", "--root", kb).exit_code == 0
    text = readme.read_text()
    assert "| &nbsp;&nbsp;&nbsp;&nbsp;KV cache *(extension)* | 2 |" in text
    assert (
        "#### Quantization\n\n- [Quantizing Imaginary Models: A Test Record](https://arxiv.org/abs/2301.10010). Ada Example, Bo Sample. *NeurIPS* 2023. [[code]](https://example.org/code/quantizing)"
        in text
    )
    assert run("readme", "--root", kb, "--check").exit_code == 0
    (kb / "papers/caching2024.yaml").write_text(
        (kb / "papers/caching2024.yaml").read_text().replace("Caching Keys Without Authors", "Caching Keys Anew")
    )
    (kb / "papers/references.bib").write_text(
        (kb / "papers/references.bib").read_text().replace("Caching Keys Without Authors", "Caching Keys Anew")
    )
    stale = run("readme", "--root", kb, "--check")
    assert stale.exit_code == 1 and "the paper list is stale (run efflit readme)" in stale.output


def test_readme_without_markers_says_what_to_add(kb):
    (kb / "README.md").write_text("# nothing\n")
    result = run("readme", "--root", kb)
    assert result.exit_code == 1 and "add `<!-- efflit:papers:start -->`" in result.output


def test_repository_readme_is_in_step_with_the_records():
    from kbtools import REPOSITORY

    assert run("readme", "--root", REPOSITORY, "--check").exit_code == 0


def test_records_start_with_the_published_schema_when_the_site_has_an_address(kb):
    pyproject = kb / "pyproject.toml"
    pyproject.write_text(pyproject.read_text() + 'base_url = "https://kb.example.org/"\n')
    assert run("fmt", "--root", kb, "--check").exit_code == 1
    assert run("fmt", "--root", kb).exit_code == 0
    schema = "# yaml-language-server: $schema=https://kb.example.org/downloads/record.schema.json\n"
    assert (kb / "papers/caching2024.yaml").read_text().startswith(schema + "id: caching2024\n")
    run("import", "bib", "--root", kb, "--tag", "inference/quantization", FIXTURES / "import/quirks.bib")
    assert (kb / "papers/doe2024kv.yaml").read_text().startswith(schema)
    assert errors(kb) == []
