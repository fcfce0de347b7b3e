"""The data model: the single source of truth about a record and a taxonomy node.

The JSON Schema (``efflit schema``), the README's field table and the error
messages all come from these classes, so a rule lives in exactly one place.
Strict types keep YAML's guesses out: ``year: on`` is an error, not year 1.
"""

from __future__ import annotations

import datetime
import re
import unicodedata
from typing import Annotated, Literal
from urllib.parse import urlsplit

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationInfo,
    WithJsonSchema,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

SLUG_PATTERN = r"^[a-z0-9]+(?:-[a-z0-9]+)*$"
ID_PATTERN = r"^[a-z0-9]+(?:[-_][a-z0-9]+)*$"
# Names Windows refuses as file names, and names our own site uses for its pages.
RESERVED_IDS = frozenset(
    {"con", "prn", "aux", "nul", *(f"com{i}" for i in range(10)), *(f"lpt{i}" for i in range(10))}
    | {"index", "search", "papers", "authors", "years", "venues", "tags", "static", "downloads", "404"}
)

_ARXIV_NEW = re.compile(r"^(?P<yymm>\d{4})\.(?P<number>\d{4,5})$")
_ARXIV_OLD = re.compile(r"^[a-z]+(?:-[a-z]+)*(?:\.[A-Z]{2})?/\d{7}$")
_ARXIV_VERSION = re.compile(r"v\d+$")
_DOI = re.compile(r"^10\.\d{4,9}/\S+$")
_URL = re.compile(r"^https?://[^\s/?#]+\.[^\s/?#]+(?:[/?#]\S*)?$|^https?://[^\s/?#]+(?::\d+)(?:[/?#]\S*)?$")


def _arxiv_id(value: str) -> str:
    if value.lower().startswith(("arxiv:", "http://", "https://")):
        raise ValueError("write the bare arXiv id, such as 2312.00678 (no 'arXiv:' prefix, no URL)")
    if _ARXIV_VERSION.search(value):
        raise ValueError(f"drop the version suffix: write {_ARXIV_VERSION.sub('', value)}")
    if match := _ARXIV_NEW.match(value):
        yymm, digits = match["yymm"], len(match["number"])
        if not 1 <= int(yymm[2:]) <= 12:
            raise ValueError(f"'{value}' is not an arXiv id: month {yymm[2:]} does not exist")
        if (digits == 5) != (yymm >= "1501") or yymm < "0704":
            raise ValueError(
                f"'{value}' is not an arXiv id: ids of {yymm} have {4 if digits == 5 else 5} digits after the dot"
            )
        return value
    if _ARXIV_OLD.match(value):
        return value
    raise ValueError(f"'{value}' is not an arXiv id (new style 2312.00678, old style hep-th/9901001)")


def _doi(value: str) -> str:
    if value.lower().startswith(("http://", "https://", "doi:")):
        raise ValueError("write the bare DOI, such as 10.18653/v1/2023.acl-long.1 (no URL, no 'doi:')")
    if not _DOI.match(value):
        raise ValueError(f"'{value}' is not a DOI (they look like 10.1234/suffix)")
    return value


def _web_url(value: str) -> str:
    if not _URL.match(value):
        raise ValueError(f"'{value}' is not an http(s) URL; only http:// and https:// links are allowed")
    if "@" in urlsplit(value).netloc:
        # Never published: a user name or token in a link is a secret handed to every reader.
        raise ValueError("holds a user name or password before '@': remove them, the link is published")
    return value


def _not_reserved(value: str) -> str:
    if value in RESERVED_IDS:
        raise ValueError(f"'{value}' is a reserved name; add the year or a title word")
    return value


def _no_repeats(noun: str) -> AfterValidator:
    def check(values: list[str]) -> list[str]:
        seen: dict[str, int] = {}
        for index, value in enumerate(values):
            if value in seen:
                # The error names the repeat's place, so that it is reported at the repeat's line.
                raise PydanticCustomError(
                    "repeated",
                    f"lists the {noun} '{{value}}' twice (first as item {{first}})",
                    {"value": value, "first": seen[value] + 1, "index": index},
                )
            seen[value] = index
        return values

    return AfterValidator(check)


