"""Markdown paper lists: one parser per format of the lists our corpus comes from.

Each parser turns a list's text into entries carrying only the facts the list
gives, with the line they stand on and the heading they are listed under; the
importer maps headings to taxonomy nodes with a section map (`sources/*.yaml`).
"""

from __future__ import annotations

import html
import re
import unicodedata
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from urllib.parse import unquote


@dataclass(frozen=True)
class ListEntry:
    """One paper as a list gives it. Nothing here is guessed: a fact the list lacks is None or empty."""

    line: int  # 1-based line of the entry in the list file
    section: str  # text of the innermost heading above the entry, without '#', emoji or link syntax
    title: str  # as published, without trailing period or Markdown emphasis
    authors: list[str] = field(default_factory=list)  # "First Last"; empty when not given (or elided)
    year: int | None = None
    venue: str | None = None  # without the year; "arXiv" for preprints
    arxiv: str | None = None  # bare id without version
    doi: str | None = None
    url: str | None = None  # paper link (http/https) when it is neither arXiv nor doi.org
    code: str | None = None  # code repository link (http/https)


Parser = Callable[[str], Iterator[ListEntry]]
FORMATS: dict[str, Parser] = {}


# --- shared helpers -------------------------------------------------------------------------

_HEADING = re.compile(r"^ {0,3}#{1,6}\s+(?P<text>.*?)\s*$")
_BULLET = re.compile(r"^\s*(?:[-*+]|\d+\.)\s+")
# A Markdown link; its text may hold one level of brackets ("[[Paper]](url)") and its target may
# span lines (alon-albalak breaks a few), so the target is checked later, not here.
_LINK = re.compile(r"\[(?P<text>(?:[^\[\]]|\[[^\[\]]*\])*)\]\((?P<url>[^()]*)\)")
_IMAGE = re.compile(r"!\[[^\]]*\]\([^)]*\)")
_CODE_LABEL = re.compile(r"^co?des?\d*\b", re.I)  # Code, Codes, Code1, "Code (Marlin)", and one "Cde"
_WEB_LINK = re.compile(r"https?://[^\s<>\"]+")
_ARXIV_LINK = re.compile(
    r"^https?://(?:[\w-]+\.)?arxiv\.org/(?:abs|pdf|html)/"
    r"(?P<id>\d{4}\.\d{4,5}|[a-z-]+(?:\.[A-Z]{2})?/\d{7})(?:v\d*)?(?:\.pdf)?/?(?:[?#].*)?$"
)
_DOI_LINK = re.compile(r"^https?://(?:dx\.)?doi\.org/(?P<doi>10\..+)$")
_YEAR = re.compile(r"(?<!\d)(?:19|20)\d{2}(?!\d)")
# Markers of a shortened author list: "... 52 hidden ...", "et al.", "etc.", "and others".
_ELIDED = re.compile(r"\.\.\.|…|\bhidden\b|\bet al\b|\betc\b|\bothers\b|additional authors", re.I)


def _lines(text: str, start: str | None = None, stop: str | None = None) -> Iterator[tuple[int, str, str]]:
    """(line number, section, line) for each line that is not a heading, from the heading `start` (or
    the first heading) up to the heading `stop`; section is the innermost heading above the line."""
    section = None
    # split on "\n" only: splitlines() also breaks at Unicode separators, which would shift line numbers
    for number, line in enumerate(text.split("\n"), start=1):
        if heading := _HEADING.match(line):
            title = _heading_text(heading["text"])
            if title == stop:
                return
            if section is not None or start is None or title == start:
                section = title
        elif section is not None:
            yield number, section, line


def _items(lines: Iterator[tuple[int, str, str]]) -> Iterator[tuple[int, str, str]]:
    """(line number, section, text) for each bullet or numbered item, its marker removed and its indented
    continuation lines appended; blank lines inside an item are allowed (HuangOwen puts one before
    the venue line of a few entries), any other line ends it."""
    start, section, parts = 0, "", []
    for number, line_section, line in lines:
        if bullet := _BULLET.match(line):
            if parts:
                yield start, section, "\n".join(parts)
            start, section, parts = number, line_section, [line[bullet.end() :]]
        elif parts and line[:1].isspace() and line.strip() and line_section == section:
            parts.append(line.strip())
        elif line.strip() and parts:
            yield start, section, "\n".join(parts)
            parts = []
    if parts:
        yield start, section, "\n".join(parts)


