"""External links: every URL of the records checked over HTTP, thoroughly yet politely.

HEAD first, GET when HEAD is refused; redirects followed one hop at a time (a
permanent one is reported with the address to use instead); a global bound on
requests under way and, per host, a bound and a minimum interval between
requests; retries with backoff for what can heal (timeouts, resets, 408, 429,
5xx), honouring Retry-After up to two minutes (a host that asks for longer, or
keeps asking, has its links reported as not checked rather than stall the run).
Good results are cached for a number of days; failures never are, so a cache
never hides one.  Addresses that resolve to loopback, private or link-local
networks are not fetched unless allowed.
"""

from __future__ import annotations

import asyncio
import ipaddress
import json
import re
import socket
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from urllib.parse import quote, urljoin, urlsplit

import httpx

from efflit.base.files import write_atomic
from efflit.base.retries import retry_after
from efflit.curation import arxiv
from efflit.kb.models import ARXIV_LINK, DOI_LINK, LinkSettings
from efflit.kb.problems import Position, Report
from efflit.kb.project import CACHE as CACHE_FOLDER
from efflit.kb.validate import Paper

CACHE = CACHE_FOLDER / "links.json"
MAX_REDIRECTS = 10
RETRY_STATUSES = {408, 429, 500, 502, 503, 504}
HEALING_ERRORS = (httpx.TimeoutException, httpx.ReadError, httpx.WriteError, httpx.RemoteProtocolError)
MAX_RETRY_AFTER = 120.0  # a server asking for longer is not waited for: its links are left unchecked
MAX_HOST_WAIT = 300.0  # seconds of waiting to retry, in all, that one host may cost a run
BOT_WALLS = {401, 403}  # what publishers answer robots: the link may be fine for a reader
HANDLES = "https://doi.org/api/handles/"  # 200 for a registered DOI, 404 for one that is not


class Unchecked(str):
    """Why a link was not checked (a server that rate-limits beyond what a run waits): neither
    broken nor fine."""


@dataclass(frozen=True)
class Link:
    """One URL of one record, and where the record names it."""

    url: str
    field: str
    position: Position


@dataclass(frozen=True)
class Result:
    url: str
    ok: bool
    detail: str  # "200 OK", "404 Not Found", "timed out", ...
    moved_to: str | None = None  # the final address, when a permanent redirect led there
    skipped: bool = False  # not fetched (a private address)
    unchecked: bool = False  # not checked: the server rate-limits for longer than a run waits
    unverifiable: bool = False  # the host turns robots away (401, 403): neither broken nor fine


def record_links(papers: list[Paper]) -> list[Link]:
    """Every URL the records hold, with the position of its field."""
    links = []
    for paper in papers:
        place = paper.document.position
        links += [Link(url, name, place((name,))) for name, url in paper.record.web_links().items()]
    return links


def selected(links: list[Link], settings: LinkSettings) -> list[Link]:
    include = [re.compile(p) for p in settings.include]
    exclude = [re.compile(p) for p in settings.exclude]
    return [
        link
        for link in links
        if (not include or any(p.search(link.url) for p in include)) and not any(p.search(link.url) for p in exclude)
    ]


class Host:
    """Politeness towards one host: how many requests at once, and how long between their starts."""

    def __init__(self, concurrency: int, interval: float) -> None:
        self.slots = asyncio.Semaphore(concurrency)
        self.interval = interval
        self.turn = asyncio.Lock()
        self.last_start = float("-inf")
        self.waited = 0.0  # seconds spent waiting to retry, in all
        self.refusing: Unchecked | None = None  # set once the host asked to wait too long

    def may_wait(self, delay: float) -> Unchecked | None:
        """Why not to wait ``delay`` seconds before a retry (None: wait, and count it)."""
        if self.refusing is None and delay > MAX_RETRY_AFTER:
            self.refusing = Unchecked(
                f"not checked: the server asks to wait {delay:.0f} s (more than {MAX_RETRY_AFTER:.0f})"
            )
        elif self.refusing is None and self.waited + delay > MAX_HOST_WAIT:
            self.refusing = Unchecked(f"not checked: its host kept asking to wait ({MAX_HOST_WAIT:.0f} s in all)")
        if self.refusing is None:
            self.waited += delay
        return self.refusing

    async def wait_turn(self) -> None:
        async with self.turn:
            pause = self.last_start + self.interval - time.monotonic()
            if pause > 0:
                await asyncio.sleep(pause)
            self.last_start = time.monotonic()