def _no_comma(value: str) -> str:
    if "," in value:
        raise ValueError(f"'{value}' holds a comma: write each author as `First Last`, one per item")
    return value


def _single_line(value: str) -> str:
    if value.isprintable():  # fast path: no control, format or separator characters but space
        return value
    if any(unicodedata.category(c) in ("Cc", "Cf") for c in value):
        raise ValueError("must be a single line of text without control or direction-override characters")
    return value


Text = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=500), AfterValidator(_single_line)
]
AuthorName = Annotated[Text, AfterValidator(_no_comma)]
# WithJsonSchema publishes the rule to editors; the validators give the precise messages.
Url = Annotated[
    str,
    StringConstraints(max_length=2000),
    AfterValidator(_web_url),
    WithJsonSchema({"type": "string", "format": "uri", "pattern": "^https?://", "maxLength": 2000}),
]
ArxivId = Annotated[
    str,
    AfterValidator(_arxiv_id),
    WithJsonSchema({"type": "string", "pattern": r"^(\d{4}\.\d{4,5}|[a-z-]+(\.[A-Z]{2})?/\d{7})$"}),
]
Doi = Annotated[
    str,
    StringConstraints(max_length=300),
    AfterValidator(_doi),
    WithJsonSchema({"type": "string", "pattern": r"^10\.\d{4,9}/\S+$", "maxLength": 300}),
]
RecordId = Annotated[str, StringConstraints(pattern=ID_PATTERN, max_length=80), AfterValidator(_not_reserved)]
# The record fields a source can vouch for.
LINK_FIELDS = ("url", "pdf", "code")  # the record fields that hold web addresses
DOI_LINK = "https://doi.org/"  # a record's DOI and arXiv id, as the addresses its page links to
ARXIV_LINK = "https://arxiv.org/abs/"
# The schemes a summary's link may have: the page drops any other (see efflit.site.markup).
SUMMARY_LINK_SCHEMES = frozenset({"http", "https", "mailto"})
Fact = Literal["title", "authors", "year", "venue", "arxiv", "doi", "url", "pdf", "code", "tags", "summary"]
Facts = Annotated[list[Fact], _no_repeats("fact")]  # named here: `Source.list` hides the builtin there
TagPath = Annotated[str, StringConstraints(pattern=r"^[a-z0-9-]+(?:/[a-z0-9-]+)*$", max_length=200)]


def field_table(model: type[BaseModel]) -> str:
    """A Markdown table of the model's fields and of the models nested in it, from their schema."""
    schema = model.model_json_schema()
    tables = []
    for name, spec in [(model.__name__, schema), *schema.get("$defs", {}).items()]:
        required = set(spec.get("required", ()))
        rows = [f"**{name}**: {spec.get('description', '')}", "", "| field | required | description |", "|---|---|---|"]
        rows += [
            f"| `{field}` | {'yes' if field in required else 'no'} | {prop.get('description', '')} |"
            for field, prop in spec["properties"].items()
        ]
        tables.append("\n".join(rows))
    return "\n\n".join(tables)


def tag_paths(tag: str) -> list[str]:
    """The tag and every node above it: `a/b/c` gives `a`, `a/b`, `a/b/c`."""
    parts = tag.split("/")
    return ["/".join(parts[: i + 1]) for i in range(len(parts))]


class Strict(BaseModel):
    # Each model's validator is built when first used, not on import: a run that validates only an
    # edited record builds few of them (building all took a tenth of a second).
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True, populate_by_name=True, defer_build=True)


# The scholarly APIs facts may be fetched from.
ApiName = Literal["arXiv", "OpenAlex", "Semantic Scholar", "Crossref", "DBLP"]


