"""What each output of the site is made from, as one hash: its key.

A build stores the keys of what it wrote (the `site-` record of `build._build`); the next build renders again
only the outputs whose key changed and takes the others over from the previous site.  So a key
must cover everything its output shows: the templates it is rendered with (with the templates
they include or extend, and the card partial every listing uses), efflit's code, the settings and
build options, the records it shows and the part of the taxonomy it names.  A paper's own page is
keyed by its whole record (its file, so that editing a comment renders it again, and its BibTeX
entry); a page that shows it in a list (its card, its table row) only by the fields those show
(`views.LISTED_FIELDS`), so that the commonest edit, a summary or a link, renders the paper's page
again and not the topics, authors and related papers that list it.  `tests/pipeline/test_incremental.py`
holds incremental builds to clean ones, byte for byte.

Each build keeps the records' keys and what each page shows (`Keys.keep`); the next takes them up
where its other inputs are the same, and works out again only the records whose file or BibTeX entry
changed and their own pages; where one changed what listings show of it, also the listings that show
it, before or now, and the pages whose related papers may show it (keying every page again took
0.4 s at 10,000 records).
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterable
from operator import attrgetter

import jinja2
from jinja2 import meta

from efflit.kb import quality
from efflit.kb.catalog import Catalog, Group, listings_of
from efflit.kb.models import Record
from efflit.kb.project import PAPERS, Options
from efflit.kb.validate import Node
from efflit.memory.cache import Hashes, digest, recall, remember, template_inputs
from efflit.site.render import PAPER_PARTIALS, TemplateFailure, environment, template_position
from efflit.site.views import LISTED_FIELDS, most_cited, paper_metrics

RECORD_ID = attrgetter("id")
REFERENCES = "template-references"  # the cache file of `Keys._references_of`
KEPT = "keys"  # the cache file of `Keys.keep`
ALWAYS = tuple(PAPER_PARTIALS.values())  # rendered through template globals, which Jinja cannot see


class Keys:
    """The keys of one build's outputs, from its catalog, options and input hashes."""

    def __init__(self, catalog: Catalog, options: Options, code: str, hashes: Hashes) -> None:
        """``hashes``: the content hash of each input file (see `cache.input_hashes`)."""
        kb = catalog.kb
        self.catalog = catalog
        self.root = kb.project.root
        self.env = environment(self.root)
        self.common = digest(code, kb.project.settings.model_dump_json(), repr(options))
        nodes = catalog.nodes.values()
        # Cards and charts name the nodes; only node pages and the home map show the rest.
        self.shape = digest(*(f"{n.path}\0{n.node.name}\0{n.node.extension}" for n in nodes))
        self.taxonomy = digest(self.shape, *(n.node.model_dump_json(exclude={"children"}) for n in nodes))
        self._carry_over(catalog, hashes)
        self._ids: dict[int, tuple[list[Record], tuple[str, ...]]] = {}  # see `_ids_of`
        self.everything = digest(self.taxonomy, self.records(catalog.papers))
        self.every_listing = digest(self.shape, self.records(catalog.papers, listed=True))
        self._templates: dict[str, str] = {}
        self._windows: dict[tuple[str, str], str] = {}
        # The templates each template's source names, as earlier builds found them: parsing every
        # template for them takes a fifth of a second.
        self._code = code
        self._referenced: dict[str, tuple[str | None, ...]] = recall(self.root, REFERENCES, code) or {}
        self._referenced_known = len(self._referenced)

    def _carry_over(self, catalog: Catalog, inputs: Hashes) -> None:
        """The records' keys, and what pages show, taken up from the last build's (see `keep`) where
        its other inputs were the same, and worked out again for what changed since."""
        kb = catalog.kb
        # What the records are made of: their files (their data, for a file added since they were
        # hashed) and BibTeX entries.  The rest of the inputs (the templates aside, which pages'
        # keys take up apart) is the basis of what is kept.
        self.made_of = {p.record.id: inputs.get(str(p.document.file)) or p.record.model_dump_json() for p in kb.papers}
        self.entry = {record: entry.content for record, entry in kb.bibtex.items()}
        records_or_templates = (f"{self.root / PAPERS}{os.sep}", *template_inputs(self.root))
        others = (f"{path}\0{key}" for path, key in inputs.items() if not path.startswith(records_or_templates))
        self._basis = digest(self.common, self.taxonomy, *others)
        last = recall(self.root, KEPT, self._basis)
        same_records = last is not None and last["made_of"].keys() == self.made_of.keys()
        if same_records:  # set differences of the tables' items: a tenth of the time of a loop in Python
            edited = {record for record, _ in self.made_of.items() - last["made_of"].items()}
            edited |= {record for record, _ in self.entry.items() - last["entry"].items() if record in self.made_of}
            changed = [catalog.papers[catalog.newest[record]] for record in sorted(edited)]
        else:
            changed = [paper.record for paper in kb.papers]
        self.record, self.listed_record = (dict(last["record"]), dict(last["listed"])) if same_records else ({}, {})
        self.listed_in = dict(last["listed_in"]) if same_records else {}
        relisted: set[tuple[str, str]] = set()  # the listings that show a record otherwise now, or showed it
        shown_otherwise: list[str] = []  # those records
        shown = attrgetter(*LISTED_FIELDS)
        for record in changed:
            # The metrics a card shows of a paper are part of what it shows, on every page that lists it.
            metrics = repr(paper_metrics(catalog, record)) if kb.metrics else ""
            self.record[record.id] = digest(self.made_of[record.id], self.entry[record.id], metrics)
            listed = digest(repr(shown(record)), metrics)
            if same_records and listed != last["listed"][record.id]:
                relisted.update(self.listed_in[record.id], listings_of(record))
                shown_otherwise.append(record.id)
            self.listed_record[record.id], self.listed_in[record.id] = listed, listings_of(record)
        # What pages show, as earlier builds found it: it stands for the pages of records that did not
        # change, but for the listings that show a record otherwise now, and the papers that show
        # those listings' newest papers or the record itself among their related papers.
        self._shows: dict[tuple[str, ...], str] = dict(last["shows"]) if same_records else {}
        stale = [("paper", record.id) for record in changed] + sorted(relisted)
        for listing in relisted:
            stale += [("paper", paper) for paper in self._showing_newest_of(listing)]
        for record in shown_otherwise:  # the papers it builds on, and that build upon it, show its card
            stale += [("paper", paper) for paper in catalog.builds_on.get(record, ())]
            stale += [("paper", paper) for paper in catalog.built_upon_by.get(record, ())]
        for shows in stale:
            self._shows.pop(shows, None)
        self._kept = last is not None and not changed  # then what it holds is kept already

    def records(self, records: list[Record], *, listed: bool = False) -> str:
        """The records' keys, in order; ``listed``, of what listings show of them."""
        return _of(self.listed_record if listed else self.record, self._ids_of(records))

    def _ids_of(self, records: list[Record]) -> tuple[str, ...]:
        """The records' ids.  A build asks for the keys of the same lists of the catalog several
        times (of their cards, their entries, their downloads), and reading the ids of records
        scattered over gigabytes is slow: 2.4 s at 100,000 records, where each list was read anew."""
        known = self._ids.get(id(records))
        if known is None or known[0] is not records:  # the list itself is kept: its id is not reused
            known = self._ids[id(records)] = (records, tuple(map(RECORD_ID, records)))
        return known[1]

    def template(self, name: str) -> str:
        """The template with every template it pulls in, and efflit's code and settings."""
        if name not in self._templates:
            seen, todo, sources = set(), [name, *ALWAYS], {}
            try:
                while todo:
                    current = todo.pop()
                    if current in seen:
                        continue
                    seen.add(current)
                    try:
                        sources[current] = self.env.loader.get_source(self.env, current)[0]
                    except jinja2.TemplateNotFound:
                        if current == name:
                            raise
                        sources[current] = ""  # included with `ignore missing`: absent until it is added
                        continue
                    referenced = list(self._references_of(sources[current]))
                    if None in referenced:  # a name computed at render time: it could be any template
                        referenced = [n for n in self.env.list_templates() if not n.startswith("static/")]
                    todo += referenced
            except jinja2.TemplateError as error:
                raise TemplateFailure(template_position(error, self.root), error.message or str(error)) from None
            self._templates[name] = digest(self.common, *(f"{n}\0{sources[n]}" for n in sorted(sources)))
        return self._templates[name]

    def _references_of(self, source: str) -> tuple[str | None, ...]:
        """The names of the templates a template's source pulls in; None for a name computed at
        render time."""
        key = digest(source)
        if key not in self._referenced:
            self._referenced[key] = tuple(meta.find_referenced_templates(self.env.parse(source)))
        return self._referenced[key]

    def keep(self) -> None:
        """Keep what templates were found to pull in, and the keys of records and what pages show,
        for the next build."""
        if len(self._referenced) > self._referenced_known:
            remember(self.root, REFERENCES, self._code, self._referenced, in_background=True)
            self._referenced_known = len(self._referenced)
        if not self._kept:
            tables = {"made_of": self.made_of, "entry": self.entry, "record": self.record, "listed": self.listed_record}
            tables["listed_in"] = self.listed_in
            remember(self.root, KEPT, self._basis, tables | {"shows": dict(self._shows)}, in_background=True)
            self._kept = True

    def page(self, template: str, shows: str) -> str:
        return digest(self.template(template), shows)

    # What each kind of page shows, as `render.pages` declares it.

    def paper(self, record: Record) -> str:
        """The record, for its related papers (their cards) the newest papers of each of its
        authors and tags, and the cards of the papers it builds on and that build upon it."""
        if (shows := self._shows.get(("paper", record.id))) is not None:
            return shows
        groups = [("author", slug) for slug in sorted(self.catalog.author_slugs[record.id])]
        groups += [("node", tag) for tag in sorted(set(record.tags))]
        cited = self.catalog.builds_on.get(record.id, ())
        citing = self.catalog.built_upon_by.get(record.id, ())
        shows = digest(
            self.shape,
            self.record[record.id],
            *(self._window(group) for group in groups),
            repr(len(cited)),
            *map(self.listed_record.__getitem__, (*cited, *citing)),
        )
        self._shows[("paper", record.id)] = shows
        self._kept = False
        return shows

    def redirect(self, record: Record) -> str:
        """An old address of the record: where it leads, and the title it names."""
        return digest(record.id, record.title)

    def _window(self, group: tuple[str, str]) -> str:
        if group not in self._windows:
            self._windows[group] = digest(*map(self.listed_record.__getitem__, self.catalog.heads[group]))
        return self._windows[group]

    def _showing_newest_of(self, listing: tuple[str, str]) -> list[str]:
        """The papers whose pages show the newest papers of a listing among their related papers."""
        kind, name = listing
        if kind == "author":
            return [record.id for record in self.catalog.authors[name].papers] if name in self.catalog.authors else []
        if kind == "node":
            return [record.id for record in self.catalog.in_node.get(name, ()) if name in record.tags]
        return []

    def listed(self) -> dict[str, str]:
        """The key of each paper as a listing shows it (its card, its row in the table): what they
        show of its record and the names of its tags; not the partial's template, the same for
        every paper."""
        return {paper: digest(self.shape, key) for paper, key in self.listed_record.items()}

    def node(self, node: Node) -> str:
        if (shows := self._shows.get(("node", node.path))) is None:
            listed = self.records(self.catalog.in_node[node.path], listed=True)
            shows = digest(self.taxonomy, node.path, listed, repr(most_cited(self.catalog, node)))
            self._shows[("node", node.path)], self._kept = shows, False
        return shows

    def group(self, kind: str, group: Group) -> str:
        if (shows := self._shows.get((kind, group.slug))) is None:
            shows = digest(self.shape, kind, group.slug, self.records(group.papers, listed=True))
            self._shows[(kind, group.slug)], self._kept = shows, False
        return shows

    def quality(self) -> str:
        """The quality page: every record as listings show it, and which facts each has (whether its
        links work, too, when a link check left the links it found broken)."""
        broken = quality.broken_links(self.root)
        return digest(self.every_listing, repr([quality.facts(r, broken) for r in self.catalog.papers]))

    def site(self) -> str:
        """Pages that show counts or lists of the whole knowledge base."""
        return self.everything

    def listings(self) -> str:
        """Pages that list every paper as listings show it, or counts of those: the table of all
        papers, the indexes of authors, years and venues."""
        return self.every_listing

    def nothing(self) -> str:
        """Pages that show no data: only their template."""
        return ""

    # What each file beside the pages holds, as `render.files` declares it.

    def urls(self, urls: list[str]) -> str:
        """The sitemap: the address of every page."""
        return digest(self.template("sitemap.xml"), *urls)

    def feed(self, records: list[Record]) -> str:
        """A feed: its newest papers' cards and summaries, under its node's name."""
        return digest(self.template("feed.xml"), self.shape, self.records(records))

    def bibliography(self, records: list[Record]) -> str:
        """A .bib file: the records' BibTeX entries."""
        return digest(self.common, _of(self.entry, self._ids_of(records)))

    def exported(self, records: list[Record]) -> str:
        """A download of whole records (JSON, CSL-JSON)."""
        return digest(self.common, self.records(records))

    def settings(self) -> str:
        """Files made from the settings and efflit's code alone (robots.txt, the JSON Schemas)."""
        return self.common

    def static(self, data: bytes) -> str:
        """A static asset: its bytes."""
        return hashlib.blake2b(data).hexdigest()


def _of(keys: dict[str, str], ids: Iterable[str]) -> str:
    """The keys of the records with these ids, in order, as one."""
    return digest(*map(keys.__getitem__, ids))  # map: 90,000 records a build at 10k
