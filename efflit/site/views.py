"""View-models: plain functions from the catalog to what each page kind's template shows.

Templates receive only these values (and ``site``, ``page``, ``root`` added by
the renderer), never raw records, so no logic hides in the templates.  Links
are site-relative paths without a leading slash; templates prefix ``root``.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from operator import attrgetter

from efflit.kb import quality
from efflit.kb.catalog import Catalog, Group, slugify
from efflit.site.exports import bibtex_entry
from efflit.site.markup import plain_text, render_markdown
from efflit.kb.models import Record, Settings, tag_paths
from efflit.site.search import shards
from efflit.kb.validate import Node

RECENT = 12
RELATED = 6
MOST_CITED = 5  # a node's papers most cited by the rest of the map, on its page
MAX_BARS = 16
# The record fields a paper's card and table row show (`Card`, `Row`): what the keys of the pages
# that list it cover (see efflit.memory.keys).  `tests/test_views.py` holds the views to it.
LISTED_FIELDS = ("id", "key", "title", "authors", "year", "venue", "code", "incomplete", "tags", "defining")


@dataclass(frozen=True)
class Link:
    text: str
    href: str
    count: int | None = None


def _as_recorded(name: str) -> property:
    """A view's property that shows the record's field of that name as it is."""
    return property(attrgetter(f"_record.{name}"))


@dataclass(frozen=True, eq=False)  # eq=False: never compared field by field, catalog and all
class PaperView:
    """A paper as a view shows it, its parts worked out when read: a build renders the cards and
    table rows of changed papers alone (see `render.PAPER_PARTIALS`), and a topic lists thousands."""

    _catalog: Catalog = field(repr=False)
    _record: Record  # private, as what a view shows of it is worked out here, not in templates

    id = _as_recorded("id")


QUIET_DAYS = 2 * 365  # a repository without a push for this long is marked as quiet


@dataclass(frozen=True)
class Repository:
    """A paper's code repository as cards show it, from the metrics file."""

    stars: int
    archived: bool
    quiet_since: int | None  # the year of its last push, when that was long before the figures' day


def paper_metrics(catalog: Catalog, record: Record) -> tuple[int | None, Repository | None]:
    """What the metrics file says of a paper that cards and its page show: cited-by count, and the
    state of its code repository (None where the file says nothing)."""
    metrics = catalog.kb.metrics
    if metrics is None:
        return None, None
    paper = metrics.papers.get(record.id)
    code = metrics.code.get(record.code) if record.code else None
    repository = None
    if code is not None:
        quiet = code.pushed is not None and (metrics.date - code.pushed).days > QUIET_DAYS
        repository = Repository(code.stars, code.archived, code.pushed.year if quiet else None)
    return (paper.cited_by if paper else None), repository


class Card(PaperView):
    """A paper as listings show it."""

    @property
    def cited_by(self) -> int | None:
        return paper_metrics(self._catalog, self._record)[0]

    @property
    def repository(self) -> Repository | None:
        return paper_metrics(self._catalog, self._record)[1]

    title = _as_recorded("title")
    year = _as_recorded("year")
    code = _as_recorded("code")
    incomplete = _as_recorded("incomplete")
    defining = _as_recorded("defining")

    @property
    def href(self) -> str:
        return paper_href(self._record.id)

    @property
    def authors(self) -> list[Link]:
        return [Link(name, f"authors/{slugify(name)}/") for name in self._record.authors]

    @property
    def venue(self) -> Link | None:
        return Link(self._record.venue, f"venues/{slugify(self._record.venue)}/") if self._record.venue else None

    @property
    def tags(self) -> list[Link]:
        return [Link(self._catalog.nodes[tag].node.name, node_href(tag)) for tag in self._record.tags]


class Row(PaperView):
    """A paper as the table of all papers shows it: its card, and what the table's filters read."""

    @property
    def metrics(self) -> bool:
        """Whether the table has the columns of the metrics file."""
        return self._catalog.kb.metrics is not None

    @property
    def card(self) -> Card:
        return Card(self._catalog, self._record)

    @property
    def key(self) -> str:
        """Its BibTeX key, by which the table's exports find its entry in the downloads."""
        return self._record.key

    @property
    def dimensions(self) -> str:
        """The paths of its dimensions, space-separated."""
        return " ".join(self._catalog.dimensions_of[self._record.id])

    @property
    def tags(self) -> str:
        """The paths of its tags and of the nodes above them, space-separated."""
        return " ".join(sorted({p for t in self._record.tags for p in tag_paths(t)}))

    @property
    def venue(self) -> str:
        """The venue's slug, or ""."""
        return slugify(self._record.venue) if self._record.venue else ""


@dataclass(frozen=True)
class Segment:
    tone: int  # the dimension's colour, by its position in the taxonomy
    name: str
    count: int
    y: float
    height: float


