"""Findings: facts about papers that a curator checked against public pages, kept as data and
applied to the knowledge base in one pass.

A findings file is JSON Lines, one fact a line, each naming the page it was read on:

    {"id": "lin2024awq", "field": "venue", "value": "MLSys", "page": "https://proceedings.mlsys.org/..."}

Curators (or several helpers working in parallel) write such files; `efflit apply` is the one writer
of the records and of `references.bib`.  A fact overwrites the record's field (it was checked on the
page it names, which the record's `source` then lists with the fields it vouches for); the BibTeX
entry is made again from the record; a record whose id was made without an author gets the
conventional id once its authors are known, keeping the old one as an alias; a paper found out of
scope is removed.  A line `{"new": true, ...}` adds a paper with all its facts.
"""

from __future__ import annotations

import datetime
import json
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import bibtexparser
from pydantic import Field, ValidationError

from efflit.base.files import write_atomic
from efflit.curation.curate import CurationError
from efflit.curation.importer import (
    FIELD_ORDER,
    REFERENCES,
    Decisions,
    Outcome,
    bib_entry_for,
    generated_id,
    slug_word,
    unified_diff,
)
from efflit.kb.bibtex import last_name
from efflit.kb.canonical import parse, record_text, schema_url
from efflit.kb.link import KnowledgeBase
from efflit.kb.models import ApiName, Fact, Record, Strict, Text, Url
from efflit.kb.problems import Position, Report
from efflit.kb.quality import is_published
from efflit.pipeline.check import check

# Fields a finding may set, and the findings that are decisions or notes rather than facts.
CURATORS = "efflit curators"  # who vouches for a decision read from the paper but tied to no page
FACT_FIELDS = ("title", "authors", "year", "venue", "arxiv", "doi", "url", "code", "summary", "tags")
NOTES = ("scope", "duplicate", "unresolved")


class Finding(Strict):
    """One checked fact about an existing record, or a decision about it."""

    id: Text = Field(description="The record's id.")
    field: Literal[FACT_FIELDS + NOTES] = Field(description="The record field, or `scope`, `duplicate`, `unresolved`.")
    value: Any = Field(description="The field's value as the record holds it; `out` for `scope`.")
    page: Url | None = Field(None, description="The page about this very paper the fact was read on.")
    evidence: str | None = Field(None, description="The page's words the fact rests on (not published).")
    why: str | None = Field(None, description="The reason for a decision (tags, scope).")
    api: ApiName | None = Field(None, description="The API the fact was read from, if no page.")


class NewPaper(Strict):
    """A paper to add, with every fact checked on ``page``."""

    new: Literal[True]
    title: Text
    authors: list[Text]
    year: int
    venue: Text | None = None
    arxiv: str | None = None
    doi: str | None = None
    url: str | None = None
    code: str | None = None
    tags: list[str]
    page: Url
    pages: dict[Fact, Url] = Field(default_factory=dict, description="Facts read on another page than `page`.")
    summary: str | None = None
    evidence: str | None = None


def read_findings(paths: list[Path]) -> tuple[list[Finding], list[NewPaper]]:
    """Every finding of the files; any line that is not one is reported with its place."""
    report, findings, new = Report(), [], []
    for path in paths:
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if not line.strip():
                continue
            try:
                data = json.loads(line)
                if isinstance(data, dict) and data.get("new") is True:
                    new.append(NewPaper.model_validate(data))
                else:
                    findings.append(Finding.model_validate(data))
            except (ValueError, ValidationError) as error:
                first = str(error).splitlines()[:3]
                report.error(Position(str(path), number), f"not a finding: {' '.join(first)}", "fix or drop the line")
    if report.errors:
        raise CurationError(report)
    return findings, new


