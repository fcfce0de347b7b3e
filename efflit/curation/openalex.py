"""OpenAlex: where a preprint was published, and its DOI.

Works are looked up by their arXiv DOI (`10.48550/arxiv.<id>`), up to 50 in one request (a filter
of values joined by `|`).  OpenAlex merges a preprint with its published version, so a work lists
the journal or conference that published it among its locations.  Answers are untrusted: a work
is taken only when its title is the record's, and its venue only as a plain line of text.  The
contact address joins OpenAlex's polite pool; a key comes from the environment.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import asdict, dataclass, field

from efflit.curation.apis import OPENALEX_ENDPOINT as ENDPOINT
from efflit.curation.apis import OPENALEX_INTERVAL as INTERVAL
from efflit.curation.polite import ApiError, IndexClient

BATCH = 50
ARXIV_DOI = "10.48550/arxiv."
KEY_VARIABLE = "OPENALEX_API_KEY"
SELECT = "id,doi,title,publication_year,authorships,locations,cited_by_count,referenced_works"


@dataclass(frozen=True)
class Work:
    """What OpenAlex says of one paper."""

    arxiv: str
    title: str
    year: int | None
    doi: str | None  # of the published version; never arXiv's own
    published_in: list[str] = field(default_factory=list)  # journals and conferences, as OpenAlex names them
    cited_by: int | None = None  # how many works OpenAlex knows that cite it
    authors: list[str] = field(default_factory=list)
    key: str | None = None  # OpenAlex's id of the work ("W2741809807")
    references: list[str] = field(default_factory=list)  # OpenAlex's ids of the works it cites


class Client(IndexClient):
    name, endpoint_default, interval = "OpenAlex", ENDPOINT, INTERVAL

    def by_arxiv(self, ids: list[str]) -> dict[str, Work]:
        """The work of each arXiv id OpenAlex knows, from the cache or in batches."""
        for batch in self.cache.batches(ids, BATCH):
            params = {"filter": "doi:" + "|".join(ARXIV_DOI + i for i in batch), "per-page": BATCH, "select": SELECT}
            if self.contact:
                params["mailto"] = self.contact
            if key := os.environ.get(KEY_VARIABLE):
                params["api_key"] = key
            for work in parse_works(self.http.get(self.endpoint, params)):
                self.cache.known[work.arxiv] = asdict(work)
        return {i: Work(**known) for i, known in self.cache.found(ids).items()}


def parse_works(text: str) -> list[Work]:
    """The works of an answer to a `/works` filter; entries without an arXiv DOI are left out."""
    try:
        results = json.loads(text)["results"]
    except (ValueError, KeyError, TypeError) as error:
        raise ApiError(f"OpenAlex answered something that is not a list of works ({error})") from None
    works = []
    for found in results if isinstance(results, list) else []:
        if not isinstance(found, dict):
            continue
        dois = [_doi(found.get("doi"))] + [_doi(loc.get("landing_page_url")) for loc in _locations(found)]
        arxiv = next((d[len(ARXIV_DOI) :] for d in dois if d and d.startswith(ARXIV_DOI)), None)
        if arxiv is None or not isinstance(found.get("title"), str):
            continue
        published = [
            source["display_name"]
            for loc in _locations(found)
            if isinstance(source := loc.get("source"), dict)
            and source.get("type") in ("journal", "conference")
            and isinstance(source.get("display_name"), str)
        ]
        own_doi = _doi(found.get("doi"))
        year = found.get("publication_year")
        works.append(
            Work(
                arxiv=arxiv,
                title=found["title"],
                year=year if isinstance(year, int) else None,
                doi=own_doi if own_doi and not own_doi.startswith("10.48550/") else None,
                published_in=list(dict.fromkeys(published)),
                cited_by=cited if isinstance(cited := found.get("cited_by_count"), int) and cited >= 0 else None,
                authors=_authors(found),
                key=_work_key(found.get("id")),
                references=[key for ref in _list(found.get("referenced_works")) if (key := _work_key(ref))],
            )
        )
    return works


def _work_key(value: object) -> str | None:
    """OpenAlex's id of a work from its address (`https://openalex.org/W123`)."""
    key = value.rsplit("/", 1)[-1] if isinstance(value, str) else ""
    return key if re.fullmatch(r"W\d{1,15}", key) else None


def _list(value: object) -> list:
    return value if isinstance(value, list) else []


def _authors(work: dict) -> list[str]:
    authorships = work.get("authorships")
    people = [a.get("author") for a in authorships if isinstance(a, dict)] if isinstance(authorships, list) else []
    return [p["display_name"] for p in people if isinstance(p, dict) and isinstance(p.get("display_name"), str)]


def _locations(work: dict) -> list[dict]:
    locations = work.get("locations")
    return [loc for loc in locations if isinstance(loc, dict)] if isinstance(locations, list) else []


def _doi(value: object) -> str | None:
    """A DOI without its resolver prefix, in lower case; None for anything else."""
    if not isinstance(value, str):
        return None
    value = value.strip().lower()
    for prefix in ("https://doi.org/", "http://doi.org/", "https://arxiv.org/abs/"):
        if value.startswith(prefix):
            rest = value[len(prefix) :]
            return rest if prefix.endswith("doi.org/") else ARXIV_DOI + re.sub(r"v\d+$", "", rest)
    return value if value.startswith("10.") else None
