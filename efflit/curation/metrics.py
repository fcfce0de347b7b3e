"""`efflit metrics`: each paper's cited-by count and the papers of the knowledge base it cites
(OpenAlex), and each code repository's stars, last push and archived state (GitHub), into
`data/metrics.json`, stamped with the day.

What an API cannot tell this time keeps the figure the file had, so one API down does not empty
the site's figures.  The new file passes the model the check reads it with before it is written,
atomically; a count is taken only from a work whose title is the record's.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field

from pydantic import ValidationError

from efflit.base.files import write_atomic
from efflit.curation import github, openalex
from efflit.curation.polite import ApiError
from efflit.kb.bibtex import normalize
from efflit.kb.link import KnowledgeBase
from efflit.kb.models import MetricsFile


@dataclass
class Fetched:
    """The figures a run made, and what it could not learn (kept from the last file)."""

    metrics: MetricsFile
    problems: list[str] = field(default_factory=list)


def fetch_metrics(
    kb: KnowledgeBase, scholar: openalex.Client, hub: github.Client, today: datetime.date | None = None
) -> Fetched:
    previous = kb.metrics or MetricsFile(date=today or datetime.date.today())
    problems: list[str] = []
    papers = dict(previous.papers)
    records = {p.record.arxiv: p.record for p in kb.papers if p.record.arxiv}
    try:
        works = scholar.by_arxiv(list(records))
    except ApiError as error:
        problems.append(f"cited-by counts kept from {previous.date}: {error}")
        works = {}
    ours = {  # this very paper's work (its title is the record's), by record id
        records[arxiv_id].id: work
        for arxiv_id, work in works.items()
        if work.cited_by is not None and normalize(work.title) == normalize(records[arxiv_id].title)
    }
    record_of = {work.key: record_id for record_id, work in ours.items() if work.key}
    for record_id, work in ours.items():
        cites = sorted({record_of[key] for key in work.references if key in record_of} - {record_id})
        papers[record_id] = {"cited_by": work.cited_by, "cites": cites}
    code = dict(previous.code)
    for url in sorted({p.record.code for p in kb.papers if p.record.code}):
        if (repository := github.repository_of(url)) is None:
            continue
        try:
            state = hub.repository(*repository)
        except ApiError as error:
            problems.append(f"{url}: kept from {previous.date}: {error}")
            continue
        if state is None:  # gone: `efflit links` reports the link itself
            code.pop(url, None)
        else:
            code[url] = {"stars": state.stars, "pushed": state.pushed, "archived": state.archived}
    known = {p.record.id for p in kb.papers}
    codes = {p.record.code for p in kb.papers}
    data = {
        "date": today or datetime.date.today(),
        "papers": {i: m for i, m in papers.items() if i in known},
        "code": {u: m for u, m in code.items() if u in codes},
    }
    try:
        metrics = MetricsFile.model_validate(data, strict=False)
    except ValidationError as error:  # an answer that slipped through would make a file the site refuses
        raise ApiError(f"the figures do not make a valid metrics file: {error.errors()[0]['msg']}") from None
    return Fetched(metrics, problems)


def write_metrics(kb: KnowledgeBase, metrics: MetricsFile) -> None:
    write_atomic(kb.project.metrics, metrics.model_dump_json(indent=1) + "\n")