class Source(Strict):
    """Where a record's facts came from: a paper list and its section, a BibTeX file, an API, or a person."""

    list: Text | None = Field(
        None,
        description="The paper list the facts were taken from, as owner/repository, "
        "e.g. `HuangOwen/Awesome-LLM-Compression`.",
    )
    section: Text | None = Field(None, description="The section of that list the paper is listed under.")
    file: Text | None = Field(None, description="The BibTeX file the facts were imported from, by name.")
    api: ApiName | None = Field(
        None,
        description="The API the facts were fetched from: `arXiv`, `OpenAlex`, `Semantic Scholar`, `Crossref` "
        "or `DBLP`.",
    )
    person: Text | None = Field(None, description="The person who supplied the facts.")
    page: Url | None = Field(
        None,
        description="A web page about this very paper that the facts were checked against, "
        "e.g. `https://arxiv.org/abs/2306.00978`; `facts` says which.",
    )
    facts: Facts | None = Field(
        None, description="The record fields this source confirms, e.g. `[authors, venue, summary]`."
    )

    @property
    def origin(self) -> str:
        """The source in words: the list, the file, the API, the page or the person."""
        if self.file:
            return f"BibTeX file {self.file}"
        if self.page:
            return self.page.split("://", 1)[1].removeprefix("www.")
        return f"{self.api} API" if self.api else (self.list or self.person or "")

    @model_validator(mode="after")
    def _one_origin(self) -> Source:
        origins = [name for name in ("list", "file", "api", "person", "page") if getattr(self, name) is not None]
        if len(origins) != 1:
            raise ValueError(
                "a source names exactly one of `list` (with its `section`), `file`, `api`, `page` or `person`"
            )
        if self.section is not None and self.list is None:
            raise ValueError("`section` belongs to a `list` source")
        return self


class Record(Strict):
    """One paper of the knowledge base, stored as `papers/<id>.yaml`."""

    id: RecordId = Field(
        description="Unique key: lowercase letters, digits and single hyphens or underscores; "
        "equal to the file name without `.yaml`; the default BibTeX key. "
        "Conventionally first author's last name, year and first title word: `dao2022flashattention`."
    )
    title: Text = Field(description="The paper's title as published, on one line, without LaTeX.")
    authors: list[AuthorName] = Field(
        description="Author names in publication order, each as `First Last`. An empty list marks the "
        "record incomplete (its source gave no authors); `efflit check` counts those in a warning "
        "unless `not_found` says what was searched.",
    )
    year: Annotated[int, Field(ge=1950, le=2100)] = Field(description="Year of publication (of the cited version).")
    venue: Text | None = Field(
        None, description="Where it was published, without the year: `NeurIPS`, `ACL`, `arXiv` for preprints."
    )
    arxiv: ArxivId | None = Field(
        None, description="arXiv identifier without version, quoted: `'2312.00678'` or `'hep-th/9901001'`."
    )
    doi: Doi | None = Field(None, description="Digital Object Identifier without URL prefix: `10.18653/v1/...`.")
    url: Url | None = Field(
        None, description="Landing page of the paper when it has no arXiv id or DOI (http or https)."
    )
    pdf: Url | None = Field(None, description="Direct link to a PDF, when not derivable from `arxiv`.")
    code: Url | None = Field(None, description="Official code repository (http or https).")
    tags: Annotated[list[TagPath], _no_repeats("tag")] = Field(
        min_length=1,
        description="One or more taxonomy paths from `taxonomy.yaml`, such as `inference/quantization`.",
    )
    defining: bool = Field(
        False,
        description="True for a paper that defines its topics: listed first and marked under "
        "'Start here' on the pages of its tags.",
    )
    summary: Annotated[str, StringConstraints(max_length=5000)] | None = Field(
        None, description="A short summary in our own words, in Markdown (no raw HTML)."
    )
    bibkey: Annotated[str, StringConstraints(pattern=r"^[^\s,{}()\"#%'=\\]+$", max_length=100)] | None = Field(
        None, description="Key of this paper's entry in a `.bib` file under `papers/`; defaults to `id`."
    )
    aliases: Annotated[list[RecordId], _no_repeats("id")] = Field(
        default_factory=list,
        description="Earlier ids of this record: `/papers/<alias>/` stays a page that redirects here, "
        "so published addresses keep working after a rename.",
    )
    distinct_from: Annotated[list[RecordId], _no_repeats("id")] = Field(
        default_factory=list,
        description="Ids of records with a nearly identical title that are other papers: "
        "a curator's decision that silences the near-duplicate warning for each pair.",
    )
    not_found: dict[Fact, Text] = Field(
        default_factory=dict,
        description="Facts a curator searched public pages for and did not find, each with what was "
        "searched: `{authors: 'arXiv, OpenReview and DBLP by title, 2026-12'}`. The record stays "
        "incomplete, `efflit check` no longer warns about it, and its page says what was searched.",
    )
    source: list[Source] = Field(min_length=1, description="Where the facts came from (one or more sources).")
    added: datetime.date = Field(description="Date the record was added, as YYYY-MM-DD.")

    @field_validator("not_found")
    @classmethod
    def _not_found_is_missing(cls, not_found: dict[str, str], info: ValidationInfo) -> dict[str, str]:
        """A fact the record holds was found after all: its search note is out of date."""
        held = [fact for fact in not_found if info.data.get(fact) not in (None, [], "")]
        if held:
            raise PydanticCustomError(
                "found",
                "`not_found` names {facts}, which the record has: remove {them} from `not_found`",
                {"facts": ", ".join(held), "them": "it" if len(held) == 1 else "them"},
            )
        return not_found

    @property
    def key(self) -> str:
        """The BibTeX key this record links to."""
        return self.bibkey or self.id

    @property
    def incomplete(self) -> bool:
        return not self.authors

    def web_links(self) -> dict[str, str]:
        """Every web address the record holds or implies, by the field it comes from."""
        links = {name: value for name in LINK_FIELDS if (value := getattr(self, name))}
        if self.doi:
            links["doi"] = f"{DOI_LINK}{self.doi}"
        if self.arxiv:
            links["arxiv"] = f"{ARXIV_LINK}{self.arxiv}"
        return links


