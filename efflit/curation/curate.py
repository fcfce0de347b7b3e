"""What curators run to grow the knowledge base: import a BibTeX file or a Markdown list, add one
paper, enrich records from arXiv.  Each turns its input into candidates for the importer."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated

import bibtexparser
import yaml
from pydantic import Field, ValidationError

from efflit.curation import arxiv
from efflit.curation.importer import Candidate, Importer, Outcome
from efflit.curation.lists import FORMATS
from efflit.kb.bibtex import decode_latex, split_names
from efflit.kb.link import KnowledgeBase
from efflit.kb.models import Strict, TagPath, Text
from efflit.kb.problems import Position, Problem, Report
from efflit.memory.cache import CACHE
from efflit.pipeline.check import check

ARXIV_CACHE = CACHE / "arxiv.json"
_ARXIV_IN_TEXT = re.compile(
    r"(?:arxiv[:/ ]\s*|arxiv\.org/(?:abs|pdf)/)(?P<id>\d{4}\.\d{4,5}|[a-z-]+(?:\.[A-Z]{2})?/\d{7})", re.I
)
_DOI_URL = re.compile(r"^(?:https?://(?:dx\.)?doi\.org/|doi:)", re.I)


class SectionMap(Strict):
    """A list's section map (`sources/*.yaml`): which headings go to which taxonomy nodes."""

    list_name: Text = Field(alias="list", description="The list, as owner/repository.")
    format: Annotated[str, Field(pattern="^(" + "|".join(FORMATS) + ")$")] = Field(description="Its parser.")
    file: Text = Field(description="The list's file name in the corpus.")
    sections: dict[str, list[TagPath]] = Field(description="Heading text -> taxonomy tags.")


class CurationError(Exception):
    """Bad input to a curation command: reported cleanly, with its position."""

    def __init__(self, report: Report) -> None:
        super().__init__(str(report.problems[0]) if report.problems else "")
        self.report = report


def sound_knowledge_base(root: Path) -> KnowledgeBase:
    """The checked knowledge base; curation tools refuse to write into one with errors."""
    kb, report = check(root)
    if kb is None or report.errors:
        raise CurationError(report)
    return kb


# --- BibTeX -------------------------------------------------------------------------------


def bib_candidates(path: Path, text: str, tags: list[str]) -> Iterator[Candidate | Outcome]:
    """Candidates from a real-world BibTeX file; blocks that do not parse are skipped outcomes."""
    library = bibtexparser.parse_string(text)
    for block in library.failed_blocks:
        yield Outcome("skipped", f"{path.name}:{block.start_line + 1}", "BibTeX block could not be parsed")
    for entry in library.entries:
        fields = {f.key.lower(): str(f.value) for f in entry.fields}
        names = [n for n in split_names(fields.get("author", "")) if n.lower() != "others"]
        year = re.search(r"\d{4}", fields.get("year", ""))
        venue = decode_latex(fields.get("booktitle") or fields.get("journal") or "") or None
        arxiv_id = _arxiv_of(fields)
        if venue and re.search(r"arxiv|corr", venue, re.I):
            venue = "arXiv"
        url = fields.get("url")
        yield Candidate(
            origin=f"{path.name}:{entry.start_line + 1}",
            title=decode_latex(fields.get("title", "")),
            year=int(year.group()) if year else None,
            tags=tags,
            source={"file": path.name},
            authors=[_first_last(decode_latex(n)) for n in names],
            venue=venue,
            arxiv=arxiv_id,
            doi=_DOI_URL.sub("", fields["doi"]) if fields.get("doi") else None,
            url=url if url and not re.search(r"arxiv\.org|doi\.org", url) else None,
            bibkey=entry.key,
            bib_fields={"ENTRYTYPE": entry.entry_type.lower(), **fields},
        )


def _arxiv_of(fields: dict[str, str]) -> str | None:
    if fields.get("eprint") and fields.get("archiveprefix", "").lower() == "arxiv":
        return re.sub(r"v\d+$", "", fields["eprint"].strip())
    for name in ("journal", "url", "note", "howpublished"):
        if match := _ARXIV_IN_TEXT.search(fields.get(name, "")):
            return match["id"]
    return None


def _first_last(name: str) -> str:
    """`Last, First` (BibTeX's form) as `First Last`; `Last, Jr, First` keeps the Jr."""
    parts = [p.strip() for p in name.split(",")]
    if len(parts) == 2:
        return f"{parts[1]} {parts[0]}".strip()
    if len(parts) == 3:
        return f"{parts[2]} {parts[0]} {parts[1]}".strip()
    return name


# --- Markdown lists ----------------------------------------------------------------------


