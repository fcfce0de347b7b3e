"""`efflit enrich --source openalex`: published venues and DOIs from a fake OpenAlex on 127.0.0.1."""

from __future__ import annotations

import json
import time

import bibtexparser
import pytest
import yaml
from click.testing import CliRunner
from werkzeug import Response

from efflit.cli import main
from kbtools import errors, write

VENUES = """\
venues:
  - name: arXiv
    kind: preprint
  - name: NeurIPS
    full: Advances in Neural Information Processing Systems
    kind: conference
  - name: ICLR
    full: International Conference on Learning Representations
    kind: conference
    aliases:
      - International Conference on Learning Representations
"""


def work(title, arxiv_doi, year, *sources, doi=None):
    """An OpenAlex work as its API gives one: the arXiv copy and the other locations."""
    locations = [{"landing_page_url": f"https://arxiv.org/abs/{arxiv_doi}", "source": {"type": "repository"}}]
    locations += [{"source": {"display_name": name, "type": kind}} for name, kind in sources]
    return {
        "id": "https://openalex.org/W1",
        "doi": f"https://doi.org/{doi}" if doi else f"https://doi.org/10.48550/arxiv.{arxiv_doi}",
        "title": title,
        "publication_year": year,
        "authorships": [],
        "locations": locations,
    }


PUBLISHED = [
    work(
        "Attention at a Discount",
        "hep-th/9901001",
        2023,
        ("International Conference on Learning Representations", "conference"),
    ),
    work(
        "Quantizing Imaginary Models: A Test Record", "2301.10010", 2023, ("ICML", "conference"), doi="10.5555/fake.1"
    ),
]


@pytest.fixture
def preprints(kb):
    write(kb, "venues.yaml", VENUES)
    with (kb / "pyproject.toml").open("a") as settings:
        settings.write('contact = "curators@example.org"\n')
    return kb


def run(kb, httpserver, *extra):
    args = ["enrich", "--root", kb, "--source", "openalex", "--openalex-endpoint", httpserver.url_for("/works"), *extra]
    return CliRunner().invoke(main, [str(a) for a in args])


def serve(httpserver, works):
    httpserver.expect_request("/works").respond_with_json({"meta": {"count": len(works)}, "results": works})


def record(kb, record_id):
    return yaml.safe_load((kb / f"papers/{record_id}.yaml").read_text(encoding="utf-8"))


def test_a_preprint_gains_its_published_venue_year_and_doi_in_one_batched_request(preprints, httpserver):
    serve(httpserver, PUBLISHED)
    result = run(preprints, httpserver)
    assert result.exit_code == 0, result.output
    published = record(preprints, "muller2022attention")
    assert (published["venue"], published["year"], published["arxiv"]) == ("ICLR", 2023, "hep-th/9901001")
    assert {"api": "OpenAlex", "facts": ["year", "venue"]} in published["source"]
    entry = bibtexparser.parse_string((preprints / "papers/references.bib").read_text()).entries_dict
    assert entry["muller2022attention"]["booktitle"] == "International Conference on Learning Representations"
    # A venue the curator set stands; a missing DOI is filled.
    quantizing = record(preprints, "example2023quantizing")
    assert (quantizing["venue"], quantizing["doi"]) == ("NeurIPS", "10.5555/fake.1")
    assert errors(preprints) == []
    ((request, _),) = httpserver.log
    assert request.args["filter"] == "doi:10.48550/arxiv.2301.10010|10.48550/arxiv.hep-th/9901001"
    assert request.args["mailto"] == "curators@example.org"


def test_a_dry_run_prints_the_diff_and_writes_nothing(preprints, httpserver):
    serve(httpserver, PUBLISHED)
    before = {path: path.read_bytes() for path in (preprints / "papers").iterdir()}
    result = run(preprints, httpserver, "--dry-run")
    assert result.exit_code == 0, result.output
    assert "+++ papers/muller2022attention.yaml" in result.output and "+venue: ICLR\n" in result.output
    assert {path: path.read_bytes() for path in (preprints / "papers").iterdir()} == before