class Checker:
    def __init__(
        self, settings: LinkSettings, cache: Path | None, allow_private: bool = False, handles: str = HANDLES
    ) -> None:
        """``handles``: the DOI resolver's handle API, which DOIs are asked at (tests point it at a fake)."""
        self.settings, self.cache_path, self.allow_private, self.handles = settings, cache, allow_private, handles
        self.cache: dict[str, dict] = json.loads(cache.read_text()) if cache and cache.is_file() else {}
        self.hosts: dict[str, Host] = {}

    def _host(self, host: str) -> Host:
        if host not in self.hosts:
            interval = next((s for h, s in self.settings.intervals.items() if host == h or host.endswith("." + h)), 0.0)
            self.hosts[host] = Host(self.settings.per_host, interval)
        return self.hosts[host]

    def run(self, urls: list[str], progress: Callable[[int], None] | None = None) -> dict[str, Result]:
        """Check the URLs on an event loop of our own (the caller may be running one: a notebook, a test)."""
        with ThreadPoolExecutor(max_workers=1) as worker:
            return worker.submit(asyncio.run, self.check_all(urls, progress)).result()

    async def check_all(self, urls: list[str], progress: Callable[[int], None] | None = None) -> dict[str, Result]:
        """Check each URL once with a fixed pool of workers, so memory stays bounded however many there are."""
        queue: asyncio.Queue[str] = asyncio.Queue()
        for url in dict.fromkeys(urls):
            queue.put_nowait(url)
        results: dict[str, Result] = {}
        limits = httpx.Limits(max_connections=self.settings.concurrency, max_keepalive_connections=20)
        timeout = httpx.Timeout(self.settings.timeout)
        headers = {"User-Agent": "efflit-links (+https://github.com/efflit/efflit)"}
        async with httpx.AsyncClient(limits=limits, timeout=timeout, headers=headers, follow_redirects=False) as client:

            async def worker() -> None:
                while not queue.empty():
                    url = queue.get_nowait()
                    results[url] = await self.check(client, url)
                    if progress:
                        progress(len(results))

            await asyncio.gather(*(worker() for _ in range(min(self.settings.concurrency, queue.qsize() or 1))))
        self._save()
        return results

    async def check(self, client: httpx.AsyncClient, url: str) -> Result:
        cached = self.cache.get(url)
        if cached and time.time() - cached["checked_at"] < self.settings.cache_days * 86400:
            return Result(url, True, cached["detail"], cached.get("moved_to"))
        if url.startswith(DOI_LINK):
            # A DOI is registered or not: its handle says so at once, where following it leads
            # through publishers' redirects and bot walls.
            doi = url[len(DOI_LINK) :]
            result = await self._follow(client, self.handles + quote(doi, safe="/"))
            detail = "DOI registered" if result.ok else f"DOI not registered ({result.detail})"
            result = replace(result, url=url, detail=detail, moved_to=None)
        else:
            result = await self._follow(client, url)
        if result.ok and not result.skipped:
            self.cache[url] = {"checked_at": time.time(), **asdict(result)}
        return result

    async def _follow(self, client: httpx.AsyncClient, url: str) -> Result:
        current, seen, permanent = url, set(), True
        for _ in range(MAX_REDIRECTS + 1):
            try:
                parts = _parse(current)
            except ValueError as error:
                return Result(url, False, f"malformed URL: {error}")
            if current in seen:
                return Result(url, False, "redirect loop")
            seen.add(current)
            if not self.allow_private and await _private(parts.host):
                return Result(url, True, "not fetched: the address is loopback, private or link-local", skipped=True)
            outcome = await self._request(client, parts)
            if isinstance(outcome, Unchecked):
                return Result(url, False, outcome, unchecked=True)
            if isinstance(outcome, str):
                return Result(url, False, outcome)
            status, reason, location = outcome
            if 300 <= status < 400 and location:
                permanent = permanent and status in (301, 308)
                current = urljoin(str(parts), location)
                continue
            ok = 200 <= status < 300 or status in self.settings.accept
            if not ok and status in BOT_WALLS:
                return Result(url, False, f"{status} {reason}".strip(), unverifiable=True)
            moved = current if permanent and current != url else None
            return Result(url, ok, f"{status} {reason}".strip(), moved)
        return Result(url, False, f"more than {MAX_REDIRECTS} redirects")

    async def _request(self, client: httpx.AsyncClient, url: httpx.URL) -> tuple[int, str, str | None] | str:
        """(status, reason, location) of one hop, HEAD then GET, retrying what can heal; or the error."""
        host = self._host(url.host)
        problem = ""
        for attempt in range(self.settings.retries + 1):
            if host.refusing is not None:  # asked already: its other links are not tried
                return host.refusing
            delay = 0.5 * 2**attempt
            try:
                async with host.slots:
                    status, reason, location, retry_after = await self._head_or_get(client, url, host)
            except httpx.ConnectError as error:
                return f"cannot connect: {_first_line(error) or 'connection refused'}"
            except HEALING_ERRORS as error:
                problem = "timed out" if isinstance(error, httpx.TimeoutException) else f"connection lost: {error}"
            else:
                if status not in RETRY_STATUSES:
                    return status, reason, location
                problem = f"{status} {reason}".strip()
                delay = retry_after if retry_after is not None else delay
            if attempt < self.settings.retries:
                if (refused := host.may_wait(delay)) is not None:
                    return refused
                await asyncio.sleep(delay)
        return problem

    async def _head_or_get(self, client: httpx.AsyncClient, url: httpx.URL, host: Host) -> tuple:
        for method in ("HEAD", "GET"):
            await host.wait_turn()
            async with client.stream(method, url) as response:  # a GET's body is never read
                if method == "GET" or response.status_code < 400 or response.status_code in RETRY_STATUSES:
                    return (
                        response.status_code,
                        httpx.codes.get_reason_phrase(response.status_code),  # servers spell them variously
                        response.headers.get("Location"),
                        retry_after(response.headers.get("Retry-After")),
                    )
        raise AssertionError("unreachable")

    def _save(self) -> None:
        if self.cache_path:
            write_atomic(self.cache_path, json.dumps(self.cache, indent=1, sort_keys=True))


