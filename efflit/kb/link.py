"""Link stage: check what no single file can: tags against the taxonomy, records against
their BibTeX entries, and records against each other."""

from __future__ import annotations

import dataclasses
import difflib
import hashlib
import unicodedata
from collections import defaultdict
from collections.abc import Callable
from functools import partial
from typing import Any, TypeVar
from urllib.parse import urlsplit

from rapidfuzz import fuzz

from efflit.base.forks import cores, side_by_side
from efflit.kb.bibtex import BibEntry, LatexTooDeep, last_name, normalize, split_names
from efflit.kb.bibtex import bib_year as bib_year_of
from efflit.kb.models import LINK_FIELDS, MetricsFile, Record, tag_paths
from efflit.kb.problems import Problem, Report
from efflit.kb.project import Project
from efflit.kb.validate import Paper, Taxonomy
from efflit.kb.venues import Venues

NEAR_DUPLICATE_SCORE = 90
NEIGHBOURS = 4  # titles compared on each side of a title, in each ordering
R = TypeVar("R")
PARALLEL_FROM = 2000  # records: below this, forking costs more than it saves
# Where a record and its entry disagree: (record field, record's value, entry's value, entry
# field); the record field is "" when the entry field is nested too deeply to decode.
Disagreement = tuple[str, str, str, str]
Compared = dict[tuple[str, ...], tuple[Disagreement, ...]]  # what `_compare` reads -> `disagreements`


@dataclasses.dataclass
class KnowledgeBase:
    """What the link stage hands on, everything a render needs: the checked taxonomy, papers and
    their BibTeX entries, the venues of `venues.yaml` and the figures of `data/metrics.json` (None
    without them)."""

    project: Project
    taxonomy: Taxonomy
    papers: list[Paper]
    bibtex: dict[str, BibEntry]
    venues: Venues | None = None
    metrics: MetricsFile | None = None


@dataclasses.dataclass
class LinkFindings:
    """What a link found, kept for the next run (with the same code and libraries) so that it does
    not compare unchanged inputs again.  Findings hold no positions: those are looked up when a
    finding is reported, so they follow edits that move lines."""

    compared: Compared = dataclasses.field(default_factory=dict)
    titles: str = ""  # a hash of every title, in order
    near: list[tuple[int, int]] = dataclasses.field(default_factory=list)  # the near-duplicates among them


def linked_fields(record: Record) -> tuple:
    """What the cross-record checks read of a record: where these are unchanged in every record,
    they find what they found before (only the places they name may differ)."""
    return (
        *(record.id, record.key, record.title, record.year, record.authors, record.tags, record.arxiv, record.doi),
        record.venue,
        *(record.aliases, record.distinct_from),
    )


def link(
    taxonomy: Taxonomy,
    papers: list[Paper],
    entries: list[BibEntry],
    report: Report,
    known: LinkFindings | None = None,
    venues: Venues | None = None,
) -> dict[str, BibEntry]:
    """Run every cross-file check; return each record's BibTeX entry by record id.  What ``known``
    holds (from the last run) is not worked out again; afterwards it holds this run's findings.
    ``venues``: those of `venues.yaml`, when the knowledge base has one."""
    known = LinkFindings() if known is None else known
    check_tags(taxonomy, papers, report)
    if venues is not None:
        check_venues(venues, papers, report)
    check_coverage(taxonomy, papers, report)
    check_unique(papers, report)
    check_references(papers, report)
    check_hosts(papers, report)
    check_incomplete(papers, report)
    titles = [p.record.title for p in papers]
    titles_key = hashlib.blake2b("\0".join(titles).encode(), digest_size=16).hexdigest()
    calls = [partial(_reported, link_bibtex, papers, entries, known)]  # in this process: it updates ``known``
    if titles_key != known.titles:
        calls.append(partial(near_duplicates, titles))
    # The two costly checks need nothing of each other: with many records, they run side by side.
    parallel = len(calls) > 1 and len(papers) >= PARALLEL_FROM and cores() > 1
    done = side_by_side(*calls) if parallel else [call() for call in calls]
    bib, problems = done[0]
    if len(done) > 1:
        known.titles, known.near = titles_key, done[1]
    report.problems += problems
    report_near_duplicates(papers, known.near, report)
    return bib