@pytest.mark.parametrize(
    ("answer", "refusal"),
    [
        (work("Attention at Full Price", "hep-th/9901001", 2023, ("ICLR", "conference")), "unlike the record"),
        (
            work("Attention at a Discount", "hep-th/9901001", 2023, ("<script>alert(1)</script>", "conference")),
            "which venues.yaml does not list",
        ),
        (work("Attention at a Discount", "hep-th/9901001", 2999, ("ICLR", "conference")), "the year 2999"),
    ],
)
def test_hostile_or_mismatched_answers_are_refused_and_nothing_is_written(preprints, httpserver, answer, refusal):
    serve(httpserver, [answer])
    before = (preprints / "papers/muller2022attention.yaml").read_bytes()
    result = run(preprints, httpserver)
    assert result.exit_code == 0, result.output
    assert "muller2022attention: refused: " in result.output and refusal in result.output
    assert (preprints / "papers/muller2022attention.yaml").read_bytes() == before
    assert "Traceback" not in result.output


def test_an_oversize_answer_is_not_read(preprints, httpserver):
    httpserver.expect_request("/works").respond_with_data("x" * (11 * 1024 * 1024))
    result = run(preprints, httpserver)
    assert result.exit_code == 1
    assert "OpenAlex answered with more than" in result.output and "Traceback" not in result.output


def test_429_with_retry_after_is_waited_and_requests_keep_their_interval(preprints, httpserver):
    answers = iter([Response("slow down", 429, {"Retry-After": "1"}), Response(json.dumps({"results": PUBLISHED}))])
    httpserver.expect_request("/works").respond_with_handler(lambda request: next(answers))
    started = time.monotonic()
    result = run(preprints, httpserver)
    assert result.exit_code == 0, result.output
    assert time.monotonic() - started >= 1.0 and len(httpserver.log) == 2
    assert record(preprints, "muller2022attention")["venue"] == "ICLR"


def test_one_api_down_does_not_stop_the_other(preprints, httpserver):
    caching = preprints / "papers/caching2024.yaml"
    caching.write_text(caching.read_text().replace("year: 2024\n", "year: 2024\narxiv: '2402.00002'\n"))
    serve(httpserver, PUBLISHED)
    httpserver.expect_request("/api/query").respond_with_data("down", status=500)
    arxiv = ["--source", "arxiv", "--endpoint", httpserver.url_for("/api/query"), "--interval", "0.01"]
    result = run(preprints, httpserver, *arxiv)
    assert result.exit_code == 1  # arXiv failed, and says so
    assert "arXiv did not answer" in result.output
    assert record(preprints, "muller2022attention")["venue"] == "ICLR"  # OpenAlex was asked all the same


def dblp_hit(title, venue, year, kind="Conference and Workshop Papers", doi=None):
    return {
        "info": {"title": title + ".", "venue": venue, "year": str(year), "type": kind, **({"doi": doi} if doi else {})}
    }


def run_dblp(kb, httpserver, *extra):
    args = [
        "enrich",
        "--root",
        kb,
        "--source",
        "dblp",
        "--dblp-endpoint",
        httpserver.url_for("/search/publ/api"),
        *extra,
    ]
    return CliRunner().invoke(main, [str(a) for a in args])


def test_dblp_gives_a_preprint_its_venue_by_exact_title_passing_over_corr(preprints, httpserver):
    hits = [
        dblp_hit("Attention at a Discount", "CoRR", 2022, kind="Informal and Other Publications"),
        dblp_hit("Attention at a Discounted Rate", "NeurIPS", 2023),
        dblp_hit("Attention at a Discount", "ICLR", 2023, doi="10.5555/iclr.1"),
    ]
    httpserver.expect_request("/search/publ/api").respond_with_json({"result": {"hits": {"hit": hits}}})
    result = run_dblp(preprints, httpserver)
    assert result.exit_code == 0, result.output
    published = record(preprints, "muller2022attention")
    assert (published["venue"], published["year"], published["doi"]) == ("ICLR", 2023, "10.5555/iclr.1")
    assert {"api": "DBLP", "facts": ["year", "venue", "doi"]} in published["source"]
    # One search for each record without a published venue.
    assert sorted(request.args["q"] for request, _ in httpserver.log) == [
        "Attention at a Discount",
        "Caching Keys Without Authors",
    ]
    assert errors(preprints) == []


