"""`efflit metrics`: cited-by counts and code health from fake OpenAlex and GitHub APIs on 127.0.0.1,
into data/metrics.json; what an API cannot tell keeps its last figure."""

from __future__ import annotations

import json
import time

import pytest
from click.testing import CliRunner
from werkzeug import Response

from efflit.cli import main
from kbtools import problems

WORKS = [
    {
        "id": "https://openalex.org/W1",
        "doi": "https://doi.org/10.48550/arxiv.2301.10010",
        "title": "Quantizing Imaginary Models: A Test Record",
        "publication_year": 2023,
        "locations": [],
        "cited_by_count": 42,
    },
    {
        "id": "https://openalex.org/W2",
        "doi": "https://doi.org/10.48550/arxiv.hep-th/9901001",
        "title": "Some Other Paper Entirely",  # not this record's title: its count is not taken
        "publication_year": 2022,
        "locations": [],
        "cited_by_count": 9999,
    },
]
REPOSITORY = {"stargazers_count": 1234, "pushed_at": "2023-01-02T10:00:00Z", "archived": True}


@pytest.fixture
def kb_on_github(kb):
    record = kb / "papers/example2023quantizing.yaml"
    record.write_text(
        record.read_text().replace("https://example.org/code/quantizing", "https://github.com/ada/quantizing")
    )
    return kb


def run(kb, httpserver):
    args = ["metrics", "--root", kb, "--openalex-endpoint", httpserver.url_for("/works")]
    args += ["--github-endpoint", httpserver.url_for("/"), "--interval", "0.2"]
    return CliRunner().invoke(main, [str(a) for a in args])


def written(kb):
    return json.loads((kb / "data/metrics.json").read_text())


def test_counts_and_repositories_are_written_and_the_site_reads_them(kb_on_github, httpserver):
    httpserver.expect_request("/works").respond_with_json({"results": WORKS})
    httpserver.expect_request("/repos/ada/quantizing").respond_with_json(REPOSITORY)
    result = run(kb_on_github, httpserver)
    assert result.exit_code == 0, result.output
    metrics = written(kb_on_github)
    assert metrics["papers"] == {"example2023quantizing": {"cited_by": 42, "cites": []}}
    assert metrics["code"] == {
        "https://github.com/ada/quantizing": {"stars": 1234, "pushed": "2023-01-02", "archived": True}
    }
    assert metrics["date"] == time.strftime("%Y-%m-%d")
    assert [p for p in problems(kb_on_github) if "metrics" in p] == []


def test_the_papers_of_the_knowledge_base_a_paper_cites_are_matched_by_openalex_id(kb_on_github, httpserver):
    muller = {**WORKS[1], "title": "Attention at a Discount", "cited_by_count": 7, "referenced_works": []}
    quantizing = {
        **WORKS[0],
        "referenced_works": [
            "https://openalex.org/W2",
            "https://openalex.org/W99",
            "<script>",
            "https://openalex.org/W1",
        ],
    }
    httpserver.expect_request("/works").respond_with_json({"results": [quantizing, muller]})
    httpserver.expect_request("/repos/ada/quantizing").respond_with_json(REPOSITORY)
    assert run(kb_on_github, httpserver).exit_code == 0
    # W2 is this knowledge base's muller2022attention; W99 is not ours; a paper does not cite itself.
    assert written(kb_on_github)["papers"] == {
        "example2023quantizing": {"cited_by": 42, "cites": ["muller2022attention"]},
        "muller2022attention": {"cited_by": 7, "cites": []},
    }
    assert "select=" in httpserver.log[0][0].url and "referenced_works" in httpserver.log[0][0].args["select"]


def test_an_api_down_keeps_the_last_figures_and_says_so(kb_on_github, httpserver):
    httpserver.expect_request("/works").respond_with_json({"results": WORKS})
    httpserver.expect_request("/repos/ada/quantizing").respond_with_json(REPOSITORY)
    assert run(kb_on_github, httpserver).exit_code == 0
    httpserver.clear()
    httpserver.expect_request("/works").respond_with_data("down", status=500)
    httpserver.expect_request("/repos/ada/quantizing").respond_with_data("down", status=500)
    result = run(kb_on_github, httpserver)
    assert result.exit_code == 1
    assert (
        "cited-by counts kept from" in result.output and "https://github.com/ada/quantizing: kept from" in result.output
    )
    assert written(kb_on_github)["papers"] == {"example2023quantizing": {"cited_by": 42, "cites": []}}
    assert written(kb_on_github)["code"]["https://github.com/ada/quantizing"]["stars"] == 1234


def test_a_hostile_answer_is_refused_and_reported(kb_on_github, httpserver):
    httpserver.expect_request("/works").respond_with_json({"results": WORKS})
    httpserver.expect_request("/repos/ada/quantizing").respond_with_json(
        {**REPOSITORY, "stargazers_count": "<b>lots</b>"}
    )
    result = run(kb_on_github, httpserver)
    assert result.exit_code == 1
    assert "figures of the wrong kind" in result.output and "Traceback" not in result.output
    assert written(kb_on_github)["code"] == {}


def test_requests_to_github_keep_their_interval(kb_on_github, httpserver):
    arrivals = []

    def answer(request):
        arrivals.append(time.monotonic())
        return Response(json.dumps(REPOSITORY), 200, content_type="application/json")

    for name in ("a", "b", "c"):
        httpserver.expect_request(f"/repos/ada/{name}").respond_with_handler(answer)
    httpserver.expect_request("/works").respond_with_json({"results": []})
    for n, path in enumerate(["example2023quantizing", "muller2022attention", "caching2024"]):
        record = kb_on_github / f"papers/{path}.yaml"
        text = record.read_text()
        if "code:" in text:
            text = text.replace("code: https://github.com/ada/quantizing", "code: https://github.com/ada/a")
        else:
            text = text.replace("\ntags:", f"\ncode: https://github.com/ada/{'abc'[n]}\ntags:")
        record.write_text(text)
    assert run(kb_on_github, httpserver).exit_code == 0
    gaps = [b - a for a, b in zip(arrivals, arrivals[1:], strict=False)]
    assert len(arrivals) == 3 and min(gaps) >= 0.18, gaps  # one request per 0.2 s, no faster