def _parse(url: str) -> httpx.URL:
    """The URL, percent-encoded as needed; ValueError for what no server could be asked."""
    if any(c.isspace() for c in url):
        raise ValueError("it contains white space")
    split = urlsplit(url)
    split.port  # noqa: B018 -- raises ValueError for a port out of range
    if split.scheme not in ("http", "https") or not split.hostname:
        raise ValueError("not an http(s) address with a host")
    try:
        return httpx.URL(url)
    except httpx.InvalidURL as error:
        raise ValueError(str(error)) from None


def _first_line(error: Exception) -> str:
    return str(error).splitlines()[0] if str(error) else ""


async def _private(host: str) -> bool:
    """Whether any address the host resolves to is loopback, private, link-local or otherwise not public."""
    try:
        infos = await asyncio.get_running_loop().getaddrinfo(host, None, type=socket.SOCK_STREAM)
    except OSError:
        return False  # let the request report that the name does not resolve
    addresses = {ipaddress.ip_address(info[4][0].split("%")[0]) for info in infos}
    return any(not a.is_global for a in addresses)


def report_links(links: list[Link], results: dict[str, Result], runs_broken: dict[str, int] | None = None) -> Report:
    """Each broken link as an error at its record's field; moved, skipped, unverifiable and unchecked
    ones as warnings.  With ``runs_broken`` (in how many runs in a row each link was broken), a link
    broken in this run only is a warning: a host down for an hour does not fail CI."""
    report = Report()
    for link in links:
        result = results[link.url]
        if result.unchecked:
            report.warning(link.position, f"{link.field} {link.url} {result.detail}", "check it by hand, or later")
        elif result.unverifiable:
            report.warning(
                link.position,
                f"{link.field} {link.url} cannot be verified: {result.detail} (the host turns robots away)",
                "open it in a browser; if it is fine, add the status to [tool.efflit.links] accept",
            )
        elif not result.ok and runs_broken is not None and runs_broken.get(link.url, 0) < 2:
            report.warning(
                link.position,
                f"{link.field} {link.url} {result.detail} (broken in this run, not in the last)",
                "if it is broken in the next run too, it fails the run; fix or remove it now if it is gone",
            )
        elif not result.ok:
            report.error(link.position, f"{link.field} {link.url} {result.detail}", "fix or remove the link")
        elif result.moved_to:
            report.warning(
                link.position,
                f"{link.field} {link.url} moved permanently to {result.moved_to}",
                f"use {result.moved_to}",
            )
        elif result.skipped:
            report.warning(link.position, f"{link.field} {link.url} {result.detail}", "use a public address")
    return report


