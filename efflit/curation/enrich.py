"""`efflit enrich --source openalex`: where preprints were published, from OpenAlex.

For each record that names an arXiv id and is still a preprint (venue `arXiv` or none) or has no
DOI, OpenAlex's work is read as findings with the API as their source, and applied by the one
writer of records (`efflit.curation.findings`), which also shows them as a diff on a dry run.
What an answer says is taken only when it is about this very record (the same title, a year not
before the record's nor after today's) and its venue is one `venues.yaml` lists; whatever else is
refused and reported, never written.  A field a curator set is never overwritten.
"""

from __future__ import annotations

import datetime
from pathlib import Path

from efflit.curation import openalex
from efflit.curation.curate import sound_knowledge_base
from efflit.curation.findings import Applier, Finding
from efflit.curation.importer import Outcome
from efflit.kb.bibtex import normalize
from efflit.kb.link import KnowledgeBase
from efflit.kb.models import Record
from efflit.memory.cache import CACHE

API = "OpenAlex"
OPENALEX_CACHE = CACHE / "openalex.json"


def published_versions(
    kb: KnowledgeBase, client: openalex.Client, today: datetime.date | None = None
) -> tuple[list[Finding], list[tuple[str, str]]]:
    """Findings of OpenAlex about the knowledge base's preprints, and the answers refused: (record
    id, why)."""
    today = today or datetime.date.today()
    wanting = [p.record for p in kb.papers if p.record.arxiv and (_preprint(p.record) or not p.record.doi)]
    works = client.by_arxiv([record.arxiv for record in wanting])
    findings, refused = [], []
    for record in wanting:
        work = works.get(record.arxiv)
        if work is None:
            continue
        if normalize(work.title) != normalize(record.title):
            why = f"OpenAlex's work for arXiv:{record.arxiv} is titled '{_shown(work.title)}', unlike the record"
            refused.append((record.id, why + ": nothing taken"))
            continue
        if not record.doi and work.doi:
            findings.append(Finding(id=record.id, field="doi", value=work.doi, api=API))
        if _preprint(record) and work.published_in:
            findings += _venue(kb, record, work, today, refused)
    return findings, refused


def _venue(
    kb: KnowledgeBase, record: Record, work: openalex.Work, today: datetime.date, refused: list[tuple[str, str]]
) -> list[Finding]:
    names = [kb.venues.name_for(venue) for venue in work.published_in] if kb.venues else []
    name = next((n for n in names if n and n != "arXiv"), None)
    if name is None:
        why = f"published in '{_shown(work.published_in[0])}', which venues.yaml does not list"
        refused.append((record.id, why + ": add it there, or set the venue by hand"))
        return []
    if work.year is None or not record.year <= work.year <= today.year:
        refused.append((record.id, f"OpenAlex gives the year {work.year} for {name}: not taken"))
        return []
    return [
        Finding(id=record.id, field="venue", value=name, api=API),
        Finding(id=record.id, field="year", value=work.year, api=API),
    ]


def _preprint(record: Record) -> bool:
    return record.venue in (None, "arXiv")


def _shown(text: str) -> str:
    """An untrusted text as a report may quote it: one line, at most 80 characters."""
    line = " ".join(text.split())
    return line if len(line) <= 80 else line[:79] + "…"


def enrich_from_openalex(root: Path, client: openalex.Client, dry_run: bool = False) -> Applier:
    """Apply OpenAlex's findings to the knowledge base at ``root``; on a dry run, write nothing.
    The answers refused are among the outcomes, each with why."""
    kb = sound_knowledge_base(root)
    found, refused = published_versions(kb, client)
    applier = Applier(kb)
    applier.outcomes += [Outcome("refused", record_id, why) for record_id, why in refused]
    applier.apply(found)
    if not dry_run:
        applier.commit()
    return applier