class TaxonomyNode(Strict):
    """One node of the taxonomy; its path of slugs is the tag that records use."""

    slug: Annotated[str, StringConstraints(pattern=SLUG_PATTERN, max_length=60)] = Field(
        description="Lowercase name, unique among its siblings: `quantization`."
    )
    name: Text = Field(description="Display name: `Quantization`.")
    description: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=3000)] = Field(
        description="One paragraph, in our own words, on what the node covers."
    )
    section: Annotated[str, StringConstraints(pattern=r"^\d+(?:\.\d+)*$")] | None = Field(
        None, description="The survey section this node comes from, e.g. `7`."
    )
    extension: bool = Field(False, description="True for nodes we added beyond the survey's taxonomy.")
    children: list[TaxonomyNode] = Field(default_factory=list, description="Sub-nodes.")

    @model_validator(mode="after")
    def _origin(self) -> TaxonomyNode:
        if self.extension == (self.section is not None):
            raise ValueError("a node has either a survey `section` or `extension: true`, exactly one")
        return self


class TaxonomyFile(Strict):
    """The contents of `taxonomy.yaml`."""

    nodes: list[TaxonomyNode] = Field(min_length=1, description="The top-level dimensions.")


class Venue(Strict):
    """One venue that records name: how records write it, how a citation manager exports it, and the
    other spellings that mean the same venue."""

    name: Text = Field(description="The short name records write: `NeurIPS`, `ACL Findings`, `arXiv`.")
    full: Text | None = Field(
        None,
        description="The full name BibTeX entries give as `booktitle` or `journal`: "
        "`Advances in Neural Information Processing Systems`; the short name when absent.",
    )
    kind: Literal["conference", "journal", "workshop", "preprint"] = Field(
        description="What the venue is: a `journal` makes an `@article`, a `conference` or `workshop` an "
        "`@inproceedings`, a `preprint` an arXiv entry."
    )
    aliases: list[Text] = Field(
        default_factory=list,
        description="Other spellings of this venue, such as `NIPS` or `ICLR Oral`: `efflit check` asks "
        "records that use one to write `name` instead, so that a venue's page gathers all its papers.",
    )


