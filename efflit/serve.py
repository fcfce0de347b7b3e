"""`efflit serve`: build, serve the site on 127.0.0.1, rebuild on every change, reload open pages.

Pages served load `static/livereload.js` (the server adds it), which listens on
`/__efflit/events` (server-sent events) and reloads when a rebuild succeeds.  The
server stamps each HTML page it sends with the build it came from, so a rebuild
that finishes before the page has connected still reloads it.  A rebuild with
errors prints them and leaves the served site as it was.

An edit shows in the open pages before the whole site is built again, as in Hugo's
fast render mode: each page's event stream says which page it is, those pages are
rendered from the edited knowledge base first (a fraction of a second, where the
whole build takes seconds) and served from memory until the new site is in place.
"""

from __future__ import annotations

import functools
import socket
import sys
import threading
import time
import traceback
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http import HTTPStatus
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, unquote

import watchfiles

from efflit.kb.problems import Report
from efflit.kb.project import PAPERS, PYPROJECT, TAXONOMY, TEMPLATES, VENUES, Options, entries_under
from efflit.memory.cache import Hashes, file_identity, updated_hashes
from efflit.pipeline.build import preview
from efflit.pipeline.replay import build
from efflit.site.write import folder_identity

EVENTS = "/__efflit/events"
SERVED = Options()  # the site `efflit build` makes, with no other options
RELOAD_SCRIPT = '<script src="/static/livereload.js" defer></script>'  # the site is served at the root
QUIET_MS = 50  # a change is built once no other came for this long (an editor saving several files),
# or once changes have kept coming for 1.6 s (watchfiles' longest wait)
TOP_FILES = (TAXONOMY, VENUES, PYPROJECT)  # read by a build beside the watched folders
TOP_FILES_MS = 400  # how often they are looked at
KEEPALIVE_SECONDS = 15
# How soon a closed tab stops counting as open: until then, an edit renders its page ahead for nobody.
LEFT_SECONDS = 0.5


class Generation:
    """Counts what the open pages must reload for (a build in place, pages shown ahead of one);
    event streams wait on it."""

    def __init__(self) -> None:
        self.number = 0
        self.changed = threading.Condition()

    def bump(self) -> None:
        with self.changed:
            self.number += 1
            self.changed.notify_all()

    def wait_after(self, seen: int, timeout: float) -> int:
        with self.changed:
            self.changed.wait_for(lambda: self.number != seen, timeout)
            return self.number


class Browsers:
    """What the connected browsers see: the pages open in them (their event streams say which), and
    the pages rendered ahead of the build (site path -> bytes), served instead of the site's own."""

    def __init__(self) -> None:
        self.ahead: dict[str, bytes] = {}  # replaced whole, never changed in place: threads read it
        self.sent_behind = False  # whether a page was sent from the site while others were shown ahead
        self._open: Counter[str] = Counter()
        self._lock = threading.Lock()

    def show_ahead(self, pages: dict[str, bytes]) -> None:
        self.sent_behind = False
        self.ahead = pages

    def stop_showing_ahead(self) -> dict[str, bytes]:
        """The pages that were shown ahead of the build."""
        ahead, self.ahead = self.ahead, {}
        return ahead

    @contextmanager
    def showing(self, page: str) -> Iterator[None]:
        """While a browser shows the page at this site path."""
        with self._lock:
            self._open[page] += 1
        try:
            yield
        finally:
            with self._lock:
                self._open[page] -= 1
                if not self._open[page]:
                    del self._open[page]

    def open_pages(self) -> set[str]:
        with self._lock:
            return set(self._open)


def site_path(url_path: str) -> str:
    """The file of the site a URL path asks for: `/papers/x/` is `papers/x/index.html`.  Not made
    safe to open (`..` is left as it is): it only names pages among those shown ahead."""
    path = unquote(url_path).lstrip("/")
    return f"{path}index.html" if path == "" or path.endswith("/") else path