@dataclass(frozen=True)
class Bar:
    year: int
    label: str  # the year, or "≤2012" for the first bar that gathers all earlier years
    total: int
    x: float
    segments: list[Segment]


@dataclass(frozen=True)
class Chart:
    """Papers per year stacked by dimension, drawn as SVG by `_partials/year_chart.html`."""

    label: str
    bars: list[Bar]
    legend: list[tuple[int, Link]]
    width: float
    height: float
    bar_width: float = 18
    top: int = 0


@dataclass(frozen=True)
class MapNode:
    """A taxonomy node on the home map or a node page: link, count, and sub-nodes."""

    path: str
    name: str
    href: str
    count: int
    extension: bool
    tone: int
    children: list[MapNode] = field(default_factory=list)


def node_href(path: str) -> str:
    return f"topics/{path}/"


def paper_href(record_id: str) -> str:
    return f"papers/{record_id}/"


def node_feed_href(path: str) -> str:
    return f"{node_href(path)}feed.xml"


def node_bib_href(path: str) -> str:
    return f"downloads/topics/{path.replace('/', '--')}.bib"


def cards(catalog: Catalog, records: list[Record]) -> list[Card]:
    return [Card(catalog, record) for record in records]


TONES = 6  # colours in the stylesheet, reused in turn when there are more dimensions


def tone(catalog: Catalog, path: str) -> int:
    dimension = path.split("/", 1)[0]
    return next(place for place, node in enumerate(catalog.dimensions) if node.path == dimension) % TONES


def map_node(catalog: Catalog, node: Node) -> MapNode:
    return MapNode(
        path=node.path,
        name=node.node.name,
        href=node_href(node.path),
        count=len(catalog.in_node[node.path]),
        extension=node.node.extension,
        tone=tone(catalog, node.path),
        children=[map_node(catalog, child) for child in catalog.kb.taxonomy.children(node.path)],
    )


def year_chart(catalog: Catalog, records: list[Record], label: str) -> Chart:
    dimensions = catalog.dimensions
    years = sorted({record.year for record in records})
    # One old paper must not squeeze the recent years into slivers: early years share the first bar.
    first = max(years[0], years[-1] - MAX_BARS + 1) if years else 0
    # Papers of one year and the same dimensions are counted at once: a topic lists thousands.
    alike = Counter((max(record.year, first), catalog.dimensions_of[record.id]) for record in records)
    counts: Counter[tuple[int, str]] = Counter()
    for (year, paths), papers in alike.items():
        for path in paths:
            counts[year, path] += papers
    span = list(range(first, years[-1] + 1)) if years else []
    totals = {year: sum(counts[year, d.path] for d in dimensions) for year in span}
    top = max(totals.values(), default=0) or 1
    height, step, bar_width = 120.0, 24.0, 18.0
    tones = {dimension.path: tone(catalog, dimension.path) for dimension in dimensions}
    bars = []
    for index, year in enumerate(span):
        y, segments = height, []
        for dimension in dimensions:
            count = counts[year, dimension.path]
            if count:
                size = height * count / top
                y -= size
                segments.append(Segment(tones[dimension.path], dimension.node.name, count, round(y, 2), round(size, 2)))
        gathered = index == 0 and years[0] < first
        bars.append(Bar(year, f"≤{year}" if gathered else str(year), totals[year], index * step, segments))
    legend = [(tones[d.path], Link(d.node.name, node_href(d.path))) for d in dimensions]
    return Chart(label, bars, legend, width=max(len(span) * step, step), height=height, bar_width=bar_width, top=top)


def home(catalog: Catalog) -> dict:
    """Context of `home.html`: the taxonomy map, counts, the year chart and recent additions."""
    return {
        "title": "Home",
        "description": catalog.kb.project.settings.description,
        "dimensions": [map_node(catalog, n) for n in catalog.dimensions],
        "total": len(catalog.papers),
        "incomplete": sum(r.incomplete for r in catalog.papers),
        "chart": year_chart(catalog, catalog.papers, "Papers per year, stacked by dimension"),
        "recent": cards(catalog, catalog.recent[:RECENT]),
    }


def node_page(catalog: Catalog, node: Node) -> dict:
    """Context of `node.html`: breadcrumbs, description, sub-nodes, the papers that define the node
    ("start here"), those the map cites most (`most_cited`: links whose count is of citing papers),
    all its papers and their chart."""
    records = catalog.in_node[node.path]
    trail, parent = [], node.parent
    while parent:
        trail.insert(0, Link(catalog.nodes[parent].node.name, node_href(parent)))
        parent = catalog.nodes[parent].parent
    return {
        "title": node.node.name,
        "description": node.node.description,
        "node": map_node(catalog, node),
        "section": node.node.section,
        "breadcrumbs": trail,
        "start_here": cards(catalog, [r for r in records if r.defining]),
        "papers": cards(catalog, records),
        "chart": year_chart(catalog, records, f"Papers per year in {node.node.name}"),
        "most_cited": most_cited(catalog, node),
        "bib_href": node_bib_href(node.path),
        "feed_href": node_feed_href(node.path),
        "tone": tone(catalog, node.path),
    }