def _reported(check: Callable[..., R], *args: Any) -> tuple[R, list[Problem]]:
    """What ``check(*args, report)`` returns, and the problems it reports."""
    own = Report()
    return check(*args, own), own.problems


def check_tags(taxonomy: Taxonomy, papers: list[Paper], report: Report) -> None:
    paths = list(taxonomy.nodes)
    by_slug = defaultdict(list)
    for path in paths:
        by_slug[path.rsplit("/", 1)[-1]].append(path)
    for paper in papers:
        for index, tag in enumerate(paper.record.tags):
            if tag in taxonomy.nodes:
                continue
            guesses = by_slug.get(tag.rsplit("/", 1)[-1]) or difflib.get_close_matches(tag, paths, n=1, cutoff=0.6)
            hint = (
                f"did you mean '{guesses[0]}'?"
                if guesses
                else "use a path from taxonomy.yaml, such as inference/quantization"
            )
            report.error(paper.document.position(("tags", index)), f"tag '{tag}' is not a taxonomy node", hint)


def check_coverage(taxonomy: Taxonomy, papers: list[Paper], report: Report) -> None:
    used = {tag for paper in papers for tag in paper.record.tags}
    covered = {path for tag in used for path in tag_paths(tag)}
    for node in taxonomy.nodes.values():
        if node.path not in covered:
            report.warning(
                taxonomy.document.position(node.loc + ("slug",)),
                f"taxonomy node '{node.path}' has no papers",
                "tag a paper with it, or remove the node",
            )


def link_bibtex(
    papers: list[Paper], entries: list[BibEntry], known: LinkFindings, report: Report
) -> dict[str, BibEntry]:
    """Each record's entry, by the record's key.  The comparisons ``known`` holds are not made again;
    afterwards it holds this run's, and no others."""
    by_key: dict[str, BibEntry] = {}
    by_folded: dict[str, BibEntry] = {}
    for entry in entries:
        first = by_folded.get(entry.key.casefold())
        if first is not None:
            same = "" if first.key == entry.key else f" (BibTeX ignores case: '{first.key}')"
            report.error(
                entry.position,
                f"BibTeX key '{entry.key}' is also defined at {first.position}{same}",
                "keep one entry per key",
            )
        by_folded.setdefault(entry.key.casefold(), entry)
        by_key.setdefault(entry.key, entry)

    cited = set()  # keys that entries inherit from: no record needs them
    for entry in entries:
        if not (target := entry.fields.get("crossref")):
            continue
        if (parent := by_folded.get(target.casefold())) is None:
            report.error(
                entry.field_position("crossref"),
                f"crossref '{target}' names no BibTeX entry",
                "add it, or remove the crossref",
            )
            continue
        cited.add(parent.key)
        if by_key.get(entry.key) is entry:
            by_key[entry.key] = inherited(entry, parent)

    linked: dict[str, BibEntry] = {}
    previous, known.compared = known.compared, {}
    for paper in papers:
        record = paper.record
        entry = by_key.get(record.key)
        if entry is None:
            key_place = paper.document.position(("bibkey",) if record.bibkey else ("id",))
            close = difflib.get_close_matches(record.key, list(by_key), n=1)
            hint = (
                f"did you mean '{close[0]}'?"
                if close
                else f"add an entry @article{{{record.key}, ...}} to papers/references.bib"
            )
            report.error(key_place, f"no BibTeX entry with key '{record.key}' in papers/*.bib", hint)
            continue
        linked[record.id] = entry
        _compare(paper, entry, previous, known.compared, report)
    used = {entry.key for entry in linked.values()} | cited
    for entry in by_key.values():
        if entry.key not in used:
            report.warning(
                entry.position, f"BibTeX entry '{entry.key}' belongs to no record", "remove it, or add its record"
            )
    return linked


def inherited(entry: BibEntry, parent: BibEntry) -> BibEntry:
    """The entry with the fields it lacks taken from the entry its `crossref` names, as BibTeX takes
    them: exports then hold the whole reference, without a key they may not carry."""
    fields = {**parent.fields, **entry.fields}
    del fields["crossref"]
    fields.pop("key", None)
    return BibEntry(entry.key, entry.entry_type, fields, entry.position, entry.field_lines)