class Handler(SimpleHTTPRequestHandler):
    generation: Generation
    browsers: Browsers

    def do_GET(self) -> None:
        path, _, query = self.path.partition("?")
        if path == EVENTS:
            asked = parse_qs(query)
            self._stream_events(asked.get("since", [""])[0], site_path(asked.get("page", ["/"])[0]))
            return
        # Read before the page: a page older than its stamp could miss the reload it needs.
        build = self.generation.number
        ahead = self.browsers.ahead.get(site_path(path))
        if ahead is not None:
            self._send_page(ahead, build)
            return
        file = Path(self.translate_path(path))
        if file.is_dir() and path.endswith("/"):
            file = file / "index.html"
        if file.suffix == ".html" and file.is_file():
            self.browsers.sent_behind |= bool(self.browsers.ahead)
            self._send_page(file.read_bytes(), build)
        else:
            super().do_GET()

    def _send_page(self, page: bytes, build: int, status: HTTPStatus = HTTPStatus.OK) -> None:
        """A page of the site as served: stamped with the build it came from, and with the script
        that reloads it (added here, not by the build, so that the site `efflit build` makes is
        the one served, and each reuses what the other made)."""
        stamp = f'<meta name="efflit-build" content="{build}">{RELOAD_SCRIPT}'
        body = page.replace(b"<head>", b"<head>" + stamp.encode(), 1)
        self.send_response(status)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-cache")
        self.end_headers()
        self.wfile.write(body)

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        build, page = self.generation.number, Path(self.directory) / "404.html"
        if code != HTTPStatus.NOT_FOUND or not page.is_file():
            super().send_error(code, message, explain)
            return
        self._send_page(page.read_bytes(), build, HTTPStatus.NOT_FOUND)

    def _stream_events(self, since: str, page: str) -> None:
        self.send_response(HTTPStatus.OK)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Cache-Control", "no-cache")
        self.end_headers()
        seen = int(since) if since.isdigit() else self.generation.number
        sent = time.monotonic()
        try:
            with self.browsers.showing(page):
                while not self._browser_left():
                    now = self.generation.wait_after(seen, LEFT_SECONDS)
                    if now != seen or time.monotonic() - sent >= KEEPALIVE_SECONDS:
                        self.wfile.write(b"event: reload\ndata: %d\n\n" % now if now != seen else b": keep-alive\n\n")
                        self.wfile.flush()
                        seen, sent = now, time.monotonic()
        except (BrokenPipeError, ConnectionResetError):
            pass

    def _browser_left(self) -> bool:
        """Whether the browser closed the event stream (its tab closed, or it went to another
        page): it sends nothing on it, so a stream that can be read has ended."""
        try:
            return not self.connection.recv(1, socket.MSG_PEEK | socket.MSG_DONTWAIT)
        except BlockingIOError:
            return False  # nothing to read: still open
        except OSError:
            return True

    def log_message(self, *args: object) -> None:
        pass  # the terminal shows builds, not every request


def _input_folders(root: Path) -> list[Path]:
    """The folders whose files a build reads: records, .bib files, templates."""
    return [root / PAPERS, root / TEMPLATES]


def _linked_files(root: Path) -> dict[Path, set[Path]]:
    """The files inside the knowledge base that files in its input folders are links to (a .bib
    file may be a link to one kept elsewhere), each with the links to it: the build reads them
    through the links, so an edit of one is an edit of its links."""
    links: dict[Path, set[Path]] = defaultdict(set)
    for folder in _input_folders(root):
        for entry in entries_under(folder):
            if entry.is_symlink() and entry.is_file():
                target = Path(entry.path).resolve()
                if target.is_relative_to(root):  # else the build refuses it, and says why
                    links[target].add(Path(entry.path))
    return links


def _watched_folders(root: Path) -> dict[Path, tuple[int, int]]:
    """The input folders, each watched as a whole, and which folder is there: one replaced under
    the same name must be watched anew."""
    found = {folder: folder_identity(folder) for folder in _input_folders(root)}
    return {folder: identity for folder, identity in found.items() if identity is not None}