def most_cited(catalog: Catalog, node: Node) -> list[Link]:
    """The node's papers that most papers of the knowledge base cite, most cited first (newest on
    ties), each with that count; none without references in the metrics file."""
    citing = catalog.built_upon_by
    ranked = sorted((-len(citing[r.id]), catalog.newest[r.id], r) for r in catalog.in_node[node.path] if r.id in citing)
    return [Link(f"{r.title} ({r.year})", paper_href(r.id), -count) for count, _, r in ranked[:MOST_CITED]]


def related(catalog: Catalog, record: Record) -> list[Record]:
    """Papers sharing authors (3 points each) and tags (2 points each) with this one, best first,
    newest on ties.  The candidates are the newest papers of each of its authors and tags:
    scoring every paper of a prolific author or a large topic would make the build quadratic."""
    authors, tags = catalog.author_slugs[record.id], catalog.tag_bits[record.id]
    candidates = set()
    for group in [*(("author", slug) for slug in authors), *(("node", tag) for tag in record.tags)]:
        candidates.update(catalog.heads[group])
    candidates.discard(record.id)
    slugs, tag_bits, newest = catalog.author_slugs, catalog.tag_bits, catalog.newest
    # Plain tuples sort without a key function; the place in `papers` breaks ties, newest first.
    # Most candidates share no author: asking that first spares making an empty set.
    ranked = sorted(
        (
            -2 * (tags & tag_bits[o]).bit_count()
            - (0 if authors.isdisjoint(slugs[o]) else 3 * len(authors & slugs[o])),
            newest[o],
        )
        for o in candidates
    )
    return [catalog.papers[place] for _, place in ranked[:RELATED]]


def paper_page(catalog: Catalog, record: Record, settings: Settings) -> dict:
    """Context of `paper.html`: the record, its links, summary, BibTeX, source and related papers,
    the facts searched for in vain (`not_found`: fact -> what was searched), and the papers of the
    knowledge base it cites (`builds_on`) and that cite it (`built_upon_by`), from the metrics file."""
    links = []
    if record.arxiv:
        links += [
            Link("arXiv", f"https://arxiv.org/abs/{record.arxiv}"),
            Link("PDF", f"https://arxiv.org/pdf/{record.arxiv}"),
        ]
    if record.doi:
        links.append(Link("DOI", f"https://doi.org/{record.doi}"))
    if record.url:
        links.append(Link("Paper", record.url))
    if record.pdf:
        links.append(Link("PDF", record.pdf))
    if record.code:
        links.append(Link("Code", record.code))
    entry = catalog.kb.bibtex[record.id]
    return {
        "title": record.title,
        "description": description(record),
        "paper": Card(catalog, record),
        "record": {"id": record.id, "added": record.added.isoformat(), "arxiv": record.arxiv, "doi": record.doi},
        "links": links,
        "pdf_url": next((link.href for link in links if link.text == "PDF"), None),
        "summary_html": render_markdown(record.summary) if record.summary else None,
        "not_found": record.not_found,
        "bibtex": bibtex_entry(entry),
        "sources": [
            {
                "text": s.origin,
                "href": f"https://github.com/{s.list}" if s.list else s.page,
                "section": s.section,
                "facts": ", ".join(s.facts or ()),
            }
            for s in record.source
        ],
        "related": cards(catalog, related(catalog, record)),
        "builds_on": cards(catalog, [catalog.papers[catalog.newest[i]] for i in catalog.builds_on.get(record.id, ())]),
        "built_upon_by": cards(
            catalog, [catalog.papers[catalog.newest[i]] for i in catalog.built_upon_by.get(record.id, ())]
        ),
        "edit_href": edit_href(settings, record),
        "dimensions": sorted({catalog.nodes[tag.split("/", 1)[0]].node.name for tag in record.tags}),
    }


def description(record: Record) -> str:
    """A paper in a line of plain text, for its page's metadata and the feeds: its summary, or else
    its authors and year."""
    return plain_text(record.summary) if record.summary else f"{', '.join(record.authors)} ({record.year})"


def redirect_page(record: Record) -> dict:
    """Context of `redirect.html`, at each of a record's old addresses."""
    return {"title": record.title, "description": f"Moved to {paper_href(record.id)}", "target": paper_href(record.id)}


