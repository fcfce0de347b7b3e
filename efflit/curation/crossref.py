"""Crossref: the published record of a DOI, with its authors, container and year.

DOIs are asked for in batches of 20 (a `filter` of `doi:` values, which Crossref joins with "or"),
with the contact address in the polite pool.  A preprint's own DOI (arXiv's are DataCite's, not
Crossref's; "posted-content" is Crossref's word for preprints) gives no venue.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field

from efflit.curation.apis import CROSSREF_ENDPOINT as ENDPOINT
from efflit.curation.apis import CROSSREF_INTERVAL as INTERVAL
from efflit.curation.polite import ApiError, IndexClient

BATCH = 20
PREPRINT_TYPES = ("posted-content",)


@dataclass(frozen=True)
class Work:
    """What Crossref says of one DOI."""

    doi: str
    title: str
    year: int | None
    authors: list[str] = field(default_factory=list)
    published_in: list[str] = field(default_factory=list)  # the journal or proceedings


class Client(IndexClient):
    name, endpoint_default, interval = "Crossref", ENDPOINT, INTERVAL

    def by_doi(self, dois: list[str]) -> dict[str, Work]:
        """The work of each DOI Crossref knows (DOIs in lower case), from the cache or in batches."""
        for batch in self.cache.batches([d.lower() for d in dois], BATCH):
            params = {"filter": ",".join(f"doi:{d}" for d in batch), "rows": BATCH}
            if self.contact:
                params["mailto"] = self.contact
            for work in parse_works(self.http.get(self.endpoint, params)):
                self.cache.known[work.doi] = asdict(work)
        return {d: Work(**known) for d, known in self.cache.found([d.lower() for d in dois]).items()}


def parse_works(text: str | None) -> list[Work]:
    """The works of an answer to a `/works` filter; entries without a DOI or a title are left out."""
    try:
        items = json.loads(text or "")["message"]["items"]
    except (ValueError, KeyError, TypeError) as error:
        raise ApiError(f"Crossref answered something that is not a list of works ({error})") from None
    works = []
    for item in items if isinstance(items, list) else []:
        if not isinstance(item, dict) or not isinstance(item.get("DOI"), str):
            continue
        title = _first(item.get("title"))
        if title is None:
            continue
        container = _first(item.get("container-title"))
        works.append(
            Work(
                doi=item["DOI"].lower(),
                title=title,
                year=_year(item.get("issued")),
                authors=[name for person in _list(item.get("author")) if (name := _name(person))],
                published_in=[container] if container and item.get("type") not in PREPRINT_TYPES else [],
            )
        )
    return works


def _list(value: object) -> list:
    return value if isinstance(value, list) else []


def _first(value: object) -> str | None:
    texts = [v for v in _list(value) if isinstance(v, str) and v.strip()]
    return texts[0] if texts else None


def _year(date: object) -> int | None:
    """The year of Crossref's `{"date-parts": [[2023, 7, 9]]}`."""
    parts = date.get("date-parts") if isinstance(date, dict) else None
    first = parts[0] if isinstance(parts, list) and parts and isinstance(parts[0], list) else []
    return first[0] if first and isinstance(first[0], int) else None


def _name(person: object) -> str | None:
    if not isinstance(person, dict):
        return None
    given, family = person.get("given"), person.get("family")
    if isinstance(family, str):
        return f"{given} {family}" if isinstance(given, str) else family
    return person["name"] if isinstance(person.get("name"), str) else None
