"""`efflit serve`: build, serve the site on 127.0.0.1, rebuild on every change, reload open pages.

Pages built for serving load `static/livereload.js`, which listens on
`/__efflit/events` (server-sent events) and reloads when a rebuild succeeds.  The
server stamps each HTML page it sends with the build it came from, so a rebuild
that finishes before the page has connected still reloads it.  A rebuild with
errors prints them and leaves the served site as it was.
"""

from __future__ import annotations

import functools
import threading
import time
from collections.abc import Callable
from http import HTTPStatus
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs

from efflit.problems import Report
from efflit.project import Options
from efflit.reuse import build

EVENTS = "/__efflit/events"
POLL_SECONDS = 0.4
KEEPALIVE_SECONDS = 15


class Generation:
    """Counts successful builds; event streams wait on it."""

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


class Handler(SimpleHTTPRequestHandler):
    generation: Generation

    def do_GET(self) -> None:
        path, _, query = self.path.partition("?")
        if path == EVENTS:
            self._stream_events(parse_qs(query).get("since", [""])[0])
            return
        file = Path(self.translate_path(path))
        if file.is_dir() and path.endswith("/"):
            file = file / "index.html"
        if file.suffix == ".html" and file.is_file():
            self._send_page(file)
        else:
            super().do_GET()

    def _send_page(self, file: Path) -> None:
        stamp = f'<meta name="efflit-build" content="{self.generation.number}">'
        body = file.read_bytes().replace(b"<head>", b"<head>" + stamp.encode(), 1)
        self.send_response(HTTPStatus.OK)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-cache")
        self.end_headers()
        self.wfile.write(body)

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        page = Path(self.directory) / "404.html"
        if code != HTTPStatus.NOT_FOUND or not page.is_file():
            super().send_error(code, message, explain)
            return
        body = page.read_bytes()
        self.send_response(code)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _stream_events(self, since: str) -> None:
        self.send_response(HTTPStatus.OK)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Cache-Control", "no-cache")
        self.end_headers()
        seen = int(since) if since.isdigit() else self.generation.number
        try:
            while True:
                now = self.generation.wait_after(seen, KEEPALIVE_SECONDS)
                self.wfile.write(b"event: reload\ndata: %d\n\n" % now if now != seen else b": keep-alive\n\n")
                self.wfile.flush()
                seen = now
        except (BrokenPipeError, ConnectionResetError):
            pass

    def log_message(self, *args: object) -> None:
        pass  # the terminal shows builds, not every request


def sources(root: Path) -> dict[Path, tuple[int, int]]:
    """What a rebuild depends on, with modification time and size."""
    files = [root / "taxonomy.yaml", root / "pyproject.toml"]
    files += [p for folder in ("papers", "templates") for p in (root / folder).rglob("*")]
    return {p: (s.st_mtime_ns, s.st_size) for p in files if p.is_file() and (s := p.stat())}


class DevServer:
    """The served site and its watcher; ``start()`` returns once the first build is done."""

    def __init__(self, root: Path, out: Path, port: int, on_build: Callable[[Report], None]) -> None:
        self.root, self.out, self.on_build = root, out, on_build
        self.generation = Generation()
        handler = type("BoundHandler", (Handler,), {"generation": self.generation})
        self.server = ThreadingHTTPServer(("127.0.0.1", port), functools.partial(handler, directory=str(out)))
        self.server.daemon_threads = True
        self.stopping = threading.Event()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/"

    def rebuild(self) -> Report:
        _, report = build(self.root, self.out, Options(live_reload=True))
        if not report.failed():
            self.generation.bump()
        self.on_build(report)
        return report

    def start(self) -> None:
        self.rebuild()
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        threading.Thread(target=self._watch, daemon=True).start()

    def stop(self) -> None:
        self.stopping.set()
        self.server.shutdown()
        self.server.server_close()

    def _watch(self) -> None:
        seen = sources(self.root)
        while not self.stopping.wait(POLL_SECONDS):
            now = sources(self.root)
            if now != seen:
                seen = now
                time.sleep(0.05)  # let an editor finish writing the file it saves
                self.rebuild()