def _heading_text(raw: str) -> str:
    """A heading without images, link syntax (a link keeps its text), HTML tags, Markdown escapes or emoji."""
    text = re.sub(r"<[^>]*>", "", _LINK.sub(lambda link: link["text"], _IMAGE.sub("", raw)))
    return _clean("".join(ch for ch in text if not _is_emoji(ch)))


def _is_emoji(ch: str) -> bool:
    # symbols, joiners and variation selectors: "🧑‍💻" is two symbols joined by U+200D, "⚡️" ends with U+FE0F
    return unicodedata.category(ch) in ("So", "Cf") or "\ufe00" <= ch <= "\ufe0f"


def _clean(text: str) -> str:
    """Text as it reads: HTML entities decoded, bold markers and Markdown escapes ("A\\*") removed,
    whitespace collapsed."""
    text = re.sub(r"\\([^\w\s])", r"\1", html.unescape(text).replace("**", ""))
    return " ".join(text.split())


def _links(text: str) -> list[tuple[str, str]]:
    """(label, target) of each link, the label without the brackets some lists wrap it in."""
    return [(link["text"].strip("[] "), link["url"].strip()) for link in _LINK.finditer(text)]


def _paper_and_code(links: list[tuple[str, str]]) -> tuple[str | None, str | None]:
    """The paper link (labelled "Paper", else the first link that is not code) and the code link."""
    code = next((url for label, url in links if _CODE_LABEL.match(label)), None)
    others = [(label, url) for label, url in links if not _CODE_LABEL.match(label)]
    paper = next((url for label, url in others if label.lower() == "paper"), None)
    return paper or next((url for _, url in others), None), code


def _web_link(url: str | None) -> str | None:
    """The link if it is a well-formed http(s) URL: not "None", no spaces, not two URLs run together."""
    if url and _WEB_LINK.fullmatch(url) and url.count("://") == 1:
        return url
    return None


def _identifiers(paper_link: str | None) -> dict[str, str]:
    """The paper link as ListEntry fields: an arXiv id, else a DOI, else the URL itself."""
    url = _web_link(paper_link)
    if url is None:
        return {}
    if arxiv := _ARXIV_LINK.match(url):
        return {"arxiv": arxiv["id"]}
    if doi := _DOI_LINK.match(url):
        return {"doi": unquote(doi["doi"])}
    return {"url": url}


def _venue_and_year(text: str) -> tuple[str | None, int | None]:
    """Split "Arxiv 2024." or "ICLR, 2024" into venue ("arXiv", "ICLR") and year; None for what is missing."""
    years = _YEAR.findall(text)
    venue = _clean(_YEAR.sub(" ", text).replace("[", "").replace("]", "")).strip(" .,;:")
    if venue.lower() == "arxiv":
        venue = "arXiv"
    return venue or None, int(years[0]) if years else None


def _author_list(text: str, separator: str) -> list[str]:
    """Names in order as "First Last"; [] when the list is elided, since a partial list must not look complete."""
    text = _clean(text)
    if _ELIDED.search(text):
        return []
    return [_first_last(name) for name in re.split(separator, text) if name.strip()]


def _alon_separator(names: str) -> str:
    """alon-albalak joins names with "and" ("Last, First and ..."), except in a few entries that
    list "First Last, First Last": commas between parts of two or more words each."""
    parts = names.split(",")
    if " and " not in names and len(parts) > 1 and all(len(p.split()) >= 2 for p in parts):
        return r",\s*"
    return r"\s+and\s+"


def _first_last(name: str) -> str:
    last, comma, first = name.partition(",")
    return f"{first.strip()} {last.strip()}" if comma else name.strip()


def _entry(
    line: int,
    section: str,
    title: str,
    paper_link: str | None,
    *,
    venue_text: str = "",
    year: int | None = None,
    authors: list[str] | None = None,
    code: str | None = None,
) -> ListEntry | None:
    """The entry, or None when it has no title. A year given apart from the venue takes precedence;
    a "code" link that repeats the paper link (a copy slip in two lists) is no code link."""
    title = _clean(title)
    if not title:
        return None
    venue, venue_year = _venue_and_year(venue_text)
    return ListEntry(
        line=line,
        section=section,
        title=title,
        authors=authors or [],
        year=year or venue_year,
        venue=venue,
        code=_web_link(code) if code != paper_link else None,
        **_identifiers(paper_link),
    )


# --- one parser per list format -------------------------------------------------------------

