"""`efflit serve`: the site on 127.0.0.1, rebuilt on change, open pages told to reload."""

from __future__ import annotations

import http.client
import os
import shutil
import threading
import time
import urllib.error
import urllib.request

import pytest

from efflit import serve
from efflit.cli import _print_build
from efflit.kb.problems import Position, Report
from efflit.pipeline import check as check_module
from efflit.pipeline.replay import Built, build
from efflit.serve import EVENTS, DevServer, site_path
from kbtools import REPOSITORY


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


class EventStream:
    """A browser's event stream, as `livereload.js` opens it for the page it shows."""

    def __init__(self, server: DevServer, page: str) -> None:
        self.connection = http.client.HTTPConnection("127.0.0.1", server.server.server_address[1], timeout=20)
        self.connection.request("GET", f"{EVENTS}?page={page}")
        self.response = self.connection.getresponse()
        assert self.response.headers["Content-Type"] == "text/event-stream"
        deadline = time.monotonic() + 10
        while site_path(page) not in server.browsers.open_pages():  # the server counts it as open
            assert time.monotonic() < deadline
            time.sleep(0.01)

    def next_event(self) -> bytes:
        """The next event or keep-alive comment, up to the blank line that ends it."""
        lines = [self.response.readline()]
        while lines[-1] not in (b"\n", b""):
            lines.append(self.response.readline())
        return b"".join(lines)

    def close(self) -> None:
        self.response.close()
        self.connection.close()


def test_a_closed_tab_soon_stops_counting_as_open(server):
    stream = EventStream(server, "/papers/caching2024/")
    stream.close()
    deadline = time.monotonic() + 10  # well within the keep-alive's 15 s, after which it was noticed
    while server.browsers.open_pages():
        assert time.monotonic() < deadline, "the server still counts the closed tab's page as open"
        time.sleep(0.05)


def edit_title(kb, new: str) -> None:
    for name in ("caching2024.yaml", "references.bib"):
        file = kb / "papers" / name
        file.write_text(file.read_text().replace("Caching Keys Without Authors", new))


def test_a_record_edit_rebuilds_and_tells_open_pages_to_reload(server, kb):
    stream = EventStream(server, "/papers/caching2024/")
    received: list[bytes] = []
    reader = threading.Thread(target=lambda: received.append(stream.next_event()))
    reader.start()
    edit_title(kb, "Caching Keys, Edited")
    reader.join(timeout=20)
    assert received and received[0].startswith(b"event: reload")
    assert "Caching Keys, Edited" in get(server.url + "papers/caching2024/")
    stream.close()


def built(server: DevServer, builds: int) -> None:
    """Wait until the server has built once more than ``builds`` times."""
    deadline = time.monotonic() + 20
    while len(server.builds) <= builds:
        assert time.monotonic() < deadline
        time.sleep(0.01)


@pytest.fixture
def held_build(monkeypatch):
    """The server's builds wait until released, and return what ``outcome`` says (by default, what
    the build gives)."""
    release, outcome = threading.Event(), {}

    def held(root, out, options):
        assert release.wait(20)
        return outcome.get("report") or build(root, out, options)

    monkeypatch.setattr(serve, "build", held)
    return release, outcome


def test_an_open_page_shows_an_edit_before_the_whole_site_is_built_again(server, kb, held_build):
    release, _ = held_build
    stream = EventStream(server, "/papers/caching2024/")
    seen, builds = server.generation.number, len(server.builds)
    edit_title(kb, "Caching Keys, Shown Ahead")  # the server notices
    assert stream.next_event().startswith(b"event: reload")
    assert "Caching Keys, Shown Ahead" in get(server.url + "papers/caching2024/")
    assert "Caching Keys, Shown Ahead" not in (kb / "site/papers/caching2024/index.html").read_text()
    release.set()
    built(server, builds)
    assert "Caching Keys, Shown Ahead" in (kb / "site/papers/caching2024/index.html").read_text()
    assert server.generation.number == seen + 1  # the page shown ahead is the site's: no second reload
    assert "open pages shown" in server.builds[-1].timings
    stream.close()