def _compare(paper: Paper, entry: BibEntry, previous: Compared, compared: Compared, report: Report) -> None:
    """Report where the record and its entry disagree; ``previous`` holds outcomes known already,
    ``compared`` gains this one."""
    record, document = paper.record, paper.document
    fields = (entry.fields.get(name, "") for name in ("title", "year", "author"))
    inputs = (record.title, str(record.year), record.authors[0] if record.authors else "", *fields)
    found = previous.get(inputs)
    compared[inputs] = found = disagreements(*inputs) if found is None else found
    for field_name, ours, theirs, bib_field in found:
        if not field_name:
            report.error(
                entry.field_position(bib_field),
                f"field '{bib_field}' of BibTeX entry '{entry.key}' is nested too deeply to decode",
                "remove the extra braces",
            )
            continue
        report.error(
            document.position((field_name, 0) if field_name == "authors" else (field_name,)),
            f"{field_name} differs from BibTeX entry '{entry.key}' at {entry.field_position(bib_field)}: "
            f"record has '{ours}', BibTeX has '{theirs}'",
            "make the record and the BibTeX entry agree",
        )


def disagreements(
    title: str, year: str, first_author: str, bib_title: str, bib_year: str, bib_author: str
) -> tuple[Disagreement, ...]:
    """Where a record's title, year and first author disagree with its entry's fields."""
    found: list[Disagreement] = []

    def decoded(bib_field: str, value: str) -> str | None:
        try:
            return normalize(value)
        except LatexTooDeep:
            found.append(("", "", "", bib_field))
            return None

    # Most entries hold the record's title with protective braces: then they agree, and the
    # costlier comparison of decoded, folded texts is spared (a tenth of a second at 10,000).
    braced_same = (
        "\\" not in bib_title and "$" not in bib_title and bib_title.replace("{", "").replace("}", "") == title
    )
    if not braced_same and (theirs := decoded("title", bib_title)) is not None and theirs != normalize(title):
        found.append(("title", title, bib_title, "title"))
    if bib_year_of(bib_year) != year:
        found.append(("year", year, bib_year.strip(), "year"))
    names = split_names(bib_author)
    if first_author and not names:
        found.append(("authors", first_author, "no author", "author"))
    elif names and not first_author:
        found.append(("authors", "no authors", names[0], "author"))
    elif names and (theirs := decoded("author", last_name(names[0]))) is not None:
        # A family name of punctuation alone normalises to nothing: then the names must be the same.
        if not normalize(first_author).endswith(theirs) if theirs else first_author != names[0].strip():
            found.append(("authors", first_author, names[0], "author"))
    return tuple(found)


def check_unique(papers: list[Paper], report: Report) -> None:
    """Ids, arXiv ids and DOIs name one paper each: the later record is the one reported."""
    for field, key in (("id", str), ("arxiv", str), ("doi", str.casefold)):
        first: dict[str, Paper] = {}
        for paper in papers:
            value = getattr(paper.record, field)
            if value is None:
                continue
            if (seen := first.setdefault(key(value), paper)) is not paper:
                report.error(
                    paper.document.position((field,)),
                    f"{field} '{value}' is also used by {seen.document.position((field,))}",
                    "one record per paper: merge the two records",
                )


def check_references(papers: list[Paper], report: Report) -> None:
    """An alias is no other record's id or alias; `distinct_from` names records that exist."""
    ids = {paper.record.id: paper for paper in papers}
    aliased: dict[str, Paper] = {}
    for paper in papers:
        for index, alias in enumerate(paper.record.aliases):
            place = paper.document.position(("aliases", index))
            if (other := ids.get(alias) or aliased.get(alias)) is not None:
                report.error(
                    place,
                    f"alias '{alias}' is also {'the id' if alias in ids else 'an alias'} of "
                    f"{other.document.position(('id',))}",
                    "an old address can lead to one record only: remove one of them",
                )
            aliased.setdefault(alias, paper)
        for index, other_id in enumerate(paper.record.distinct_from):
            if other_id not in ids or other_id == paper.record.id:
                report.error(
                    paper.document.position(("distinct_from", index)),
                    f"distinct_from names '{other_id}', which is "
                    + ("this record itself" if other_id == paper.record.id else "no record's id"),
                    "name the id of the other record whose title is nearly the same",
                )