def group_page(kind: str, group: Group, catalog: Catalog) -> dict:
    """Context of `listing.html` for one author, year or venue."""
    return {
        "title": group.name,
        "description": f"{len(group.papers)} papers on LLM efficiency: {kind} {group.name}.",
        "kind": kind,
        "papers": cards(catalog, group.papers),
        "chart": year_chart(catalog, group.papers, f"Papers per year: {group.name}") if kind != "year" else None,
    }


def group_index(kind: str, plural: str, groups: dict, prefix: str) -> dict:
    """Context of `groups.html`: every author, year or venue with its paper count."""
    return {
        "title": plural.capitalize(),
        "description": f"All {plural} in the knowledge base.",
        "kind": kind,
        "groups": [Link(g.name, f"{prefix}/{g.slug}/", len(g.papers)) for g in groups.values()],
    }


def table_page(catalog: Catalog) -> dict:
    """Context of `table.html`: every paper as a row, with the filter choices; ``metrics``: whether
    the table has the columns of cited-by counts and stars."""
    return {
        "title": "All papers",
        "description": f"All {len(catalog.papers)} papers, filterable by dimension, topic, year, venue and code.",
        "papers": [Row(catalog, r) for r in catalog.papers],
        "dimensions": [Link(n.node.name, n.path) for n in catalog.dimensions],
        "leaves": [Link(n.node.name, n.path) for n in catalog.kb.taxonomy.leaves],
        "venues": [Link(g.name, g.slug, len(g.papers)) for g in catalog.venues.values()],
        "years": sorted(catalog.years),
        "metrics": catalog.kb.metrics is not None,
    }


def search_page(catalog: Catalog) -> dict:
    """Context of `search.html`: whether there is anything to search, and the search index's shards
    beyond the first, which the page merges."""
    return {
        "title": "Search",
        "description": "Search all papers.",
        "searchable": bool(catalog.papers),
        "merge": [f"{folder}/" for folder in list(shards([r.id for r in catalog.papers]))[1:]],
    }


@dataclass(frozen=True)
class QualityRow:
    """One line of the quality report as the quality page shows it: a node (or all papers), its
    record count, and each figure of `quality.columns` as (count, share)."""

    name: str
    href: str | None  # its node's page; None for all papers
    depth: int
    records: int
    figures: list[tuple[int, str]]


def quality_page(catalog: Catalog, settings: Settings, broken: frozenset[str] | None) -> dict:
    """Context of `quality.html`: the quality report (`efflit check --quality`) per node, with its
    column headings, and the records still incomplete (`incomplete`: a card, what it lacks and the
    address to edit it at, when the settings name a repository); with ``broken`` (the links the last
    `efflit links` run found broken), how many records' links work, and those whose links do not."""
    lines = quality.report(catalog, broken)
    figures = quality.columns(lines)
    rows = [
        QualityRow(
            line.name,
            node_href(line.path) if line.path else None,
            line.depth,
            line.figures.records,
            [(count, line.figures.share(count)) for count in map(line.figures.__getattribute__, figures)],
        )
        for line in lines
    ]
    lacking = {r.id: lacks for r in catalog.papers if (lacks := quality.missing(r, broken))}
    return {
        "title": "Quality",
        "description": "How complete the records are, per topic, and the records that still need facts.",
        "headings": [quality.HEADINGS.get(c, c) for c in figures],  # as `efflit check --quality` heads them
        "rows": rows,
        "incomplete": [
            {"card": Card(catalog, r), "lacks": ", ".join(lacking[r.id]), "edit_href": edit_href(settings, r)}
            for r in catalog.papers
            if r.id in lacking
        ],
    }


def edit_href(settings: Settings, record: Record) -> str | None:
    """Where a contributor edits the record, when the settings name the repository."""
    if not settings.repository:
        return None
    return f"{settings.repository}/edit/{settings.branch}/papers/{record.id}.yaml"


def downloads_page(catalog: Catalog) -> dict:
    """Context of `downloads.html`: the whole bibliography in several formats, and one .bib per node."""
    total = len(catalog.papers)
    return {
        "title": "Downloads",
        "description": "The knowledge base as BibTeX, JSON and CSL-JSON.",
        "files": [
            Link("BibTeX: every paper", "downloads/efflit.bib", total),
            Link("CSL-JSON (Zotero, Mendeley)", "downloads/papers.csl.json", total),
            Link("JSON: every record", "downloads/papers.json", total),
            Link("JSON Schema of papers.json", "downloads/papers.schema.json"),
            Link("JSON Schema of one record file", "downloads/record.schema.json"),
            Link("Atom feed of new papers", "feed.xml"),
        ],
        "nodes": [
            (node.depth, Link(node.node.name, node_bib_href(path), len(catalog.in_node[path])))
            for path, node in catalog.nodes.items()
        ],
    }
