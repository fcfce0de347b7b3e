"""External links against local servers on 127.0.0.1: statuses, redirects, retries, politeness, cache."""

from __future__ import annotations

import json
import socket
import threading
import time

import pytest
from click.testing import CliRunner
from werkzeug import Response

from efflit.cli import main
from efflit.curation import arxiv
from efflit.kb.models import LinkSettings
from efflit.links import Checker, check_links
from efflit.pipeline.check import check as run_check
from kbtools import FIXTURES

FAST = LinkSettings(timeout=0.5, retries=2, intervals={})


def check(urls, settings=FAST, cache=None, allow_private=True):
    checker = Checker(settings, cache, allow_private)
    return checker.run(urls), checker


@pytest.fixture
def arrivals(httpserver):
    """Times at which the server received each request, as it logs them."""
    times: list[float] = []
    original = httpserver.dispatch

    def dispatch(request):
        times.append(time.monotonic())
        return original(request)

    httpserver.dispatch = dispatch
    return times


def test_statuses_redirects_and_loops(httpserver):
    httpserver.expect_request("/ok").respond_with_data("fine")
    httpserver.expect_request("/gone").respond_with_data("", status=410)
    httpserver.expect_request("/missing").respond_with_data("", status=404)
    httpserver.expect_request("/old").respond_with_response(Response(status=301, headers={"Location": "/older"}))
    httpserver.expect_request("/older").respond_with_response(Response(status=308, headers={"Location": "/ok"}))
    httpserver.expect_request("/temporary").respond_with_response(Response(status=302, headers={"Location": "/ok"}))
    httpserver.expect_request("/loop-a").respond_with_response(Response(status=302, headers={"Location": "/loop-b"}))
    httpserver.expect_request("/loop-b").respond_with_response(Response(status=302, headers={"Location": "/loop-a"}))
    url = httpserver.url_for
    results, _ = check([url(p) for p in ("/ok", "/gone", "/missing", "/old", "/temporary", "/loop-a")])
    got = {u.removeprefix(url("")): (r.ok, r.detail, r.moved_to) for u, r in results.items()}
    assert got == {
        "ok": (True, "200 OK", None),
        "gone": (False, "410 Gone", None),
        "missing": (False, "404 Not Found", None),
        "old": (True, "200 OK", url("/ok")),  # permanent all the way: propose the new address
        "temporary": (True, "200 OK", None),
        "loop-a": (False, "redirect loop", None),
    }


def test_head_refused_falls_back_to_get(httpserver):
    httpserver.expect_request("/no-head", method="HEAD").respond_with_data("", status=405)
    httpserver.expect_request("/no-head", method="GET").respond_with_data("body")
    results, _ = check([httpserver.url_for("/no-head")])
    assert results[httpserver.url_for("/no-head")].ok


def test_429_with_retry_after_is_honoured(httpserver, arrivals):
    answers = iter([Response("slow down", 429, {"Retry-After": "1"}), Response("ok", 200)])
    httpserver.expect_request("/busy").respond_with_handler(lambda request: next(answers))
    results, _ = check([httpserver.url_for("/busy")])
    assert results[httpserver.url_for("/busy")].ok
    assert len(arrivals) == 2 and arrivals[1] - arrivals[0] >= 0.95


def test_503_then_200_heals(httpserver):
    answers = iter([Response("down", 503), Response("down", 503), Response("ok", 200)])
    httpserver.expect_request("/flaky").respond_with_handler(lambda request: next(answers))
    results, _ = check([httpserver.url_for("/flaky")])
    assert results[httpserver.url_for("/flaky")].ok


def test_what_cannot_heal_is_not_retried(httpserver):
    httpserver.expect_request("/missing").respond_with_data("", status=404)
    check([httpserver.url_for("/missing")])
    assert len(httpserver.log) == 2  # HEAD, then GET in case HEAD was the problem; no retries