@dataclass
class Applier:
    """Apply findings to the records in memory, then ``commit`` them to disk."""

    kb: KnowledgeBase
    today: datetime.date = field(default_factory=datetime.date.today)
    outcomes: list[Outcome] = field(default_factory=list)
    notes: list[Finding] = field(default_factory=list)  # unresolved look-ups, for the curator
    duplicates: list[Finding] = field(default_factory=list)  # merged by `merge`, once the facts are in
    out_of_scope: list[dict[str, str]] = field(default_factory=list)  # papers removed, for later imports
    former_titles: dict[str, str] = field(default_factory=dict)  # titles corrected or merged away -> id
    former_arxiv: dict[str, str] = field(default_factory=dict)  # wrong arXiv ids corrected -> id

    def __post_init__(self) -> None:
        self.papers = self.kb.project.papers
        self.schema = schema_url(self.kb.project.settings)
        self.records = {p.record.id: p.record for p in self.kb.papers}
        self.aliases = {alias: record for record in self.records.values() for alias in record.aliases}
        self.taken = set(self.records) | set(self.aliases)  # ids a new or renamed record may not take
        self.written: dict[str, tuple[str | None, dict]] = {}  # id -> (its old id when renamed, its data)
        self.removed: set[str] = set()

    def apply(self, findings: list[Finding]) -> None:
        by_record: dict[str, list[Finding]] = defaultdict(list)
        for finding in findings:
            by_record[finding.id].append(finding)
        for record_id, found in by_record.items():
            record = self._find(record_id)
            if record is None:
                self.outcomes.append(Outcome("skipped", record_id, "no record has this id"))
                continue
            self._apply(record, found)

    def _find(self, record_id: str) -> Record | None:
        """The record of this id, or of this old id: findings may be made before a rename."""
        return self.records.get(record_id) or self.aliases.get(record_id)

    def _apply(self, record: Record, found: list[Finding]) -> None:
        self.notes += [f for f in found if f.field == "unresolved"]
        self.duplicates += [f for f in found if f.field == "duplicate"]
        if any(f.field == "scope" and f.value == "out" for f in found):
            self.removed.add(record.id)
            why = next(f.why for f in found if f.field == "scope")
            self.out_of_scope.append(
                {"title": record.title, **({"arxiv": record.arxiv} if record.arxiv else {}), "why": why or ""}
            )
            self.outcomes.append(Outcome("removed", record.id, f"out of scope: {why}"))
            return
        facts = [f for f in found if f.field in FACT_FIELDS]
        # A search for a record's missing authors that found no page goes on record, so that the
        # check stops warning about it and the next curator knows where not to look again.
        searched = next((" ".join(str(f.value).split())[:500] for f in found if f.field == "unresolved"), None)
        note_search = bool(searched) and not record.authors and not any(f.field == "authors" for f in facts)
        if not facts and not note_search:
            return
        data = record.model_dump(**_AS_WRITTEN)
        not_found = {fact: why for fact, why in record.not_found.items() if fact not in {f.field for f in facts}}
        if note_search:
            not_found["authors"] = searched
        data.pop("not_found", None)
        if not_found:
            data["not_found"] = not_found
        vouched: dict[tuple[str, str], list[str]] = defaultdict(list)
        # Tags are judged from the abstract: a tags finding without a page of its own rests on the
        # page the summary was read on, or else on the curators' reading of the paper.
        abstract = next((f.page for f in facts if f.field == "summary" and f.page), None)
        for fact in facts:
            data[fact.field] = fact.value
            if fact.field == "venue" and self.kb.venues and (name := self.kb.venues.name_for(fact.value)):
                data["venue"] = name  # as venues.yaml names it
            if page := fact.page or (abstract if fact.field == "tags" else None):
                vouched["page", page].append(fact.field)
            elif fact.api:
                vouched["api", fact.api].append(fact.field)
            elif fact.field == "tags":
                vouched["person", CURATORS].append(fact.field)
        _vouch(data["source"], vouched)
        if unknown := [t for t in data["tags"] if t not in self.kb.taxonomy.nodes]:
            self.outcomes.append(Outcome("skipped", record.id, f"tag '{unknown[0]}' is not a taxonomy node"))
            return
        old_id = None
        if not record.authors and data["authors"] and not _conventional(record.id, data["authors"]):
            old_id, data["id"] = record.id, self._free_id(data)
            data["aliases"] = [*record.aliases, record.id]
        try:
            Record.model_validate({**data, "added": record.added})
        except ValidationError as error:
            detail = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in error.errors())
            self.outcomes.append(Outcome("skipped", record.id, f"the findings make an invalid record: {detail}"))
            return
        if data["title"] != record.title:
            self.former_titles[record.title] = data["id"]
        if record.arxiv and data.get("arxiv") != record.arxiv:
            self.former_arxiv[record.arxiv] = data["id"]
        self.written[data["id"]] = (old_id, data)
        changed = ", ".join(sorted({f.field for f in facts} | ({"not_found"} if note_search else set())))
        renamed = f"; renamed to {data['id']}" if old_id else ""
        self.outcomes.append(Outcome("changed", record.id, f"{changed}{renamed}"))

    def merge(self) -> None:
        """Merge each record found a duplicate into the record its finding names: one record with
        both sources and tags, the facts either had, and the merged record's id as an alias."""
        for finding in self.duplicates:
            gone, kept = self._find(finding.id), self._find(str(finding.value))
            if gone is None or kept is None or gone is kept:
                self.outcomes.append(Outcome("skipped", finding.id, f"cannot merge into '{finding.value}'"))
                continue
            renamed = {old for old, _ in self.written.values() if old}
            if gone.id in self.removed | renamed | set(self.written) or kept.id in self.removed | renamed:
                self.outcomes.append(Outcome("skipped", finding.id, "changed in this run: merge in a run of its own"))
                continue
            # The kept record as this run's facts left it.
            data = self.written[kept.id][1] if kept.id in self.written else kept.model_dump(**_AS_WRITTEN)
            extra = gone.model_dump(**_AS_WRITTEN)
            for name, value in extra.items():
                data.setdefault(name, value)
            if is_published(gone) and not is_published(kept):  # the published version's venue and year
                data.update(venue=gone.venue, year=gone.year)
            data["authors"] = data.get("authors") or gone.authors
            data["tags"] = list(dict.fromkeys([*data["tags"], *gone.tags]))
            data["source"] = [*data["source"], *(s for s in extra["source"] if s not in data["source"])]
            data["aliases"] = list(dict.fromkeys([*kept.aliases, gone.id, *gone.aliases]))
            distinct = [
                i for i in dict.fromkeys([*kept.distinct_from, *gone.distinct_from]) if i not in (kept.id, gone.id)
            ]
            data["distinct_from"] = distinct
            if not distinct:
                del data["distinct_from"]
            self.written[kept.id] = (None, data)
            self.removed.add(gone.id)
            if gone.title != data["title"]:
                self.former_titles[gone.title] = kept.id
            self.outcomes.append(Outcome("merged", gone.id, f"into papers/{kept.id}.yaml"))

    def add(self, papers: list[NewPaper]) -> None:
        known = {r.arxiv for r in self.records.values() if r.arxiv}
        for paper in papers:
            if paper.arxiv and paper.arxiv in known:
                self.outcomes.append(Outcome("skipped", paper.title, f"arXiv {paper.arxiv} is in already"))
                continue
            vouched: dict[tuple[str, str], list[str]] = defaultdict(list)
            for name in FACT_FIELDS:
                if getattr(paper, name):
                    vouched["page", paper.pages.get(name, paper.page)].append(name)
            data = {**paper.model_dump(include=set(FACT_FIELDS), exclude_none=True), "source": [], "added": self.today}
            _vouch(data["source"], vouched)
            data["id"] = self._free_id(data)
            try:
                Record.model_validate(data)
            except ValidationError as error:
                self.outcomes.append(Outcome("skipped", paper.title, f"not a valid record: {error.errors()[0]['msg']}"))
                continue
            if unknown := [t for t in data["tags"] if t not in self.kb.taxonomy.nodes]:
                self.outcomes.append(Outcome("skipped", paper.title, f"tag '{unknown[0]}' is not a taxonomy node"))
                continue
            if paper.arxiv:
                known.add(paper.arxiv)
            self.written[data["id"]] = (None, data)
            self.outcomes.append(Outcome("added", paper.title, f"papers/{data['id']}.yaml"))

    def _free_id(self, data: dict[str, Any]) -> str:
        base = generated_id(data["authors"], data["year"], data["title"])
        for suffix in ["", *"bcdefghijklmnopqrstuvwxyz"]:
            if base + suffix not in self.taken:
                self.taken.add(base + suffix)
                return base + suffix
        raise ValueError(f"no free id for {base}")

    def planned(self) -> dict[Path, str | None]:
        """Every file the findings change, with its new text, or None where it goes: references.bib
        first, then the records; then the files of renamed and removed records (an interrupted run
        leaves both names, which the check reports)."""
        files: dict[Path, str | None] = {self.papers / REFERENCES: self._bibtex_text()}
        for record_id, (old_id, data) in sorted(self.written.items()):
            source = self.papers / f"{old_id or record_id}.yaml"
            document = parse(source.read_text(encoding="utf-8")) if source.exists() else {}
            for name in list(document):
                if name not in data and name != "added":
                    del document[name]  # fields the findings emptied
            for name in FIELD_ORDER:
                if name in data and not (name == "added" and name in document):  # a date, kept as written
                    document[name] = data[name]
            files[self.papers / f"{record_id}.yaml"] = record_text(document, self.schema)
        for record_id in sorted(self.removed | {old for old, _ in self.written.values() if old}):
            files[self.papers / f"{record_id}.yaml"] = None
        return files

    def commit(self) -> None:
        """Write what `planned` says, then the curators' decisions for later imports."""
        for path, text in self.planned().items():
            if text is None:
                path.unlink(missing_ok=True)
            else:
                write_atomic(path, text)
        if self.out_of_scope or self.former_titles or self.former_arxiv:
            decisions = Decisions.read(self.kb.project.root)
            decisions.out_of_scope += self.out_of_scope
            decisions.former_titles |= self.former_titles
            decisions.former_arxiv |= self.former_arxiv
            decisions.save(self.kb.project.root)

    def diff(self) -> str:
        """What `commit` would change, as a unified diff; nothing is written."""
        return unified_diff(self.planned(), self.kb.project.display)

    def _bibtex_text(self) -> str:
        """references.bib as the findings leave it."""
        path = self.papers / REFERENCES
        text = path.read_text(encoding="utf-8")
        entries = bibtexparser.parse_string(text).entries_dict
        for record_id in sorted(self.removed):
            if (entry := entries.get(self.records[record_id].key)) is not None:
                text = text.replace(entry.raw + "\n\n", "", 1).replace(entry.raw, "", 1)
        additions = []
        for record_id, (old_id, data) in sorted(self.written.items()):
            made = bib_entry_for({**data, "bibkey": data.get("bibkey")}, None, self.kb.venues)
            old = self.records.get(old_id or record_id)
            entry = entries.get(old.key) if old else None
            if entry is not None:
                text = text.replace(entry.raw, made, 1)
            else:
                additions.append(made)
        if additions:
            text = text.rstrip("\n") + "\n\n" + "\n\n".join(additions) + "\n"
        return text

    def summary(self) -> str:
        kinds = ("changed", "added", "merged", "removed", "skipped")
        counts = {kind: sum(o.kind == kind for o in self.outcomes) for kind in kinds}
        renamed = sum(1 for old, _ in self.written.values() if old)
        return ", ".join(f"{n} {kind}" for kind, n in counts.items()) + f" ({renamed} renamed)"