def test_dblp_without_a_published_version_changes_nothing(preprints, httpserver):
    hits = [dblp_hit("Attention at a Discount", "CoRR", 2022, kind="Informal and Other Publications")]
    httpserver.expect_request("/search/publ/api").respond_with_json({"result": {"hits": {"hit": hits}}})
    before = (preprints / "papers/muller2022attention.yaml").read_bytes()
    assert run_dblp(preprints, httpserver).exit_code == 0
    assert (preprints / "papers/muller2022attention.yaml").read_bytes() == before


def test_dblp_keeps_to_one_request_a_second(preprints, httpserver):
    seen = []

    def answer(request):
        seen.append(time.monotonic())
        return Response(json.dumps({"result": {"hits": {"hit": []}}}), content_type="application/json")

    httpserver.expect_request("/search/publ/api").respond_with_handler(answer)
    assert run_dblp(preprints, httpserver).exit_code == 0
    assert len(seen) == 2 and seen[1] - seen[0] >= 0.95


def with_doi(kb, record_id, doi):
    path = kb / f"papers/{record_id}.yaml"
    path.write_text(path.read_text().replace("tags:\n", f"doi: {doi}\ntags:\n", 1))


def run_index(kb, httpserver, source, path, *extra):
    args = ["enrich", "--root", kb, "--source", source, f"--{source}-endpoint", httpserver.url_for(path), *extra]
    return CliRunner().invoke(main, [str(a) for a in args])


def s2_paper(title, doi=None, authors=()):
    return {
        "paperId": "abc",
        "title": title,
        "year": 2022,
        "externalIds": {"ArXiv": "x", **({"DOI": doi} if doi else {})},
        "authors": [{"authorId": "1", "name": name} for name in authors],
    }


S2 = "/graph/v1/paper/batch"


def test_semantic_scholar_gives_dois_and_missing_authors_in_one_batch_by_arxiv_id_or_doi(
    preprints, httpserver, monkeypatch
):
    with_doi(preprints, "caching2024", "10.5555/caching.1")
    answers = {
        "ARXIV:hep-th/9901001": s2_paper(
            "Attention at a Discount", doi="10.5555/attention.1", authors=["Someone Else"]
        ),
        "ARXIV:2301.10010": None,
        "DOI:10.5555/caching.1": s2_paper("Caching Keys Without Authors", authors=["Lee Cache", "Kay Vee"]),
    }
    httpserver.expect_request(S2, method="POST").respond_with_handler(
        lambda request: Response(json.dumps([answers[i] for i in request.get_json()["ids"]]))
    )
    monkeypatch.setenv("S2_API_KEY", "test-key")
    result = run_index(preprints, httpserver, "semanticscholar", S2)
    assert result.exit_code == 0, result.output
    attention = record(preprints, "muller2022attention")
    assert attention["doi"] == "10.5555/attention.1" and attention["authors"] == ["Jörg Müller"]  # curator's stand
    assert attention["venue"] == "arXiv"  # Semantic Scholar's year is the preprint's: no venue from it
    caching = record(preprints, "cache2024caching")  # named as its first author's once it has authors
    assert caching["authors"] == ["Lee Cache", "Kay Vee"] and caching["aliases"] == ["caching2024"]
    assert {"api": "Semantic Scholar", "facts": ["authors"]} in caching["source"]
    ((request, _),) = httpserver.log
    assert sorted(request.get_json()["ids"]) == sorted(answers)
    assert request.args["fields"] == "title,year,externalIds,authors"
    assert request.headers["x-api-key"] == "test-key"
    assert errors(preprints) == []


def test_semantic_scholar_names_with_markup_are_refused(preprints, httpserver):
    with_doi(preprints, "caching2024", "10.5555/caching.1")
    paper = s2_paper("Caching Keys Without Authors", authors=["<img src=x onerror=alert(1)>"])
    httpserver.expect_request(S2, method="POST").respond_with_handler(
        lambda request: Response(
            json.dumps([paper if i.startswith("DOI") else None for i in request.get_json()["ids"]])
        )
    )
    result = run_index(preprints, httpserver, "semanticscholar", S2)
    assert result.exit_code == 0, result.output
    assert "caching2024: refused: Semantic Scholar names an author '<img src=x onerror=alert(1)>'" in result.output
    assert record(preprints, "caching2024")["authors"] == []


