"""Importing papers into a knowledge base: candidates from BibTeX files, Markdown lists or arXiv,
de-duplicated (arXiv id, then DOI, then normalised title) against the records and each other.

A candidate that matches nothing becomes a new record with a generated id and
a BibTeX entry; one that matches is merged: its source and tags are added and
the fields the record lacks are filled, never overwriting one that is set.
Nothing is written until ``commit``, which writes each file atomically: the
BibTeX file first, so an interrupted import re-run gives the same result.
"""

from __future__ import annotations

import datetime
import difflib
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import bibtexparser
import yaml
from pydantic import ValidationError

from efflit.base.files import write_atomic
from efflit.kb.bibtex import normalize
from efflit.kb.canonical import FIELD_ORDER, parse, record_text, schema_url
from efflit.kb.link import KnowledgeBase
from efflit.kb.models import Record
from efflit.kb.venues import Venues
from efflit.site.exports import format_entry

REFERENCES = "references.bib"
OPTIONAL_FIELDS = ("venue", "arxiv", "doi", "url", "code")
STOP_WORDS = {"a", "an", "the", "on", "of", "for", "in", "to", "and", "with", "via", "towards", "toward", "is", "at"}


@dataclass
class Candidate:
    """A paper offered for import, with only the facts its source gives."""

    origin: str  # where it was read, for the report: "list.md:42"
    title: str
    year: int | None
    tags: list[str]
    source: dict[str, str]
    authors: list[str] = field(default_factory=list)
    venue: str | None = None
    arxiv: str | None = None
    doi: str | None = None
    url: str | None = None
    code: str | None = None
    bibkey: str | None = None  # keep the key a BibTeX file gave, so its citations still work
    bib_fields: dict[str, str] | None = None  # the entry as the BibTeX file gave it


@dataclass(frozen=True)
class Outcome:
    kind: str  # "added", "merged" or "skipped"
    origin: str
    detail: str

    def __str__(self) -> str:
        return f"{self.origin}: {self.kind}: {self.detail}"


def slug_word(text: str) -> str:
    return re.sub(r"[^a-z0-9]", "", unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower())


def generated_id(authors: list[str], year: int, title: str) -> str:
    """`firstauthorYYYYfirstword`, e.g. `dao2022flashattention`; without authors the first title
    word stands in for the author: `efficient2023streaming`."""
    words = [w for w in (slug_word(w) for w in title.split()) if w and w not in STOP_WORDS] or ["paper"]
    if authors and (family := slug_word(authors[0].split()[-1])):
        return f"{family}{year}{words[0]}"
    return f"{words[0]}{year}{words[1] if len(words) > 1 else ''}"


# For a venue venues.yaml does not list: whether its name says it is a journal.
JOURNAL_VENUES = re.compile(r"journal|transactions|letters|nature|science", re.I)


def latex_escape(text: str) -> str:
    return re.sub(r"([&%$#_])", r"\\\1", text)


def bib_entry_for(data: dict[str, Any], original: dict[str, str] | None, venues: Venues | None) -> str:
    """The BibTeX entry of a record: the imported entry's fields if it came from one, else made
    from the record's facts only, with the venue's full name and entry type from ``venues``."""
    key = data.get("bibkey") or data["id"]
    if original is not None:
        fields = {k: v for k, v in original.items() if k != "ENTRYTYPE"}
        return format_entry(original.get("ENTRYTYPE", "misc"), key, fields)
    fields = {"title": "{" + latex_escape(data["title"]) + "}", "year": str(data["year"])}
    if data.get("authors"):
        fields["author"] = " and ".join(latex_escape(a) for a in data["authors"])
    venue = data.get("venue")
    if venue and venue.lower() != "arxiv":
        listed = venues.is_journal(venue) if venues else None
        journal = listed if listed is not None else bool(JOURNAL_VENUES.search(venue))
        name = latex_escape(venues.full_name(venue) if venues else venue)
        kind, fields["journal" if journal else "booktitle"] = ("article" if journal else "inproceedings"), name
    elif data.get("arxiv"):
        kind, fields["journal"] = "article", f"arXiv preprint arXiv:{data['arxiv']}"
    else:
        kind = "misc"
    if data.get("arxiv"):
        fields |= {"eprint": data["arxiv"], "archiveprefix": "arXiv"}
    if data.get("doi"):
        fields["doi"] = data["doi"]
    if data.get("url"):
        fields["url"] = data["url"]
    return format_entry(kind, key, fields)