class VenuesFile(Strict):
    """The contents of `venues.yaml`: every venue with its spellings, each spelling once."""

    venues: list[Venue] = Field(min_length=1, description="The venues, in any order.")


class PaperMetrics(Strict):
    """What the scholarly indexes say of one paper, as `efflit metrics` last fetched it."""

    cited_by: Annotated[int, Field(ge=0, le=10**8)] = Field(description="How many works cite it (OpenAlex).")
    cites: list[RecordId] = Field(
        default_factory=list,
        max_length=10_000,
        description="The papers of this knowledge base it cites, by record id (OpenAlex's references).",
    )


class CodeMetrics(Strict):
    """The state of one code repository, as `efflit metrics` last fetched it."""

    stars: Annotated[int, Field(ge=0, le=10**9)] = Field(description="Its stars on GitHub.")
    pushed: datetime.date | None = Field(None, description="The day of its last push.")
    archived: bool = Field(False, description="Whether its owners archived it: read-only, no longer kept up.")


class MetricsFile(Strict):
    """The contents of `data/metrics.json`: figures that change every day, kept out of the records so
    their diffs stay about facts."""

    date: datetime.date = Field(description="The day the figures were fetched.")
    papers: dict[RecordId, PaperMetrics] = Field(default_factory=dict, description="By record id.")
    code: dict[Url, CodeMetrics] = Field(default_factory=dict, description="By the `code` address of records.")


class LinkSettings(Strict):
    """How `efflit links` checks external links: `[tool.efflit.links]`."""

    include: list[str] = Field(default_factory=list, description="Regexes: when given, only matching URLs are checked.")
    exclude: list[str] = Field(default_factory=list, description="Regexes of URLs never checked.")
    accept: list[int] = Field(
        default_factory=list,
        description="Status codes that count as fine besides 2xx, e.g. 403 for sites that block bots.",
    )
    concurrency: Annotated[int, Field(ge=1, le=256)] = Field(32, description="Requests under way at once, in all.")
    per_host: Annotated[int, Field(ge=1, le=32)] = Field(2, description="Requests under way at once per host.")
    intervals: dict[str, Annotated[float, Field(ge=0)]] = Field(
        default_factory=lambda: {"arxiv.org": 1.0, "github.com": 0.5, "doi.org": 0.5},
        description="Minimum seconds between requests to a host (and its subdomains).",
    )
    timeout: Annotated[float, Field(gt=0)] = Field(20.0, description="Seconds to wait for an answer.")
    retries: Annotated[int, Field(ge=0, le=10)] = Field(
        3, description="Retries of what can heal: timeouts, 408, 429, 5xx."
    )
    cache_days: Annotated[float, Field(ge=0)] = Field(
        7.0, description="Days a good result is trusted before it is checked again (failures are never cached)."
    )


class Settings(Strict):
    """Site settings, read from `[tool.efflit]` in the knowledge base's `pyproject.toml`."""

    title: Text = Field("efflit", description="Site title shown in the header and feeds.")
    description: Text = Field(
        "A curated map of research on the efficiency of large language models.",
        description="One-line description for the home page and metadata.",
    )
    repository: Url | None = Field(
        None, description="Web address of the repository, for 'edit this record' links (GitHub-style)."
    )
    branch: Text = Field("main", description="Branch that 'edit this record' links point at.")
    base_url: Url | None = Field(None, description="Public address of the built site, for feeds and sitemaps.")
    links: LinkSettings = Field(default_factory=LinkSettings, description="External link checking.")
    contact: Text | None = Field(
        None,
        description="An address the scholarly APIs may write to about `efflit enrich`'s requests "
        "(OpenAlex's polite pool); an API key comes from the environment (`OPENALEX_API_KEY`).",
    )