# Xnhyacinth: `N. [**Title.**](url) _Author1, Author2._ Venue Year. [![stars](shields badge)](code)`.
# The author list ends with "._" or "_" before a space (one name has an inner underscore: "Hana_Byul").
_XNH_AUTHORS = re.compile(r"\s*_?(?P<names>.*?)\.?_(?=\s|$)")
_STAR_BADGE = re.compile(r"\[!\[[^\]]*\]\(https://img\.shields\.io/github/stars/[^)]*\)\]\((?P<url>[^)]*)\)")


def parse_xnhyacinth(text: str) -> Iterator[ListEntry]:
    # the news block above "📜 Papers" repeats later entries in another format
    for line, section, item in _items(_lines(text, start="Papers")):
        title_link = _LINK.match(item)
        if not title_link:
            continue
        badge = _STAR_BADGE.search(item)
        rest = _LINK.sub("", _IMAGE.sub("", item[title_link.end() :]))
        authors = _XNH_AUTHORS.match(rest)
        entry = _entry(
            line,
            section,
            title_link["text"].replace("**", "").strip().removesuffix("."),  # the list ends titles with "."
            title_link["url"].strip(),
            venue_text=rest[authors.end() :] if authors else rest,
            authors=_author_list(authors["names"], r",\s*") if authors else [],
            code=badge["url"] if badge else None,
        )
        if entry:
            yield entry


def parse_huangowen(text: str) -> Iterator[ListEntry]:
    """`- Title <br> Venue Year [[Paper]](url) [[Code]](url)`; a few entries put the venue line below the title."""
    # the Tools section below the papers lists software, not papers
    for line, section, item in _items(_lines(text, start="Papers", stop="Tools")):
        title, _, rest = item.replace("<br>", "\n", 1).partition("\n")
        paper, code = _paper_and_code(_links(rest))
        # the venue precedes the links; a malformed "[[Blog]] (url)" is no link and so is ignored
        entry = _entry(line, section, title, paper, venue_text=rest.partition("[")[0], code=code)
        if entry:
            yield entry


# AIoT: `Title, <ins>Venue, Year</ins> [[Paper](url)] [[Code](url)]`; a few entries lack "<ins>"
# (`Title, 2024</ins>`) or spell the end "/ins>".
_AIOT_VENUE = re.compile(r",?\s*(?:<ins>(?P<venue>[^<>]*)|(?P<year_only>[^<>,]*))<?/ins>")


def parse_aiot(text: str) -> Iterator[ListEntry]:
    for line, section, item in _items(_lines(text, start="Model-Centric Methods")):
        venue = _AIOT_VENUE.search(item)
        if not venue:
            continue
        paper, code = _paper_and_code(_links(item[venue.end() :]))
        entry = _entry(
            line, section, item[: venue.start()], paper, venue_text=venue["venue"] or venue["year_only"], code=code
        )
        if entry:
            yield entry


def parse_tiingweii(text: str) -> Iterator[ListEntry]:
    """Table rows `| year | keywords | [Title](url) | venue |`."""
    for line, section, row in _lines(text):
        cells = [cell.strip() for cell in row.strip().strip("|").split("|")]
        # the metrics and benchmark tables have no year column
        if len(cells) != 4 or not re.fullmatch(r"\d{4}", cells[0]):
            continue
        title_link = _LINK.search(cells[2])
        if not title_link:
            continue
        url = title_link["url"].strip()
        # rows linking only to a GitHub repository are software (xFormers, FasterTransformer, FairScale)
        if re.match(r"https?://github\.com/", url):
            continue
        entry = _entry(line, section, title_link["text"], url, venue_text=cells[3], year=int(cells[0]))
        if entry:
            yield entry


# alon-albalak: `- [Title](url): YEAR<br/>&emsp;Authors<br/>`, authors "Last, First and ..." or "First Last and ...".
_ALON_REST = re.compile(r":\s*(?P<year>\d{4})?\s*<br/>(?P<authors>.*?)(?:<br/>)?\s*$", re.S)


def parse_albalak(text: str) -> Iterator[ListEntry]:
    for line, section, item in _items(_lines(text, start="Data Selection for Pretraining")):
        title_link = _LINK.match(item)
        rest = _ALON_REST.match(item, title_link.end()) if title_link else None
        if not rest:
            continue
        entry = _entry(
            line,
            section,
            title_link["text"],
            title_link["url"].strip(),
            year=int(rest["year"]) if rest["year"] else None,
            authors=_author_list(rest["authors"], _alon_separator(rest["authors"])),
        )
        if entry:
            yield entry


FORMATS.update(
    xnhyacinth=parse_xnhyacinth,
    huangowen=parse_huangowen,
    aiot=parse_aiot,
    tiingweii=parse_tiingweii,
    albalak=parse_albalak,
)