def read_section_map(path: Path) -> SectionMap:
    report = Report()
    try:
        return SectionMap.model_validate(yaml.safe_load(path.read_text(encoding="utf-8")))
    except (OSError, yaml.YAMLError, ValidationError) as error:
        report.error(Position(str(path)), f"cannot use this section map: {error}", "see sources/*.yaml for the form")
        raise CurationError(report) from None


def list_candidates(path: Path, text: str, section_map: SectionMap) -> Iterator[Candidate | Outcome]:
    skipped: Counter[str] = Counter()
    for entry in FORMATS[section_map.format](text):
        tags = section_map.sections.get(entry.section)
        if tags is None:
            skipped[entry.section] += 1
            continue
        yield Candidate(
            origin=f"{path.name}:{entry.line}",
            title=entry.title,
            year=entry.year,
            tags=list(tags),
            source={"list": section_map.list_name, "section": entry.section},
            authors=list(entry.authors),
            venue=entry.venue,
            arxiv=entry.arxiv,
            doi=entry.doi,
            url=entry.url,
            code=entry.code,
        )
    for section, count in sorted(skipped.items()):
        yield Outcome("skipped", path.name, f"{count} entries of section '{section}', which the map leaves out")


# --- arXiv --------------------------------------------------------------------------------


def arxiv_candidate(paper: arxiv.Paper, tags: list[str]) -> Candidate:
    return Candidate(
        origin=f"arXiv:{paper.arxiv}",
        title=paper.title,
        year=paper.year,
        tags=tags,
        source={"api": "arXiv"},
        authors=paper.authors,
        venue="arXiv",
        arxiv=paper.arxiv,
        doi=paper.doi,
    )


# --- operations the CLI calls -----------------------------------------------------------------


def run_import(root: Path, candidates: Iterator[Candidate | Outcome]) -> Importer:
    importer = Importer(sound_knowledge_base(root))
    for item in candidates:
        if isinstance(item, Outcome):
            importer.outcomes.append(item)
        else:
            importer.offer(item)
    importer.commit()
    return importer


def import_bib(root: Path, file: Path, tags: list[str]) -> Importer:
    return run_import(root, bib_candidates(file, _read(file), tags))


def import_list(root: Path, file: Path, map_file: Path) -> Importer:
    return run_import(root, list_candidates(file, _read(file), read_section_map(map_file)))


def _read(file: Path) -> str:
    try:
        return file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        report = Report()
        report.error(Position(str(file)), f"cannot read the file: {error}", "pass a UTF-8 text file")
        raise CurationError(report) from None


def add_paper(root: Path, given: str, tags: list[str], client: arxiv.Client) -> Importer:
    """One paper from a pasted BibTeX entry or an arXiv id (fetched from arXiv's API)."""
    given = given.strip()
    if given.startswith("@"):
        return run_import(root, bib_candidates(Path("pasted.bib"), given, tags))
    arxiv_id = re.sub(r"^(?:arxiv:|https?://arxiv\.org/(?:abs|pdf)/)|v\d+$", "", given, flags=re.I)
    papers = client.papers([arxiv_id])
    if arxiv_id not in papers:
        report = Report()
        report.error(Position("arXiv"), f"arXiv knows no paper '{arxiv_id}'", "check the id, or paste a BibTeX entry")
        raise CurationError(report)
    return run_import(root, iter([arxiv_candidate(papers[arxiv_id], tags)]))


def follow_up(root: Path, added: list[str]) -> tuple[list[Problem], dict[str, list[str]]]:
    """For newly added records: their problems after a full check, and the fields still empty."""
    _, report = check(root)
    paths = {f"papers/{record_id}.yaml" for record_id in added}
    problems = [p for p in report.sorted() if p.position.path in paths]
    worth = ("authors", "venue", "code", "summary")
    missing = {}
    for record_id in added:
        data = yaml.safe_load((root / "papers" / f"{record_id}.yaml").read_text(encoding="utf-8"))
        if empty := [name for name in worth if not data.get(name)]:
            missing[f"papers/{record_id}.yaml"] = empty
    return problems, missing


def enrich(root: Path, client: arxiv.Client, dry_run: bool = False) -> Importer:
    """Fill missing authors and venues of records with an arXiv id from arXiv, never overwriting;
    on a dry run, write nothing."""
    kb = sound_knowledge_base(root)
    wanting = [p.record.arxiv for p in kb.papers if p.record.arxiv and (not p.record.authors or not p.record.venue)]
    papers = client.papers(wanting)
    importer = Importer(kb)
    for arxiv_id in wanting:
        if arxiv_id in papers:
            importer.offer(arxiv_candidate(papers[arxiv_id], []))
        else:
            importer.outcomes.append(Outcome("skipped", f"arXiv:{arxiv_id}", "arXiv returned no entry"))
    if not dry_run:
        importer.commit()
    return importer