ARXIV_DOI = "10.48550/"
DECISIONS = "sources/decisions.yaml"
DECISIONS_HEADER = (
    "# What curators decided about papers the lists carry, which imports honour (efflit apply writes it):\n"
    "# papers out of scope are skipped; a title a paper no longer has (corrected, or merged into\n"
    "# another record) still finds its record.\n"
)


@dataclass
class Decisions:
    """What curators decided about papers the lists carry (`sources/decisions.yaml`), so that a
    second import of the same lists does not undo it."""

    out_of_scope: list[dict[str, str]]  # title, arXiv id where known, why
    former_titles: dict[str, str]  # a title a paper was listed under -> its record's id (or an alias)
    former_arxiv: dict[str, str]  # a wrong arXiv id a list gives for a paper -> its record's id

    @classmethod
    def read(cls, root: Path) -> Decisions:
        path = root / DECISIONS
        data = (yaml.safe_load(path.read_text(encoding="utf-8")) if path.exists() else None) or {}
        return cls(data.get("out_of_scope") or [], data.get("former_titles") or {}, data.get("former_arxiv") or {})

    def why_out(self, data: dict[str, Any]) -> str | None:
        """Why the paper is out of scope, if it is: matched by arXiv id, else by normalised title."""
        for entry in self.out_of_scope:
            if (data.get("arxiv") and entry.get("arxiv") == data["arxiv"]) or (
                normalize(entry["title"]) == normalize(data["title"])
            ):
                return entry.get("why", "")
        return None

    def save(self, root: Path) -> None:
        data = {
            "out_of_scope": self.out_of_scope,
            "former_titles": dict(sorted(self.former_titles.items())),
            "former_arxiv": dict(sorted(self.former_arxiv.items())),
        }
        text = yaml.safe_dump(data, allow_unicode=True, sort_keys=False, width=1 << 16)
        write_atomic(root / DECISIONS, DECISIONS_HEADER + text)


