"""The catalog: the checked knowledge base indexed the ways the site browses it.

Built once per build from the link stage's output; every page's view-model is
a plain function of it.  Listings are sorted newest first, then by title.
"""

from __future__ import annotations

import dataclasses
import re
import sys
import unicodedata
from collections import Counter, defaultdict
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING

from efflit.kb.models import Record, tag_paths

if TYPE_CHECKING:  # named in annotations only: a quality report does not load the link stage
    from efflit.kb.link import KnowledgeBase
    from efflit.kb.validate import Node


@lru_cache(maxsize=1 << 20)  # every author name of a large knowledge base
def slugify(text: str) -> str:
    """An ASCII slug for a name: ``Jörg Müller`` is ``jorg-muller``."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-") or "x"


@dataclass
class Group:
    """Papers that share an author, a year or a venue."""

    slug: str
    name: str
    papers: list[Record]


CANDIDATES = 24  # newest papers per author and per tag group considered for "related papers"


@dataclass
class Catalog:
    kb: KnowledgeBase
    papers: list[Record]  # newest first
    in_node: dict[str, list[Record]]  # a node's papers, including its descendants'
    authors: dict[str, Group]
    years: dict[int, Group]
    venues: dict[str, Group]
    dimensions: list[Node]  # the taxonomy's top-level nodes, in its order
    dimensions_of: dict[str, tuple[str, ...]]  # record id -> the paths of its tags' dimensions, sorted
    author_slugs: dict[str, frozenset[str]]  # record id -> the slugs of its authors' pages
    # record id -> its tags as the bits of one number: two papers share `(a & b).bit_count()` tags
    # (faster than intersecting sets, for each candidate of each paper's related papers)
    tag_bits: dict[str, int]
    # ("author", slug) or ("node", path) -> the ids of its CANDIDATES newest papers
    heads: dict[tuple[str, str], tuple[str, ...]]
    newest: dict[str, int]  # record id -> its place in ``papers``, newest first
    recent: list[Record]  # most recently added first; on the same day, newest papers first
    # From the metrics file, where it has references: record id -> the ids of the knowledge base's
    # papers it cites (builds on), and of those citing it (built upon by), newest first.
    builds_on: dict[str, tuple[str, ...]]
    built_upon_by: dict[str, tuple[str, ...]]

    @property
    def nodes(self) -> dict[str, Node]:
        return self.kb.taxonomy.nodes


def listings_of(record: Record) -> tuple[tuple[str, str], ...]:
    """The listings that show a record, as (kind, slug) of its groups' pages (author, year, venue)
    and ("node", path) of its nodes and the nodes above them."""
    return (
        *(("author", slugify(name)) for name in record.authors),
        ("year", sys.intern(str(record.year))),
        *((("venue", slugify(record.venue)),) if record.venue else ()),
        *(("node", sys.intern(path)) for tag in record.tags for path in tag_paths(tag)),
    )


def newest_first(records: list[Record]) -> list[Record]:
    return sorted(records, key=lambda r: (-r.year, r.title.casefold(), r.id))


def _placed(record: Record) -> tuple:
    """What decides where a paper is listed, and how it is named there."""
    return (record.id, record.title, record.year, record.authors, record.tags, record.venue, record.added)


def with_edits(catalog: Catalog, kb: KnowledgeBase) -> Catalog | None:
    """``catalog`` with the records of ``kb`` where only what decides no listing changed since
    (a summary, a link: most edits); None where a whole catalog must be made."""
    last = catalog.kb
    if kb.project is not last.project or kb.taxonomy is not last.taxonomy or len(kb.papers) != len(last.papers):
        return None
    edited = {}
    for before, after in zip(last.papers, kb.papers, strict=True):
        if before.record is not after.record:
            if _placed(before.record) != _placed(after.record):
                return None
            edited[id(before.record)] = after.record

    def swapped(records: list[Record]) -> list[Record]:
        return [edited.get(id(record), record) for record in records]

    def regrouped(groups: dict, holding: set) -> dict:
        """The groups, those ``holding`` an edited record with it swapped in (there are 30,000
        authors at 100,000 records, and an edit touches a few)."""
        return {k: Group(g.slug, g.name, swapped(g.papers)) if k in holding else g for k, g in groups.items()}

    records = edited.values()
    papers = list(catalog.papers)
    for record in records:  # in the place of the record it replaces, which has its id
        papers[catalog.newest[record.id]] = record
    nodes = {path for record in records for tag in record.tags for path in tag_paths(tag)}
    return dataclasses.replace(
        catalog,
        kb=kb,
        papers=papers,
        in_node={path: swapped(held) if path in nodes else held for path, held in catalog.in_node.items()},
        authors=regrouped(catalog.authors, {slugify(name) for record in records for name in record.authors}),
        years=regrouped(catalog.years, {record.year for record in records}),
        venues=regrouped(catalog.venues, {slugify(record.venue) for record in records if record.venue}),
        recent=swapped(catalog.recent),
        **({} if kb.metrics is last.metrics else _citations(kb, catalog.newest)),
    )


def build_catalog(kb: KnowledgeBase) -> Catalog:
    """The catalog of a checked knowledge base, made whole."""
    papers = newest_first([paper.record for paper in kb.papers])
    in_node: dict[str, list[Record]] = {path: [] for path in kb.taxonomy.nodes}
    by_author: dict[str, list[Record]] = defaultdict(list)
    author_spellings: dict[str, Counter] = defaultdict(Counter)
    by_year: dict[int, list[Record]] = defaultdict(list)
    by_venue: dict[str, list[Record]] = defaultdict(list)
    venue_names: dict[str, str] = {}
    for record in papers:
        for path in sorted({path for tag in record.tags for path in tag_paths(tag)}):
            in_node[path].append(record)
        for name in record.authors:
            slug = slugify(name)
            by_author[slug].append(record)
            author_spellings[slug][name] += 1
        by_year[record.year].append(record)
        if record.venue:
            slug = slugify(record.venue)
            by_venue[slug].append(record)
            venue_names.setdefault(slug, record.venue)
    groups = {("author", slug): members for slug, members in by_author.items()}
    groups |= {("node", path): members for path, members in in_node.items()}
    tag_bit: dict[str, int] = {}  # each tag's bit, as they come
    newest = {r.id: place for place, r in enumerate(papers)}
    return Catalog(
        kb=kb,
        papers=papers,
        in_node=in_node,
        # "Jörg Müller" and "Jorg Muller" share a page, which shows the usual spelling.
        authors={
            slug: Group(slug, author_spellings[slug].most_common(1)[0][0], members)
            for slug, members in sorted(by_author.items())
        },
        years={year: Group(str(year), str(year), members) for year, members in sorted(by_year.items(), reverse=True)},
        venues={slug: Group(slug, venue_names[slug], members) for slug, members in sorted(by_venue.items())},
        dimensions=[node for node in kb.taxonomy.nodes.values() if node.parent is None],
        dimensions_of={r.id: tuple(sorted({tag.split("/", 1)[0] for tag in r.tags})) for r in papers},
        author_slugs={r.id: frozenset(slugify(name) for name in r.authors) for r in papers},
        tag_bits={r.id: sum(tag_bit.setdefault(tag, 1 << len(tag_bit)) for tag in set(r.tags)) for r in papers},
        heads={group: tuple(r.id for r in members[:CANDIDATES]) for group, members in groups.items()},
        newest=newest,
        recent=sorted(papers, key=lambda r: (r.added, r.year), reverse=True),
        **_citations(kb, newest),
    )


def _citations(kb: KnowledgeBase, newest: dict[str, int]) -> dict[str, dict[str, tuple[str, ...]]]:
    """``builds_on`` and ``built_upon_by`` of the catalog: who cites whom among the knowledge base's
    papers, as the metrics file says (ids of papers no longer in it are left out)."""
    builds_on: dict[str, tuple[str, ...]] = {}
    built_upon_by: dict[str, list[str]] = defaultdict(list)
    for citing, paper in (kb.metrics.papers if kb.metrics else {}).items():
        cited = sorted({i for i in paper.cites if i in newest and i != citing}, key=newest.__getitem__)
        if citing in newest and cited:
            builds_on[citing] = tuple(cited)
            for record_id in cited:
                built_upon_by[record_id].append(citing)
    return {
        "builds_on": builds_on,
        "built_upon_by": {i: tuple(sorted(c, key=newest.__getitem__)) for i, c in built_upon_by.items()},
    }
