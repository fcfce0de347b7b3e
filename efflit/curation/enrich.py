"""`efflit enrich --source openalex|semanticscholar|crossref|dblp`: what scholarly indexes know.

For each record that is still a preprint (venue `arXiv` or none), has no DOI or has no authors, an
index's answer is read as findings with the API as their source, and applied by the one writer of
records (`efflit.curation.findings`), which also shows them as a diff on a dry run.  OpenAlex is
asked by arXiv id, Semantic Scholar by arXiv id or DOI, Crossref by DOI, all in batches; DBLP by
exact title, one request a second.  What an answer says is taken only when it is about this very
record (the same title, a year not before the record's nor after today's), its venue is one
`venues.yaml` lists and its authors are plain names; whatever else is refused and reported, never
written.  A field a curator set is never overwritten.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable
from pathlib import Path
from typing import Any, NamedTuple, Protocol

from efflit.curation import crossref, dblp, openalex, semanticscholar
from efflit.curation.curate import sound_knowledge_base
from efflit.curation.findings import Applier, Finding
from efflit.curation.importer import Outcome
from efflit.curation.polite import IndexClient
from efflit.kb.bibtex import normalize
from efflit.kb.link import KnowledgeBase
from efflit.kb.models import ApiName, Record
from efflit.memory.cache import CACHE

NOT_A_NAME = set("<>{}\\")  # markup or TeX: no author's name holds these


class Answer(Protocol):
    """What an index says of a paper's published version."""

    title: str
    year: int | None
    doi: str | None
    authors: list[str]
    published_in: list[str]


def _wanting(record: Record) -> bool:
    return _preprint(record) or not record.doi or not record.authors


def openalex_answers(kb: KnowledgeBase, client: openalex.Client) -> dict[str, Answer]:
    wanting = [p.record for p in kb.papers if p.record.arxiv and _wanting(p.record)]
    works = client.by_arxiv([record.arxiv for record in wanting])
    return {record.id: works[record.arxiv] for record in wanting if record.arxiv in works}


def semantic_scholar_answers(kb: KnowledgeBase, client: semanticscholar.Client) -> dict[str, Answer]:
    asked = {
        p.record.id: f"ARXIV:{p.record.arxiv}" if p.record.arxiv else f"DOI:{p.record.doi}"
        for p in kb.papers
        if (p.record.arxiv or p.record.doi) and _wanting(p.record)
    }
    papers = client.papers(list(asked.values()))
    return {record_id: papers[asked_as] for record_id, asked_as in asked.items() if asked_as in papers}


def crossref_answers(kb: KnowledgeBase, client: crossref.Client) -> dict[str, Answer]:
    wanting = [p.record for p in kb.papers if p.record.doi and (_preprint(p.record) or not p.record.authors)]
    works = client.by_doi([record.doi for record in wanting])
    return {record.id: works[record.doi.lower()] for record in wanting if record.doi.lower() in works}


def dblp_answers(kb: KnowledgeBase, client: dblp.Client) -> dict[str, Answer]:
    wanting = [p.record for p in kb.papers if _preprint(p.record)]
    hits = client.published([record.title for record in wanting])
    return {record.id: hits[record.title] for record in wanting if record.title in hits}


def published_versions(
    kb: KnowledgeBase, api: ApiName, answers: dict[str, Answer], today: datetime.date | None = None
) -> tuple[list[Finding], list[tuple[str, str]]]:
    """Findings of ``api``'s answers (by record id), and the answers refused: (record id, why)."""
    today = today or datetime.date.today()
    findings, refused = [], []
    for paper in kb.papers:
        record, answer = paper.record, answers.get(paper.record.id)
        if answer is None:
            continue
        if normalize(answer.title) != normalize(record.title):
            why = f"{api}'s answer is titled '{_shown(answer.title)}', unlike the record"
            refused.append((record.id, why + ": nothing taken"))
            continue
        if not record.doi and answer.doi:
            findings.append(Finding(id=record.id, field="doi", value=answer.doi, api=api))
        if not record.authors and answer.authors:
            if odd := next((name for name in answer.authors if NOT_A_NAME & set(name)), None):
                refused.append((record.id, f"{api} names an author '{_shown(odd)}': no authors taken"))
            else:
                findings.append(Finding(id=record.id, field="authors", value=answer.authors, api=api))
        if _preprint(record) and answer.published_in:
            findings += _venue(kb, api, record, answer, today, refused)
    return findings, refused


def _venue(
    kb: KnowledgeBase,
    api: ApiName,
    record: Record,
    answer: Answer,
    today: datetime.date,
    refused: list[tuple[str, str]],
) -> list[Finding]:
    names = [kb.venues.name_for(venue) for venue in answer.published_in] if kb.venues else []
    name = next((n for n in names if n and n != "arXiv"), None)
    if name is None:
        why = f"published in '{_shown(answer.published_in[0])}', which venues.yaml does not list"
        refused.append((record.id, why + ": add it there, or set the venue by hand"))
        return []
    if answer.year is None or not record.year <= answer.year <= today.year:
        refused.append((record.id, f"{api} gives the year {answer.year} for {name}: not taken"))
        return []
    return [
        Finding(id=record.id, field="venue", value=name, api=api),
        Finding(id=record.id, field="year", value=answer.year, api=api),
    ]


def _preprint(record: Record) -> bool:
    return record.venue in (None, "arXiv")


def _shown(text: str) -> str:
    """An untrusted text as a report may quote it: one line, at most 80 characters."""
    line = " ".join(text.split())
    return line if len(line) <= 80 else line[:79] + "…"


class Index(NamedTuple):
    """A scholarly index `enrich` may ask: its client, and its answers about a knowledge base."""

    client: type[IndexClient]
    answers: Callable[[KnowledgeBase, Any], dict[str, Answer]]


# By the name on the command line; each keeps its answers in `.efflit-cache/<name>.json`.
INDEXES = {
    "openalex": Index(openalex.Client, openalex_answers),
    "semanticscholar": Index(semanticscholar.Client, semantic_scholar_answers),
    "crossref": Index(crossref.Client, crossref_answers),
    "dblp": Index(dblp.Client, dblp_answers),
}


def enrich_from_index(
    root: Path, name: str, endpoint: str, contact: str | None, timeout: float, dry_run: bool = False
) -> Applier:
    """`enrich_from` the index of that name (see `INDEXES`), at ``endpoint``."""
    index = INDEXES[name]
    client = index.client(endpoint, contact=contact, cache=root / CACHE / f"{name}.json", timeout=timeout)
    return enrich_from(root, index.client.name, lambda kb: index.answers(kb, client), dry_run)


def enrich_from(
    root: Path, api: ApiName, ask: Callable[[KnowledgeBase], dict[str, Answer]], dry_run: bool = False
) -> Applier:
    """Apply the findings of ``api`` (``ask``: its answers about a knowledge base) to the knowledge
    base at ``root``; on a dry run, write nothing.  The answers refused are among the outcomes."""
    kb = sound_knowledge_base(root)
    found, refused = published_versions(kb, api, ask(kb))
    applier = Applier(kb)
    applier.outcomes += [Outcome("refused", record_id, why) for record_id, why in refused]
    applier.apply(found)
    if not dry_run:
        applier.commit()
    return applier