def test_an_answer_out_of_step_with_the_batch_is_an_error_not_a_guess(preprints, httpserver):
    httpserver.expect_request(S2, method="POST").respond_with_json([None])  # two ids were asked
    result = run_index(preprints, httpserver, "semanticscholar", S2)
    assert result.exit_code == 1
    assert "Semantic Scholar answered something else than 2 papers in order" in result.output
    assert "Traceback" not in result.output


def crossref_item(doi, title, container, year, kind="proceedings-article", authors=()):
    return {
        "DOI": doi.upper(),
        "type": kind,
        "title": [title],
        "container-title": [container],
        "issued": {"date-parts": [[year, 7]]},
        "author": [{"given": given, "family": family, "sequence": "first"} for given, family in authors],
    }


CROSSREF = "/works"


def test_crossref_gives_a_doi_its_venue_year_and_authors_after_a_503(preprints, httpserver):
    with_doi(preprints, "caching2024", "10.5555/Caching.1")
    item = crossref_item(
        "10.5555/caching.1",
        "Caching Keys Without Authors",
        "Advances in Neural Information Processing Systems",
        2024,
        authors=[("Lee", "Cache"), ("Kay", "Vee")],
    )
    answers = iter([Response("busy", 503), Response(json.dumps({"message": {"items": [item]}}))])
    httpserver.expect_request(CROSSREF).respond_with_handler(lambda request: next(answers))
    result = run_index(preprints, httpserver, "crossref", CROSSREF)
    assert result.exit_code == 0, result.output
    caching = record(preprints, "cache2024caching")
    assert (caching["venue"], caching["year"], caching["authors"]) == ("NeurIPS", 2024, ["Lee Cache", "Kay Vee"])
    assert {"api": "Crossref", "facts": ["authors", "year", "venue"]} in caching["source"]
    assert len(httpserver.log) == 2
    request = httpserver.log[-1][0]
    assert request.args["filter"] == "doi:10.5555/caching.1" and request.args["mailto"] == "curators@example.org"
    assert errors(preprints) == []


def test_a_preprint_doi_gives_no_venue(preprints, httpserver):
    with_doi(preprints, "caching2024", "10.5555/caching.1")
    item = crossref_item("10.5555/caching.1", "Caching Keys Without Authors", "SSRN", 2024, kind="posted-content")
    httpserver.expect_request(CROSSREF).respond_with_json({"message": {"items": [item]}})
    assert run_index(preprints, httpserver, "crossref", CROSSREF).exit_code == 0
    assert record(preprints, "caching2024").get("venue") is None


def test_an_api_that_times_out_is_reported_and_the_next_one_is_asked(preprints, httpserver):
    def slow(request):
        time.sleep(0.5)
        return Response("{}")

    with_doi(preprints, "caching2024", "10.5555/caching.1")
    httpserver.expect_request(CROSSREF).respond_with_handler(slow)
    hits = [dblp_hit("Attention at a Discount", "ICLR", 2023)]
    httpserver.expect_request("/search/publ/api").respond_with_json({"result": {"hits": {"hit": hits}}})
    dblp = ["--source", "dblp", "--dblp-endpoint", httpserver.url_for("/search/publ/api")]
    result = run_index(preprints, httpserver, "crossref", CROSSREF, "--timeout", "0.1", *dblp)
    assert result.exit_code == 1
    assert "Crossref did not answer after 5 attempts: ReadTimeout" in result.output
    assert "Traceback" not in result.output
    assert record(preprints, "muller2022attention")["venue"] == "ICLR"


def test_an_unreadable_answer_cache_is_asked_again(preprints, httpserver):
    write(preprints, ".efflit-cache/openalex.json", "{not json")
    serve(httpserver, PUBLISHED)
    result = run(preprints, httpserver)
    assert result.exit_code == 0 and "Traceback" not in result.output, result.output
    assert record(preprints, "muller2022attention")["venue"] == "ICLR"