def check_hosts(papers: list[Paper], report: Report) -> None:
    """Warn about a link whose host is not what it looks like (`аrxiv.org` with a Cyrillic `а`), as
    browsers do by showing such a host in its punycode form."""
    for paper in papers:
        for name in LINK_FIELDS:
            url = getattr(paper.record, name)
            if url is None or url.isascii():
                continue
            host = urlsplit(url).hostname or ""
            if (scripts := look_alike(host)) is not None:
                report.warning(
                    paper.document.position((name,)),
                    f"the host '{host}' is written in {' and '.join(scripts)} letters: browsers show it as "
                    f"'{host.encode('idna').decode('ascii')}'",
                    "check that the link leads where it seems to; write the host in plain letters",
                )


def look_alike(host: str) -> list[str] | None:
    """The scripts of a host name's letters when it could pass for another: a label that mixes a
    script whose letters copy Latin ones with another, or such letters under a Latin top-level domain."""
    labels = [label for label in host.split(".") if label]
    scripts_of = [{_script(char) for char in label if char.isalpha()} for label in labels]
    found = set().union(*scripts_of) if scripts_of else set()
    mixed = any(scripts & LATIN_LOOK_ALIKES and len(scripts) > 1 for scripts in scripts_of)
    copies_latin = bool(found & LATIN_LOOK_ALIKES) and labels[-1].isascii()
    return sorted(found) if mixed or copies_latin else None


LATIN_LOOK_ALIKES = {"Cyrillic", "Greek", "Armenian", "Cherokee"}


def _script(char: str) -> str:
    """The script of a letter, from its Unicode name (`CYRILLIC SMALL LETTER A` is Cyrillic)."""
    return unicodedata.name(char, "UNKNOWN").split()[0].capitalize()


def near_duplicates(titles: list[str]) -> list[tuple[int, int]]:
    """The pairs of titles (by place, the earlier first) that are nearly the same.  Comparing all
    pairs would be quadratic, so a title is compared only with its neighbours in two orderings, by
    its words from the start and from the end: a near-duplicate differs in a word or two, which
    leaves one end alike and puts the two titles side by side in one of the orders."""
    keys = [normalize(title) for title in titles]
    pairs = set()
    for ordered_by in (keys, [key[::-1] for key in keys]):
        order = sorted(range(len(ordered_by)), key=ordered_by.__getitem__)
        for step in range(1, NEIGHBOURS + 1):
            pairs.update((a, b) if a < b else (b, a) for a, b in zip(order, order[step:], strict=False))
    # Tens of thousands of pairs and next to no near-duplicates: the cutoff lets a score stop early.
    return sorted((a, b) for a, b in pairs if fuzz.ratio(keys[a], keys[b], score_cutoff=NEAR_DUPLICATE_SCORE))


def report_near_duplicates(papers: list[Paper], pairs: list[tuple[int, int]], report: Report) -> None:
    """Warn about each pair of `near_duplicates`, at the later record."""
    for a, b in pairs:
        first, second = papers[a], papers[b]
        if first.record.arxiv and first.record.arxiv == second.record.arxiv:
            continue  # already an error
        if first.record.id in second.record.distinct_from or second.record.id in first.record.distinct_from:
            continue  # a curator decided they are two papers
        report.warning(
            second.document.position(("title",)),
            f"title is nearly the same as {first.document.position(('title',))}",
            "if both records are the same paper, merge them; if not, add `distinct_from: "
            f"[{first.record.id}]` to this record",
        )


def check_venues(venues: Venues, papers: list[Paper], report: Report) -> None:
    """Warn at each record whose venue is another spelling of a venue of `venues.yaml`."""
    for paper in papers:
        written = paper.record.venue
        if not written or written in venues.by_name:
            continue
        if (name := venues.name_for(written)) is not None:
            report.warning(
                paper.document.position(("venue",)),
                f"venue '{written}' is another spelling of '{name}' in venues.yaml",
                f"write venue: {name}",
            )


def check_incomplete(papers: list[Paper], report: Report) -> None:
    """Warn once about the records that list no authors, but not those whose search is on record."""
    incomplete = [p for p in papers if p.record.incomplete and "authors" not in p.record.not_found]
    if incomplete:
        report.warning(
            incomplete[0].document.position(("authors",)),
            "1 record lists no authors and is marked incomplete"
            if len(incomplete) == 1
            else f"{len(incomplete)} records list no authors and are marked incomplete "
            f"(this one and {len(incomplete) - 1} more)",
            "add the authors from the paper itself, or say in `not_found` where you searched for them",
        )
