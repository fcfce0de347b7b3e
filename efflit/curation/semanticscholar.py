"""Semantic Scholar's Graph API: the authors and DOI of a paper, by arXiv id or DOI.

Papers are asked for in batches of up to 500 ids (`ARXIV:<id>`, `DOI:<doi>`) in one POST; the answer
lists a paper or null for each id, in order.  Its `year` is the year a paper first appeared (the
preprint's), not the year of the venue that published it, so a venue is never taken from here: DBLP
and OpenAlex give venues with their years.  A key, optional, comes from the environment.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field

from efflit.curation.apis import SEMANTICSCHOLAR_ENDPOINT as ENDPOINT
from efflit.curation.apis import SEMANTICSCHOLAR_INTERVAL as INTERVAL
from efflit.curation.polite import ApiError, IndexClient

BATCH = 500
KEY_VARIABLE = "S2_API_KEY"
FIELDS = "title,year,externalIds,authors"
UNKNOWN = {"title": "", "year": None, "doi": None}  # cached: Semantic Scholar does not know the id


@dataclass(frozen=True)
class Paper:
    """What Semantic Scholar says of one paper."""

    title: str
    year: int | None
    doi: str | None  # never arXiv's own
    authors: list[str] = field(default_factory=list)
    published_in: list[str] = field(default_factory=list)  # always empty: see the module's note


class Client(IndexClient):
    name, endpoint_default, interval = "Semantic Scholar", ENDPOINT, INTERVAL

    def headers(self) -> dict[str, str]:
        key = os.environ.get(KEY_VARIABLE)
        return {"x-api-key": key} if key else {}

    def papers(self, ids: list[str]) -> dict[str, Paper]:
        """The paper of each id (`ARXIV:…` or `DOI:…`) Semantic Scholar knows, from the cache or in batches."""
        for batch in self.cache.batches(ids, BATCH):
            answers = parse_papers(self.http.post(self.endpoint, {"fields": FIELDS}, {"ids": batch}), len(batch))
            for asked, paper in zip(batch, answers, strict=True):
                self.cache.known[asked] = asdict(paper) if paper else UNKNOWN
        return {i: Paper(**known) for i, known in self.cache.found(ids).items() if known["title"]}


def parse_papers(text: str | None, count: int) -> list[Paper | None]:
    """The answer's papers, in the order asked: None where an id is unknown or its entry unusable."""
    try:
        found = json.loads(text or "")
    except ValueError as error:
        raise ApiError(f"Semantic Scholar answered something that is not JSON ({error})") from None
    if not isinstance(found, list) or len(found) != count:
        raise ApiError(f"Semantic Scholar answered something else than {count} papers in order")
    return [_paper(entry) for entry in found]


def _paper(entry: object) -> Paper | None:
    if not isinstance(entry, dict) or not isinstance(entry.get("title"), str):
        return None
    ids = entry.get("externalIds") if isinstance(entry.get("externalIds"), dict) else {}
    doi = ids.get("DOI")
    authors = entry.get("authors") if isinstance(entry.get("authors"), list) else []
    year = entry.get("year")
    return Paper(
        title=entry["title"],
        year=year if isinstance(year, int) else None,
        doi=doi.lower() if isinstance(doi, str) and doi.startswith("10.") and not doi.startswith("10.48550/") else None,
        authors=[a["name"] for a in authors if isinstance(a, dict) and isinstance(a.get("name"), str)],
    )
