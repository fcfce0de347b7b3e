"""A polite client for arXiv's API: batched queries, one request per interval, retries, a cache.

arXiv asks for at most one request every 3 seconds; a batch of ids costs one
request.  Answers are cached on disk by id, so a re-run asks only for what it
has not seen.  Tests point ``endpoint`` at a fake API on 127.0.0.1.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from dataclasses import asdict, dataclass
from pathlib import Path

from efflit.curation.apis import ARXIV_ENDPOINT as ENDPOINT
from efflit.curation.apis import ARXIV_INTERVAL as INTERVAL
from efflit.curation.polite import AnswerCache, ApiError, PoliteClient

BATCH = 50
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


# arXiv's failures are an API's failures: callers catch them by either name.
ArxivError = ApiError


class Client:
    def __init__(
        self, endpoint: str = ENDPOINT, interval: float = INTERVAL, cache: Path | None = None, timeout: float = 30
    ) -> None:
        self.endpoint = endpoint
        self.http = PoliteClient("arXiv", interval, timeout)
        self.cache = AnswerCache(cache)

    def papers(self, ids: list[str]) -> dict[str, Paper]:
        """Metadata for each id arXiv knows, from the cache or in batches."""
        for batch in self.cache.batches(ids, BATCH):
            params = {"id_list": ",".join(batch), "max_results": str(len(batch))}
            for paper in parse_feed(self.http.get(self.endpoint, params)):
                self.cache.known[paper.arxiv] = asdict(paper)
        return {i: Paper(**known) for i, known in self.cache.found(ids).items()}


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