def check_links(
    papers: list[Paper],
    settings: LinkSettings,
    cache: Path | None,
    allow_private: bool = False,
    progress: Callable[[int, int], None] | None = None,
    broken: Path | None = None,
    arxiv_client: arxiv.Client | None = None,
) -> Report:
    """Check every selected link of the records; the report places each problem at its record.
    With ``broken`` (where the broken links of the last runs are kept), a link fails the run only
    when it is broken in two runs in a row.  With ``arxiv_client``, arXiv pages are checked through
    arXiv's API in batches."""
    links = selected(record_links(papers), settings)
    urls = list(dict.fromkeys(link.url for link in links))
    on_arxiv = [url for url in urls if url.startswith(ARXIV_LINK)] if arxiv_client else []
    results = arxiv_results(arxiv_client, on_arxiv) if arxiv_client and on_arxiv else {}
    rest = [url for url in urls if url not in results]
    checker = Checker(settings, cache, allow_private)
    results |= checker.run(rest, (lambda done: progress(done, len(rest))) if progress else None)
    return report_links(links, results, None if broken is None else remember_broken(broken, results))


def arxiv_results(client: arxiv.Client, urls: list[str]) -> dict[str, Result]:
    """The arXiv pages of the records, checked by asking arXiv's API for their ids in batches of 50
    (one request every 3 seconds), not page by page."""
    ids = {url: url[len(ARXIV_LINK) :] for url in urls}
    try:
        known = client.papers(list(ids.values()))
    except arxiv.ArxivError as error:
        return {url: Result(url, False, f"not checked: {error}", unchecked=True) for url in urls}
    return {
        url: Result(url, True, "on arXiv") if paper in known else Result(url, False, f"arXiv knows no paper {paper}")
        for url, paper in ids.items()
    }


def remember_broken(path: Path, results: dict[str, Result]) -> dict[str, int]:
    """In how many runs in a row each link checked now was broken, counting this one; kept at ``path``."""
    try:
        before = json.loads(path.read_text())
    except (OSError, ValueError):
        before = {}
    before = before if isinstance(before, dict) else {}
    now = {
        url: (before.get(url) if isinstance(before.get(url), int) else 0) + 1
        for url, result in results.items()
        if not (result.ok or result.unchecked or result.unverifiable)
    }
    write_atomic(path, json.dumps(now, indent=1, sort_keys=True))
    return now