def _vouch(sources: list[dict], vouched: dict[tuple[str, str], list[str]]) -> None:
    """Name in ``sources`` what each origin (`("page", url)`, `("person", name)`) vouches for: its
    fields join the `facts` of the source that names it, or of a new source."""
    for (kind, origin), fields in vouched.items():
        named = next((source for source in sources if source.get(kind) == origin), None)
        if named is None:
            sources.append(named := {kind: origin})
        named["facts"] = sorted({*named.get("facts", ()), *fields}, key=Fact.__args__.index)


# A record's fields as its file holds them; authors are required even when empty.
_AS_WRITTEN = {"mode": "json", "exclude_none": True, "exclude_defaults": True}


def _conventional(record_id: str, authors: list[str]) -> bool:
    """Whether an id starts with the first author's family name, as generated ids do."""
    return record_id.startswith(slug_word(last_name(authors[0])) or "\0")


def apply_findings(root: Path, files: list[Path]) -> Applier:
    """Apply the findings files to the knowledge base at ``root`` (which must check clean)."""
    findings, new = read_findings(files)
    kb, report = check(root)
    if kb is None:  # findings may mend what the check finds between records (a duplicate), not a broken file
        raise CurationError(report)
    applier = Applier(kb)
    applier.apply(findings)
    applier.add(new)
    applier.merge()
    applier.commit()
    return applier
