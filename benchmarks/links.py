"""Check 5,000 URLs served by a local server and report time, peak memory and peak concurrency.

    python benchmarks/links.py [--urls 5000] [--delay 0.02]

The server answers every path with 200 after ``delay`` seconds and records how many requests it
holds at once, which shows that the checker's bound on concurrency holds.
"""

from __future__ import annotations

import argparse
import resource
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from efflit.kb.models import LinkSettings
from efflit.links import Checker


class Counting(BaseHTTPRequestHandler):
    active = 0
    peak = 0
    total = 0
    lock = threading.Lock()
    delay = 0.0

    def answer(self) -> None:
        with Counting.lock:
            Counting.active += 1
            Counting.total += 1
            Counting.peak = max(Counting.peak, Counting.active)
        time.sleep(Counting.delay)
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()
        with Counting.lock:
            Counting.active -= 1

    do_HEAD = do_GET = answer

    def log_message(self, *args: object) -> None:
        pass


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--urls", type=int, default=5000)
    parser.add_argument("--delay", type=float, default=0.02, help="seconds the server takes per answer")
    parser.add_argument("--concurrency", type=int, default=32)
    args = parser.parse_args()
    Counting.delay = args.delay
    server = ThreadingHTTPServer(("127.0.0.1", 0), Counting)
    server.daemon_threads = True
    server.request_queue_size = 256
    threading.Thread(target=server.serve_forever, daemon=True).start()
    port = server.server_address[1]
    urls = [f"http://127.0.0.1:{port}/paper/{n}" for n in range(args.urls)]
    # One host here, so the per-host bound would serialise everything: lift it to the global one.
    settings = LinkSettings(concurrency=args.concurrency, per_host=args.concurrency, intervals={}, retries=1)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = time.perf_counter()
    results = Checker(settings, cache=None, allow_private=True).run(urls)
    seconds = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    fine = sum(r.ok for r in results.values())
    print(f"{len(urls)} URLs, {fine} fine, {Counting.total} requests in {seconds:.1f} s ({len(urls) / seconds:.0f}/s)")
    print(f"peak requests at the server at once: {Counting.peak} (bound: {args.concurrency})")
    print(f"peak RSS: {peak / 1024:.0f} MB (before checking: {before / 1024:.0f} MB)")
    server.shutdown()


if __name__ == "__main__":
    main()
