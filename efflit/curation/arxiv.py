"""A polite client for arXiv's API: batched queries, one request per interval, retries, a cache.

arXiv asks for at most one request every 3 seconds; a batch of ids costs one
request.  Answers are cached on disk by id, so a re-run asks only for what it
has not seen.  Tests point ``endpoint`` at a fake API on 127.0.0.1.
"""

from __future__ import annotations

import json
import re
import time
import xml.etree.ElementTree as ET
from dataclasses import asdict, dataclass
from pathlib import Path

from efflit.base.files import write_atomic
from efflit.base.retries import retry_after

ENDPOINT = "https://export.arxiv.org/api/query"
INTERVAL = 3.0
BATCH = 50
RETRIES = 4
ATOM = "{http://www.w3.org/2005/Atom}"
ARXIV = "{http://arxiv.org/schemas/atom}"
_ID = re.compile(r"arxiv\.org/abs/(?P<id>.+?)(?:v\d+)?$")


@dataclass(frozen=True)
class Paper:
    """What arXiv says of one paper."""

    arxiv: str
    title: str
    authors: list[str]
    year: int  # of the first version
    doi: str | None


class ArxivError(RuntimeError):
    """arXiv could not be reached or did not answer usefully, after retries."""


class Client:
    def __init__(
        self, endpoint: str = ENDPOINT, interval: float = INTERVAL, cache: Path | None = None, timeout: float = 30
    ) -> None:
        import httpx  # here, not at the top: every efflit command imports this module, few ask arXiv

        self.endpoint, self.interval, self.cache_path = endpoint, interval, cache
        self.http = httpx.Client(timeout=timeout, headers={"User-Agent": "efflit (+https://github.com/efflit/efflit)"})
        self.last_request = float("-inf")
        self.cache: dict[str, dict] = json.loads(cache.read_text()) if cache and cache.is_file() else {}

    def papers(self, ids: list[str]) -> dict[str, Paper]:
        """Metadata for each id arXiv knows, from the cache or in batches."""
        missing = [i for i in dict.fromkeys(ids) if i not in self.cache]
        for start in range(0, len(missing), BATCH):
            for paper in self._query(missing[start : start + BATCH]):
                self.cache[paper.arxiv] = asdict(paper)
            self._save()
        return {i: Paper(**self.cache[i]) for i in ids if i in self.cache}

    def _save(self) -> None:
        if self.cache_path:
            write_atomic(self.cache_path, json.dumps(self.cache, indent=1, sort_keys=True, ensure_ascii=False))

    def _query(self, ids: list[str]) -> list[Paper]:
        import httpx

        params = {"id_list": ",".join(ids), "max_results": str(len(ids))}
        for attempt in range(RETRIES + 1):
            self._wait(self.interval)
            try:
                response = self.http.get(self.endpoint, params=params)
            except httpx.TransportError as error:  # timeouts, refused and reset connections
                problem, delay = f"{type(error).__name__}: {error}", self.interval * 2**attempt
            else:
                if response.status_code == 200:
                    return parse_feed(response.text)
                if response.status_code not in (408, 429, 500, 502, 503, 504):
                    raise ArxivError(f"arXiv answered {response.status_code} {response.reason_phrase}")
                problem = f"{response.status_code} {response.reason_phrase}"
                delay = retry_after(response.headers.get("Retry-After")) or self.interval * 2**attempt
            if attempt == RETRIES:
                break
            self._wait(delay)
        raise ArxivError(f"arXiv did not answer after {RETRIES + 1} attempts: {problem}")

    def _wait(self, seconds: float) -> None:
        pause = self.last_request + seconds - time.monotonic()
        if pause > 0:
            time.sleep(pause)
        self.last_request = time.monotonic()


def parse_feed(text: str) -> list[Paper]:
    """Papers of an arXiv API Atom feed; error entries (unknown ids) are left out."""
    papers = []
    for entry in ET.fromstring(text).iter(f"{ATOM}entry"):
        match = _ID.search(entry.findtext(f"{ATOM}id", ""))
        title = entry.findtext(f"{ATOM}title", "")
        if not match or title == "Error":
            continue
        papers.append(
            Paper(
                arxiv=match["id"],
                title=" ".join(title.split()),
                authors=[" ".join(a.findtext(f"{ATOM}name", "").split()) for a in entry.iter(f"{ATOM}author")],
                year=int(entry.findtext(f"{ATOM}published", "0")[:4]),
                doi=entry.findtext(f"{ARXIV}doi"),
            )
        )
    return papers
