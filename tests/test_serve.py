"""`efflit serve`: the site on 127.0.0.1, rebuilt on change, open pages told to reload."""

from __future__ import annotations

import http.client
import threading
import urllib.error
import urllib.request

import pytest

from efflit.cli import _print_build
from efflit.problems import Position, Report
from efflit.serve import EVENTS, DevServer


@pytest.fixture
def server(kb):
    builds = []
    server = DevServer(kb, kb / "site", 0, on_build=builds.append)
    server.builds = builds
    server.start()
    yield server
    server.stop()


def get(url: str) -> str:
    with urllib.request.urlopen(url, timeout=10) as response:
        return response.read().decode()


def test_serves_the_built_site_with_the_reload_script(server):
    html = get(server.url + "papers/caching2024/")
    assert "Caching Keys Without Authors" in html
    assert "static/livereload.js" in html


def test_missing_page_gets_the_404_page(server):
    with pytest.raises(urllib.error.HTTPError) as error:
        get(server.url + "no/such/page/")
    assert error.value.code == 404
    assert "Page not found" in error.value.read().decode()


def test_a_record_edit_rebuilds_and_tells_open_pages_to_reload(server, kb):
    port = server.server.server_address[1]
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=20)
    connection.request("GET", EVENTS)
    stream = connection.getresponse()
    assert stream.headers["Content-Type"] == "text/event-stream"
    received: list[bytes] = []
    reader = threading.Thread(target=lambda: received.append(stream.readline() + stream.readline()))
    reader.start()
    record = kb / "papers/caching2024.yaml"
    record.write_text(record.read_text().replace("Caching Keys Without Authors", "Caching Keys, Edited"))
    bib = kb / "papers/references.bib"
    bib.write_text(bib.read_text().replace("Caching Keys Without Authors", "Caching Keys, Edited"))
    reader.join(timeout=20)
    assert received and received[0].startswith(b"event: reload")
    assert "Caching Keys, Edited" in get(server.url + "papers/caching2024/")
    connection.close()


def test_a_broken_edit_keeps_serving_the_previous_site(server, kb):
    record = kb / "papers/caching2024.yaml"
    record.write_text(record.read_text().replace("year: 2024", "year: [oops"))
    report = server.rebuild()
    assert report.failed()
    assert "Caching Keys Without Authors" in get(server.url + "papers/caching2024/")


def test_the_terminal_says_how_long_each_rebuild_took(capsys):
    _print_build(Report(timings={"check": 0.5, "total": 3.4567}))
    _print_build(Report())  # up to date: nothing was built
    failed = Report(timings={"check": 0.5, "total": 0.5})
    failed.error(Position("papers/x.yaml", 2), "broken")
    _print_build(failed)
    lines = capsys.readouterr().err.splitlines()
    assert lines[0].endswith(" built in 3.46 s: 0 errors, 0 warnings")
    assert lines[1].endswith(" built: 0 errors, 0 warnings")
    assert lines[2].endswith(" build failed in 0.50 s, still serving the previous site: 1 error, 0 warnings")