class Importer:
    """Offer candidates one by one, then ``commit`` the result to disk."""

    def __init__(self, kb: KnowledgeBase, today: datetime.date | None = None) -> None:
        self.kb, self.today = kb, today or datetime.date.today()
        self.papers_dir = kb.project.papers
        self.schema = schema_url(kb.project.settings)
        self.records: dict[str, dict[str, Any]] = {}  # id -> fields, for existing and new records
        self.new: set[str] = set()
        self.changed: dict[str, set[str]] = {}  # existing record id -> fields a merge changed
        self.bib_fields: dict[str, dict[str, str] | None] = {}
        self.index: dict[tuple[str, str], str] = {}
        for paper in kb.papers:
            self.records[paper.record.id] = paper.record.model_dump(mode="json", exclude_none=True)
            self._index(paper.record.id)
        self.outcomes: list[Outcome] = []
        self.decisions = Decisions.read(kb.project.root)
        # Titles a paper no longer has lead to its record, through the aliases of renamed records.
        aliases = {alias: p.record.id for p in kb.papers for alias in p.record.aliases}
        former = [("title", normalize(t), i) for t, i in self.decisions.former_titles.items()]
        former += [("arxiv", arxiv_id, i) for arxiv_id, i in self.decisions.former_arxiv.items()]
        for kind, value, record_id in former:
            if (found := aliases.get(record_id, record_id)) in self.records:
                self.index.setdefault((kind, value), found)

    def _keys(self, data: dict[str, Any]) -> list[tuple[str, str]]:
        keys = [("arxiv", data["arxiv"])] if data.get("arxiv") else []
        keys += [("doi", data["doi"].casefold())] if data.get("doi") else []
        return keys + [("title", normalize(data["title"]))]

    def _index(self, record_id: str) -> None:
        for key in self._keys(self.records[record_id]):
            self.index.setdefault(key, record_id)

    def _match(self, data: dict[str, Any]) -> str | None:
        for kind, value in self._keys(data):
            found = self.index.get((kind, value))
            if found is None:
                continue
            other = self.records[found].get("arxiv")
            if kind == "title" and data.get("arxiv") and other and other != data["arxiv"]:
                continue  # same title, different arXiv papers: not the same paper
            return found
        return None

    def offer(self, candidate: Candidate) -> Outcome:
        outcome = self._offer(candidate)
        self.outcomes.append(outcome)
        return outcome

    def _offer(self, candidate: Candidate) -> Outcome:
        if candidate.year is None:
            return Outcome("skipped", candidate.origin, f"'{candidate.title}': the source gives no year")
        if unknown := [t for t in candidate.tags if t not in self.kb.taxonomy.nodes]:
            return Outcome("skipped", candidate.origin, f"tag '{unknown[0]}' is not a taxonomy node")
        if candidate.doi and candidate.doi.lower().startswith(ARXIV_DOI):
            candidate.doi = None  # arXiv's own DOI names the preprint, as the arXiv id does
        if candidate.venue and self.kb.venues and (name := self.kb.venues.name_for(candidate.venue)):
            candidate.venue = name  # "NIPS", "ICLR Oral": the venue as venues.yaml names it
        data, dropped = self._valid_fields(candidate)
        if data is None:
            return Outcome("skipped", candidate.origin, f"'{candidate.title}': {dropped[0]}")
        if (why := self.decisions.why_out(data)) is not None:
            return Outcome("skipped", candidate.origin, f"'{candidate.title}': decided out of scope ({why})")
        note = f" (left out invalid {', '.join(dropped)})" if dropped else ""
        found = self._match(data)
        if found is not None:
            changes = self._merge(found, data)
            if not changes:
                return Outcome("skipped", candidate.origin, f"already in papers/{found}.yaml{note}")
            return Outcome("merged", candidate.origin, f"into papers/{found}.yaml: +{', +'.join(changes)}{note}")
        if not data["tags"]:
            return Outcome("skipped", candidate.origin, f"'{candidate.title}': needs a taxonomy tag (use --tag)")
        data["id"] = self._free_id(data)
        if data.get("bibkey") == data["id"]:
            del data["bibkey"]  # the default
        self.records[data["id"]] = data
        self.bib_fields[data["id"]] = candidate.bib_fields
        self.new.add(data["id"])
        self._index(data["id"])
        return Outcome("added", candidate.origin, f"papers/{data['id']}.yaml{note}")

    def _valid_fields(self, candidate: Candidate) -> tuple[dict[str, Any] | None, list[str]]:
        """The candidate as record fields that pass the model; invalid optional fields are dropped."""
        data: dict[str, Any] = {
            "id": "x",
            "title": candidate.title,
            "authors": candidate.authors,
            "year": candidate.year,
            **{name: getattr(candidate, name) for name in OPTIONAL_FIELDS if getattr(candidate, name)},
            "tags": list(dict.fromkeys(candidate.tags)),
            "source": [candidate.source],
            "added": self.today,
        }
        if candidate.bibkey:
            data["bibkey"] = candidate.bibkey
        dropped: list[str] = []
        while True:
            try:
                Record.model_validate(data)
                break
            except ValidationError as error:
                bad = {str(e["loc"][0]) for e in error.errors() if e["loc"]}
                if not data["tags"]:
                    bad.discard("tags")  # a merge needs none; a new record without one is skipped later
                    if not bad:
                        break
                optional = bad & {*OPTIONAL_FIELDS, "bibkey", "authors"}  # no authors: incomplete, not wrong
                if bad - optional or not optional:
                    return None, [f"invalid {', '.join(sorted(bad)) or 'record'}: {error.errors()[0]['msg']}"]
                dropped += sorted(optional)
                for name in optional:
                    data.pop(name)
                data.setdefault("authors", [])
        return data, dropped

    def _merge(self, record_id: str, data: dict[str, Any]) -> list[str]:
        record = self.records[record_id]
        changes = []
        if data["source"][0] not in record["source"]:
            record["source"].append(data["source"][0])
            changes.append("source")
        # Tags a curator checked against the paper itself stand: a list's section says less.
        checked = any("tags" in source.get("facts", ()) for source in record["source"])
        new_tags = [] if checked else [t for t in data["tags"] if t not in record["tags"]]
        if new_tags:
            record["tags"] += new_tags
            changes.append("tags")
        for name in ("authors", *OPTIONAL_FIELDS):
            if data.get(name) and not record.get(name):
                record[name] = data[name]
                changes.append(name)
        if changes and record_id not in self.new:
            self.changed.setdefault(record_id, set()).update(changes)
        return changes

    def _free_id(self, data: dict[str, Any]) -> str:
        base = generated_id(data["authors"], data["year"], data["title"])
        for suffix in ["", *"bcdefghijklmnopqrstuvwxyz"]:
            if base + suffix not in self.records and not (self.papers_dir / f"{base}{suffix}.yaml").exists():
                return base + suffix
        return f"{base}-{len(self.records)}"

    def planned(self) -> dict[Path, str]:
        """Every file the import changes, with its new text: references.bib first, then the new
        records (never one that exists) and the changed ones."""
        files = {self.papers_dir / REFERENCES: self._bibtex_text()}
        for record_id in sorted(self.new):
            path = self.papers_dir / f"{record_id}.yaml"
            if not path.exists():  # never overwrite a record
                files[path] = record_text(_ordered(self.records[record_id]), self.schema)
        for record_id, changes in sorted(self.changed.items()):
            path = self.papers_dir / f"{record_id}.yaml"
            document = parse(path.read_text(encoding="utf-8"))  # keeps the curator's comments
            for name in changes:
                document[name] = self.records[record_id][name]
            files[path] = record_text(document, self.schema)
        return files

    def commit(self) -> None:
        """Write what `planned` says, each file atomically, and only files that change."""
        for path, text in self.planned().items():
            if not path.exists() or text != path.read_text(encoding="utf-8"):
                write_atomic(path, text)

    def diff(self) -> str:
        """What `commit` would change, as a unified diff; nothing is written."""
        return unified_diff(self.planned(), self.kb.project.display)

    def _bibtex_text(self) -> str:
        """references.bib with entries for new records, and existing entries given the authors a
        merge filled in."""
        path = self.papers_dir / REFERENCES
        text = path.read_text(encoding="utf-8") if path.exists() else ""
        library = bibtexparser.parse_string(text)
        present = {entry.key for entry in library.entries}
        for record_id in sorted(self.changed):
            data = self.records[record_id]
            entry = library.entries_dict.get(data.get("bibkey") or record_id)
            if entry is not None and data.get("authors") and "author" not in entry.fields_dict:
                fields = {f.key.lower(): str(f.value) for f in entry.fields}
                fields["author"] = " and ".join(latex_escape(a) for a in data["authors"])
                updated = format_entry(entry.entry_type.lower(), entry.key, fields)
                text = text.replace(entry.raw, updated, 1)
        additions = [
            bib_entry_for(self.records[i], self.bib_fields[i], self.kb.venues)
            for i in sorted(self.new)
            if (self.records[i].get("bibkey") or i) not in present
        ]
        if additions:
            text = text.rstrip("\n") + ("\n\n" if text.strip() else "") + "\n\n".join(additions) + "\n"
        return text

    def summary(self) -> str:
        counts = {kind: sum(o.kind == kind for o in self.outcomes) for kind in ("added", "merged", "skipped")}
        return ", ".join(f"{n} {kind}" for kind, n in counts.items())


def unified_diff(planned: dict[Path, str | None], display: Callable[[Path], str]) -> str:
    """The change from each file as it is to its planned text (None: the file goes), as a diff."""
    lines: list[str] = []
    for path, text in planned.items():
        before = path.read_text(encoding="utf-8") if path.exists() else ""
        lines += difflib.unified_diff(
            before.splitlines(True), (text or "").splitlines(True), display(path), display(path)
        )
    return "".join(lines)


def _ordered(data: dict[str, Any]) -> dict[str, Any]:
    return {name: data[name] for name in FIELD_ORDER if name in data}