def test_pages_shown_ahead_of_a_build_that_fails_go_back_to_the_site_served(server, kb, held_build):
    release, outcome = held_build
    failed = Report()
    failed.error(Position("papers/references.bib"), "the link check failed")
    outcome["report"] = Built("", failed, {})
    stream = EventStream(server, "/papers/caching2024/")
    seen, builds = server.generation.number, len(server.builds)
    edit_title(kb, "Caching Keys, Shown Ahead")
    assert stream.next_event().startswith(b"event: reload")
    assert "Caching Keys, Shown Ahead" in get(server.url + "papers/caching2024/")
    assert "Caching Keys, Shown Ahead" not in get(server.url + "papers/")  # a page not open waits for the build
    release.set()
    assert stream.next_event().startswith(b"event: reload")
    built(server, builds)
    assert server.generation.number == seen + 2
    assert "Caching Keys Without Authors" in get(server.url + "papers/caching2024/")
    stream.close()


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
    _print_build(Report(timings={"check": 0.5, "total": 3.4567, "open pages shown": 0.61}))
    lines = capsys.readouterr().err.splitlines()
    assert lines[0].endswith(" built in 3.46 s: 0 errors, 0 warnings")
    assert lines[3].endswith(" built in 3.46 s (open pages showed it after 0.61 s): 0 errors, 0 warnings")
    assert lines[1].endswith(" built: 0 errors, 0 warnings")
    assert lines[2].endswith(" build failed in 0.50 s, still serving the previous site: 1 error, 0 warnings")


def test_the_taxonomy_saved_by_replacing_the_file_is_rebuilt(server, kb):
    builds = len(server.builds)
    taxonomy = kb / "taxonomy.yaml"
    saved = kb / ".taxonomy.yaml.new"  # as editors save: a new file, renamed over the old one
    saved.write_text(taxonomy.read_text().replace("name: Inference efficiency", "name: Inference, edited"))
    os.replace(saved, taxonomy)
    built(server, builds)
    assert "Inference, edited" in get(server.url + "topics/inference/")


def test_templates_made_while_serving_are_used(server, kb):
    builds = len(server.builds)
    (kb / "templates").mkdir()
    (kb / "templates/404.html").write_text(
        (REPOSITORY / "templates/404.html").read_text().replace("</h1>", " (our own)</h1>")
    )
    built(server, builds)
    deadline = time.monotonic() + 20
    while "(our own)" not in (kb / "site/404.html").read_text():  # perhaps in the build after the folder's
        assert time.monotonic() < deadline
        time.sleep(0.05)


def test_an_edit_shown_ahead_is_checked_once_for_the_page_and_the_build(server, kb, monkeypatch):
    checks = []
    real = check_module._check
    monkeypatch.setattr(check_module, "_check", lambda *args: checks.append(args) or real(*args))
    stream = EventStream(server, "/papers/caching2024/")
    builds = len(server.builds)
    edit_title(kb, "Caching Keys, Checked Once")
    assert stream.next_event().startswith(b"event: reload")
    built(server, builds)
    assert "Caching Keys, Checked Once" in (kb / "site/papers/caching2024/index.html").read_text()
    assert len(checks) == 1
    stream.close()


def test_a_folder_of_records_replaced_under_the_same_name_is_still_watched(server, kb):
    builds = len(server.builds)
    (kb / "papers").rename(kb / "papers-before")
    shutil.copytree(kb / "papers-before", kb / "papers")  # as a checkout of another branch may
    built(server, builds)
    builds = len(server.builds)
    edit_title(kb, "Caching Keys, In The New Folder")
    built(server, builds)
    deadline = time.monotonic() + 20
    while "Caching Keys, In The New Folder" not in get(server.url + "papers/caching2024/"):
        assert time.monotonic() < deadline
        time.sleep(0.05)


def test_listings_shown_ahead_are_the_pages_the_build_makes(server, kb, held_build):
    release, _ = held_build
    streams = [EventStream(server, page) for page in ("/papers/", "/topics/inference/")]
    seen, builds = server.generation.number, len(server.builds)
    edit_title(kb, "Caching Keys, Listed Ahead")
    for stream in streams:
        assert stream.next_event().startswith(b"event: reload")
    assert "Caching Keys, Listed Ahead" in get(server.url + "papers/")
    assert "Caching Keys, Listed Ahead" in get(server.url + "topics/inference/")
    release.set()
    built(server, builds)
    assert server.generation.number == seen + 1  # the same bytes as the build's: no second reload
    for stream in streams:
        stream.close()


@pytest.mark.parametrize("kept", ["sources/references.bib", "references.bib"])  # the latter: at the root, site beside
def test_a_bib_file_linked_from_elsewhere_in_the_knowledge_base_is_rebuilt_when_edited(kb, kept):
    (kb / kept).parent.mkdir(exist_ok=True)
    shutil.move(kb / "papers/references.bib", kb / kept)
    (kb / "papers/references.bib").symlink_to(f"../{kept}")
    reports: list[Report] = []
    server = DevServer(kb, kb / "site", 0, on_build=reports.append)
    server.builds = reports
    server.start()
    try:
        assert not reports[-1].errors
        builds = len(reports)
        bib = kb / kept  # edited where it is kept, not through the link
        bib.write_text(bib.read_text().replace("Caching Keys Without Authors", "Caching Keys, Mistyped"))
        built(server, builds)
        assert [p for p in reports[-1].errors if "title" in p.message]  # the record and its entry disagree now
    finally:
        server.stop()
