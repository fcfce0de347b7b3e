"""DBLP: where a paper was published, as computer science's bibliography names its venues.

A paper is searched by its title, one request a second; a hit counts only when its title is the
record's and it is not DBLP's copy of the arXiv preprint (CoRR, "Informal" publications).  DBLP's
short venue names ("ICLR", "ACL (Findings)") are what `venues.yaml` spells.
"""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass, field

from efflit.curation.apis import DBLP_ENDPOINT as ENDPOINT
from efflit.curation.apis import DBLP_INTERVAL as INTERVAL
from efflit.curation.polite import ApiError, IndexClient
from efflit.kb.bibtex import normalize

NONE = {"title": "", "year": None, "doi": None}  # cached: DBLP has no published version


@dataclass(frozen=True)
class Hit:
    """A published version of a paper, as DBLP lists it."""

    title: str
    year: int | None
    doi: str | None
    published_in: list[str] = field(default_factory=list)
    authors: list[str] = field(default_factory=list)


class Client(IndexClient):
    name, endpoint_default, interval = "DBLP", ENDPOINT, INTERVAL

    def published(self, titles: list[str]) -> dict[str, Hit]:
        """The published version of each title DBLP lists, from the cache or one request each."""
        for (title,) in self.cache.batches(titles, 1):
            answer = self.http.get(self.endpoint, {"q": title, "format": "json", "h": 10})
            self.cache.known[title] = asdict(best_hit(title, answer) or Hit(**NONE))
        return {title: Hit(**known) for title, known in self.cache.found(titles).items() if known["title"]}


def best_hit(title: str, text: str | None) -> Hit | None:
    """The hit of DBLP's answer that is this title's published version, if any."""
    try:
        hits = json.loads(text or "")["result"]["hits"].get("hit", [])
    except (ValueError, KeyError, TypeError, AttributeError) as error:
        raise ApiError(f"DBLP answered something that is not a search result ({error})") from None
    for hit in hits if isinstance(hits, list) else []:
        info = hit.get("info") if isinstance(hit, dict) else None
        if not isinstance(info, dict) or not isinstance(info.get("title"), str):
            continue
        venue = info.get("venue")
        venues = [v for v in (venue if isinstance(venue, list) else [venue]) if isinstance(v, str)]
        informal = "informal" in str(info.get("type", "")).lower() or "CoRR" in venues
        if informal or not venues or normalize(info["title"].rstrip(".")) != normalize(title):
            continue
        year = info.get("year")
        doi = info.get("doi")
        return Hit(
            title=info["title"].rstrip("."),
            year=int(year) if isinstance(year, str) and year.isdigit() else None,
            doi=doi.lower() if isinstance(doi, str) and doi.startswith("10.") else None,
            published_in=venues,
            authors=_authors(info.get("authors")),
        )
    return None


def _authors(authors: object) -> list[str]:
    """DBLP's authors (one a dict, several a list), without the number that tells namesakes apart."""
    people = authors.get("author") if isinstance(authors, dict) else None
    people = people if isinstance(people, list) else [people]
    names = [p.get("text") if isinstance(p, dict) else None for p in people]
    return [re.sub(r" \d{4}$", "", name) for name in names if isinstance(name, str)]