def silent_server():
    """A server that accepts connections and never answers."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    held = []
    threading.Thread(target=lambda: [held.append(listener.accept()) for _ in range(10)], daemon=True).start()
    return listener, held


def test_a_server_that_never_answers_times_out():
    listener, _ = silent_server()
    url = f"http://127.0.0.1:{listener.getsockname()[1]}/"
    results, _ = check([url], LinkSettings(timeout=0.3, retries=1, intervals={}))
    assert (results[url].ok, results[url].detail) == (False, "timed out")
    listener.close()


def test_refused_connection_and_malformed_url():
    free = socket.socket()
    free.bind(("127.0.0.1", 0))
    port = free.getsockname()[1]
    free.close()
    refused, malformed = f"http://127.0.0.1:{port}/", "http://exa mple.org:99999/x"
    results, _ = check([refused, malformed])
    assert not results[refused].ok and results[refused].detail.startswith("cannot connect")
    assert not results[malformed].ok and results[malformed].detail.startswith("malformed URL")


def test_non_ascii_url_is_encoded(httpserver):
    httpserver.expect_request("/café/über").respond_with_data("ok")
    url = httpserver.url_for("/café/über")
    results, _ = check([url])
    assert results[url].ok, results[url]


def test_cache_spares_fresh_good_results_but_never_failures(httpserver, tmp_path):
    httpserver.expect_request("/ok").respond_with_data("fine")
    httpserver.expect_request("/missing").respond_with_data("", status=404)
    urls = [httpserver.url_for("/ok"), httpserver.url_for("/missing")]
    cache = tmp_path / "links.json"
    check(urls, cache=cache)
    first = len(httpserver.log)
    results, checker = check(urls, cache=cache)
    assert [request.path for request, _ in httpserver.log[first:]] == ["/missing", "/missing"]  # only the failure
    assert results[urls[0]].ok and not results[urls[1]].ok


def test_stale_cache_entries_are_checked_again(httpserver, tmp_path):
    httpserver.expect_request("/ok").respond_with_data("fine")
    cache = tmp_path / "links.json"
    check([httpserver.url_for("/ok")], cache=cache)
    check([httpserver.url_for("/ok")], LinkSettings(timeout=0.5, retries=0, intervals={}, cache_days=0), cache)
    assert len(httpserver.log) == 2


def test_per_host_interval_is_kept(httpserver, arrivals):
    for n in range(6):
        httpserver.expect_request(f"/p{n}").respond_with_data("ok")
    settings = LinkSettings(timeout=2, retries=0, intervals={"localhost": 0.25}, per_host=4, concurrency=8)
    check([httpserver.url_for(f"/p{n}") for n in range(6)], settings)
    gaps = [b - a for a, b in zip(arrivals, arrivals[1:], strict=False)]
    assert len(arrivals) == 6 and min(gaps) >= 0.2, gaps  # starts are 0.25 s apart; arrivals vary by connection set-up


def test_private_addresses_are_not_fetched_by_default(httpserver):
    httpserver.expect_request("/ok").respond_with_data("fine")
    results, _ = check([httpserver.url_for("/ok")], allow_private=False)
    assert results[httpserver.url_for("/ok")].skipped and len(httpserver.log) == 0


def write_record(kb, code: str) -> None:
    path = kb / "papers/example2023quantizing.yaml"
    path.write_text(path.read_text().replace("code: https://example.org/code/quantizing", f"code: {code}"))


def run(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


def only_local_links(kb) -> None:
    (kb / "pyproject.toml").write_text(
        (kb / "pyproject.toml").read_text() + '\n[tool.efflit.links]\ninclude = ["localhost"]\n'
    )


def test_a_link_broken_in_two_runs_in_a_row_fails_the_run_at_the_record(kb, httpserver):
    httpserver.expect_request("/gone").respond_with_data("", status=404)
    write_record(kb, httpserver.url_for("/gone"))
    only_local_links(kb)
    place = "papers/example2023quantizing.yaml:9:7"
    first = run("links", "--root", kb, "--allow-private", "--no-cache")
    assert first.exit_code == 0, first.output  # a host down for an hour does not fail CI
    assert f"{place}: warning: code {httpserver.url_for('/gone')} 404 Not Found (broken in this run" in first.output
    second = run("links", "--root", kb, "--allow-private", "--no-cache")
    assert second.exit_code == 2, second.output
    assert f"{place}: error: code {httpserver.url_for('/gone')} 404 Not Found" in second.output


def test_fail_fast_fails_on_the_first_broken_run(kb, httpserver):
    httpserver.expect_request("/gone").respond_with_data("", status=404)
    write_record(kb, httpserver.url_for("/gone"))
    only_local_links(kb)
    result = run("links", "--root", kb, "--allow-private", "--no-cache", "--fail-fast")
    assert result.exit_code == 2 and ": error: code " in result.output


def test_a_link_that_heals_starts_counting_again(kb, httpserver):
    healed = []
    httpserver.expect_request("/flaky").respond_with_handler(
        lambda request: Response("ok") if healed else Response("", status=404)
    )
    write_record(kb, httpserver.url_for("/flaky"))
    only_local_links(kb)
    assert run("links", "--root", kb, "--allow-private", "--no-cache").exit_code == 0  # broken once: a warning
    healed.append(True)
    assert run("links", "--root", kb, "--allow-private", "--no-cache").exit_code == 0
    healed.clear()
    third = run("links", "--root", kb, "--allow-private", "--no-cache")
    assert third.exit_code == 0 and "(broken in this run, not in the last)" in third.output


def test_a_bot_wall_is_unverifiable_not_broken(kb, httpserver):
    httpserver.expect_request("/walled").respond_with_data("no robots", status=403)
    write_record(kb, httpserver.url_for("/walled"))
    only_local_links(kb)
    result = run("links", "--root", kb, "--allow-private", "--no-cache", "--fail-fast")
    assert result.exit_code == 0, result.output
    assert "cannot be verified: 403 Forbidden (the host turns robots away)" in result.output


def test_links_command_exits_0_when_all_is_well_and_1_on_data_errors(kb, httpserver):
    httpserver.expect_request("/fine").respond_with_data("ok")
    write_record(kb, httpserver.url_for("/fine"))
    (kb / "pyproject.toml").write_text(
        (kb / "pyproject.toml").read_text() + '\n[tool.efflit.links]\ninclude = ["localhost"]\n'
    )
    assert run("links", "--root", kb, "--allow-private").exit_code == 0
    record = kb / "papers/caching2024.yaml"
    record.write_text(record.read_text().replace("year: 2024", "year: never"))
    assert run("links", "--root", kb).exit_code == 1


def test_links_json_format(kb, httpserver):
    httpserver.expect_request("/gone").respond_with_data("", status=410)
    write_record(kb, httpserver.url_for("/gone"))
    (kb / "pyproject.toml").write_text(
        (kb / "pyproject.toml").read_text() + '\n[tool.efflit.links]\ninclude = ["localhost"]\n'
    )
    result = CliRunner().invoke(
        main, ["links", "--root", str(kb), "--allow-private", "--fail-fast", "--format", "json"]
    )

    (problem,) = json.loads(result.stdout)
    assert (problem["path"], problem["line"], problem["severity"]) == ("papers/example2023quantizing.yaml", 9, "error")


def test_a_server_asking_to_wait_a_day_is_reported_unchecked_at_once(httpserver, arrivals):
    httpserver.expect_request("/a").respond_with_response(Response("slow down", 429, {"Retry-After": "86400"}))
    httpserver.expect_request("/b").respond_with_response(Response("slow down", 429, {"Retry-After": "86400"}))
    started = time.monotonic()
    results, _ = check([httpserver.url_for("/a"), httpserver.url_for("/b")], LinkSettings(retries=3, intervals={}))
    assert time.monotonic() - started < 5  # not 2 URLs x 3 retries x the 120 s cap
    for url in (httpserver.url_for("/a"), httpserver.url_for("/b")):
        assert results[url].unchecked and not results[url].ok
        assert results[url].detail == "not checked: the server asks to wait 86400 s (more than 120)"
    assert len(arrivals) <= 2  # once the host has asked for a day, its other links are not tried


def test_the_wait_one_host_may_cost_is_bounded(httpserver, monkeypatch):
    monkeypatch.setattr("efflit.links.MAX_HOST_WAIT", 1.0)
    httpserver.expect_request("/slow").respond_with_response(Response("busy", 503, {"Retry-After": "0.4"}))
    started = time.monotonic()
    results, _ = check([httpserver.url_for("/slow")], LinkSettings(retries=10, intervals={}))
    assert time.monotonic() - started < 2.5
    assert results[httpserver.url_for("/slow")].detail == "not checked: its host kept asking to wait (1 s in all)"


def test_an_unchecked_link_is_a_warning_that_says_why(kb, httpserver):
    httpserver.expect_request("/code").respond_with_response(Response("slow down", 429, {"Retry-After": "86400"}))
    record = kb / "papers/example2023quantizing.yaml"
    record.write_text(record.read_text().replace("https://example.org/code/quantizing", httpserver.url_for("/code")))
    (kb / "pyproject.toml").write_text(
        (kb / "pyproject.toml").read_text() + '\n[tool.efflit.links]\ninclude = ["localhost"]\n'
    )
    result = run("links", "--root", kb, "--allow-private", "--no-cache")
    line = next(line for line in result.output.splitlines() if "/code" in line)
    assert line.startswith("papers/example2023quantizing.yaml:9:7: warning: code ")
    assert line.endswith("not checked: the server asks to wait 86400 s (more than 120)")


def test_a_doi_is_asked_at_its_handle_not_followed_through_the_publisher(httpserver):
    httpserver.expect_request("/api/handles/10.1234/real").respond_with_json({"responseCode": 1})
    httpserver.expect_request("/api/handles/10.1234/made-up").respond_with_json({"responseCode": 100}, status=404)
    checker = Checker(FAST, None, allow_private=True, handles=httpserver.url_for("/api/handles/"))
    results = checker.run(["https://doi.org/10.1234/real", "https://doi.org/10.1234/made-up"])
    assert (results["https://doi.org/10.1234/real"].ok, results["https://doi.org/10.1234/real"].detail) == (
        True,
        "DOI registered",
    )
    made_up = results["https://doi.org/10.1234/made-up"]
    assert (made_up.ok, made_up.detail) == (False, "DOI not registered (404 Not Found)")


def test_arxiv_pages_are_checked_through_the_api_in_one_batch(kb, httpserver):
    httpserver.expect_request("/api/query").respond_with_data((FIXTURES / "arxiv/feed.atom").read_text())
    papers = run_check(kb)[0].papers
    client = arxiv.Client(httpserver.url_for("/api/query"), interval=0.01)
    report = check_links(papers, LinkSettings(include=["arxiv.org"]), None, arxiv_client=client)
    assert [p.message for p in report.errors] == [
        "arxiv https://arxiv.org/abs/hep-th/9901001 arXiv knows no paper hep-th/9901001"
    ]
    assert len(httpserver.log) == 1  # both records' ids in one request, no page fetched