class DevServer:
    """The served site and its watcher; ``start()`` returns once the first build is done."""

    def __init__(self, root: Path, out: Path, port: int, on_build: Callable[[Report], None]) -> None:
        self.root, self.out, self.on_build = root.resolve(), out.resolve(), on_build
        self._hashes: Hashes = {}  # of the inputs, as the last build read them
        self.generation, self.browsers = Generation(), Browsers()
        handler = type("BoundHandler", (Handler,), {"generation": self.generation, "browsers": self.browsers})
        self.server = ThreadingHTTPServer(("127.0.0.1", port), functools.partial(handler, directory=str(self.out)))
        self.server.daemon_threads = True
        self.stopping, self._watching, self._building = threading.Event(), threading.Event(), threading.Lock()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/"

    def rebuild(self, changed: set[Path] | None = None) -> Report:
        """Build again, after the files ``changed`` changed (None: any may have)."""
        with self._building:  # one at a time: the watcher's, and any other caller's
            return self._rebuild(changed)

    def _rebuild(self, changed: set[Path] | None) -> Report:
        shown = self._show_ahead(changed)
        _, report, self._hashes = build(self.root, self.out, SERVED)
        ahead = self.browsers.stop_showing_ahead()
        if shown is not None:
            report.timings["open pages shown"] = shown
        if self._outdated(ahead, report):
            self.generation.bump()
        self.on_build(report)
        return report

    def _show_ahead(self, changed: set[Path] | None) -> float | None:
        """Render the open pages from the knowledge base as it is now and serve them until the build
        is done; returns how long it took them to be shown, or None where none could be."""
        started = time.perf_counter()
        open_pages = self.browsers.open_pages()
        if not open_pages:
            return None
        # The last build's hashes, with the changed files read again: reading all 10,000 records of
        # a large knowledge base takes a quarter of a second (None: the check reads them all).
        hashes = updated_hashes(self._hashes, changed) if changed is not None and self._hashes else None
        checked, ahead = preview(self.root, open_pages, SERVED, hashes)
        if checked.failed() or not ahead:  # the build says why
            return None
        self.browsers.show_ahead(ahead)
        self.generation.bump()
        return time.perf_counter() - started

    def _outdated(self, ahead: dict[str, bytes], report: Report) -> bool:
        """Whether open pages must reload to show the site served now.  Without pages shown ahead,
        after every build that succeeded; with them, only if the site holds other bytes for one of
        them (as after a failed build), or a page was sent from the previous site meanwhile."""
        if not ahead:
            return not report.failed()
        return (
            self.browsers.sent_behind
            or not self.browsers.open_pages() <= ahead.keys()
            or any(not self._serves(path, page) for path, page in ahead.items())
        )

    def _serves(self, path: str, page: bytes) -> bool:
        try:
            return (self.out / path).read_bytes() == page
        except OSError:
            return False

    def start(self) -> None:
        self.rebuild()
        # Check now, as showing an edit ahead does (the build may have been answered from the
        # cache, and then checked nothing): the first edit then finds the records validated.
        preview(self.root, set(), SERVED, self._hashes)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        threading.Thread(target=self._watch, daemon=True).start()
        self._watching.wait()  # an edit made from now on is seen

    def stop(self) -> None:
        self.stopping.set()
        self.server.shutdown()
        self.server.server_close()

    def _watch(self) -> None:
        """Rebuild after each change.  The folders are watched through the system's file events
        (no time is spent while nothing changes, and an edit is seen at once), then each burst of
        changes is built once; the two files at the top, and the files the folders link to, are
        looked at between events instead, as a watch on a file misses the editors that save by
        replacing it.  Where file events cannot be had (too many folders watched already), the
        folders are looked through instead."""
        moved, polling = False, False  # moved: a watched folder was made, removed or replaced
        try:
            while not self.stopping.is_set():
                links = _linked_files(self.root)
                linking = {link for group in links.values() for link in group}
                # Not the folders of the files linked to: one is often the root, site and all.
                looked_at = [*(self.root / name for name in TOP_FILES), *links]
                folders, files = _watched_folders(self.root), {file: file_identity(file) for file in looked_at}
                try:
                    for changes in watchfiles.watch(
                        *folders,
                        stop_event=self.stopping,
                        step=QUIET_MS,
                        rust_timeout=TOP_FILES_MS,
                        yield_on_timeout=True,
                        ignore_permission_denied=True,  # as a build does, which reports them
                        force_polling=polling,
                    ):
                        self._watching.set()  # its first answer comes once it watches
                        now = {file: file_identity(file) for file in looked_at}
                        events = {Path(path) for _, path in changes}
                        touched = events | {file for file in now if now[file] != files[file]}
                        # A file linked to is read as its links: they changed, not it (unless an input too).
                        changed = events | {link for path in touched for link in links.get(path, ())}
                        if touched or moved:
                            self._rebuild_and_go_on(None if moved else changed | {self.root / n for n in TOP_FILES})
                            moved, files = False, now
                        relinked = any(path in linking or path.is_symlink() for path in events)
                        if relinked or _watched_folders(self.root) != folders:
                            moved = True  # a link made, removed or pointed elsewhere, or a folder: watch anew
                            break
                except FileNotFoundError:
                    moved = True  # a folder went while it was being watched: watch anew
                except (OSError, RuntimeError) as error:
                    if polling:
                        raise
                    print(f"efflit serve: no file events ({error}); looking through the files instead", file=sys.stderr)
                    moved, polling = True, True
        finally:
            self._watching.set()  # `start` must not wait for a watcher that failed

    def _rebuild_and_go_on(self, changed: set[Path] | None) -> None:
        try:
            self.rebuild(changed)
        except Exception:  # noqa: BLE001 -- a bug: shown whole, and the previous site is still served
            traceback.print_exc()
