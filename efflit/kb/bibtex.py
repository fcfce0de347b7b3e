"""BibTeX files: parsing with positions, LaTeX decoding and the normalisation used to compare.

bibtexparser 2.x never raises on bad input; it leaves failed blocks in the
library, which we turn into problems here.  Its line numbers count from 0.
"""

from __future__ import annotations

import hashlib
import logging
import re
import unicodedata
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import bibtexparser
from bibtexparser import model
from pylatexenc.latex2text import LatexNodes2Text

from efflit.kb.load import read_text
from efflit.kb.problems import Position, Report

MAX_BIB_BYTES = 64 * 1024 * 1024

# bibtexparser logs each failed block; we report them ourselves, with positions.
logging.getLogger("bibtexparser").addHandler(logging.NullHandler())
logging.getLogger("bibtexparser").propagate = False

_latex = LatexNodes2Text()


@dataclass(frozen=True)
class BibEntry:
    key: str
    entry_type: str
    fields: dict[str, str]
    position: Position
    field_lines: dict[str, int] = field(default_factory=dict)
    # A hash of what pages show of it (not where it stands), made with the parse and kept with it.
    content: str = field(init=False, repr=False)

    def __post_init__(self) -> None:
        shown = repr((self.entry_type, self.key, self.fields)).encode()
        object.__setattr__(self, "content", hashlib.blake2b(shown, digest_size=16).hexdigest())

    def field_position(self, name: str) -> Position:
        line = self.field_lines.get(name)
        return Position(self.position.path, line) if line else self.position


MONTHS = {"jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"}


def load_bib(path: Path, display: str, report: Report) -> list[BibEntry]:
    """Entries of one .bib file; unparsable blocks, repeated keys and fields and undefined macros
    become problems.  Enclosing braces and quotes are removed here rather than by bibtexparser,
    which would also turn an undefined macro into plain text without a word."""
    text = read_text(path, display, report, MAX_BIB_BYTES)
    if text is None:
        return []
    # Macros and `#` joins are resolved below, as BibTeX resolves them: the library's own resolver
    # leaves a join as written and an undefined macro as plain text.
    library = bibtexparser.parse_string(text, parse_stack=[])
    strings = {string.key.lower(): str(string.value) for string in library.strings}
    for block in library.failed_blocks:
        where = Position(display, block.start_line + 1)
        if isinstance(block, model.DuplicateBlockKeyBlock):  # an entry's or an @string's key
            first = next(b.start_line + 1 for b in library.blocks if getattr(b, "key", None) == block.key)
            report.error(
                where, f"duplicate BibTeX key '{block.key}' (first on line {first})", "remove or rename one entry"
            )
        elif isinstance(block, model.DuplicateFieldKeyBlock):
            for name in sorted(block.duplicate_keys):
                line = _second_field_line(block.raw, name, block.start_line + 1)
                report.error(
                    Position(display, line),
                    f"entry '{block.ignore_error_block.key}' repeats the field '{name}'",
                    "keep one of each field",
                )
        else:
            report.error(
                where,
                "BibTeX block could not be parsed",
                "check for unbalanced braces or quotes, and a comma after each field",
            )
    entries = []
    for entry in library.entries:
        if not entry.key.strip():
            report.error(
                Position(display, entry.start_line + 1),
                f"@{entry.entry_type} entry has no key",
                "write its record's id after the opening brace: @inproceedings{dao2022flashattention,",
            )
            continue
        fields = {}
        for f in entry.fields:
            value, macro = _resolved(str(f.value), strings)
            if control := _CONTROL.search(value):
                report.error(
                    Position(display, f.start_line + 1),
                    f"field '{f.key.lower()}' of entry '{entry.key}' holds the control character "
                    f"U+{ord(control.group()):04X}",
                    "remove it: NUL and similar bytes have no place in a reference",
                )
            if macro:
                report.warning(
                    Position(display, f.start_line + 1),
                    f"BibTeX macro '{macro}' is not defined",
                    "put the value in braces, or define it with @string",
                )
            fields[f.key.lower()] = value
        entries.append(
            BibEntry(
                key=entry.key,
                entry_type=entry.entry_type.lower(),
                fields=fields,
                position=Position(display, entry.start_line + 1),
                field_lines={f.key.lower(): f.start_line + 1 for f in entry.fields},
            )
        )
    return entries


def _resolved(raw: str, strings: dict[str, str], depth: int = 0) -> tuple[str, str | None]:
    """A field's value as BibTeX reads it: braces or quotes removed, the parts of a `#` join joined,
    @string macros replaced (month names stay as written); and the first macro that is not defined."""
    parts, undefined = [], None
    for piece in _pieces(raw):
        if (piece.startswith("{") and piece.endswith("}")) or (piece.startswith('"') and piece.endswith('"')):
            parts.append(piece[1:-1])
        elif piece.isdigit() or piece.lower() in MONTHS:
            parts.append(piece)
        elif piece.lower() in strings and depth < MAX_MACRO_DEPTH:
            value, missing = _resolved(strings[piece.lower()], strings, depth + 1)
            parts.append(value)
            undefined = undefined or missing
        else:
            parts.append(piece)
            undefined = undefined or piece
    return "".join(parts), undefined


_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")  # all C0 controls but tab and line ends
MAX_MACRO_DEPTH = 16  # an @string defined through itself stops here


def _pieces(raw: str) -> list[str]:
    """The parts of a value joined by `#` outside braces and quotes."""
    if "#" not in raw:  # most values: no join to look for, character by character
        return [raw.strip()] if raw.strip() else []
    pieces, depth, quoted, start = [], 0, False, 0
    for index, char in enumerate(raw):
        if char == "{":
            depth += 1
        elif char == "}":
            depth -= 1
        elif char == '"' and depth == 0:
            quoted = not quoted
        elif char == "#" and depth == 0 and not quoted:
            pieces.append(raw[start:index])
            start = index + 1
    pieces.append(raw[start:])
    return [piece.strip() for piece in pieces if piece.strip()]


def _second_field_line(raw: str, name: str, first_line: int) -> int:
    places = [m.start() for m in re.finditer(rf"(?im)^\s*{re.escape(name)}\s*=", raw)]
    offset = places[1] if len(places) > 1 else 0
    return first_line + raw.count("\n", 0, offset)


class LatexTooDeep(ValueError):
    """A value nested too deeply for the LaTeX decoder."""


@lru_cache(maxsize=65536)
def decode_latex(text: str) -> str:
    """LaTeX to Unicode text: ``M{\\"u}ller`` is ``Müller``; protective braces go."""
    if "\\" in text or "$" in text:
        try:
            text = _latex.latex_to_text(text)
        except RecursionError:
            raise LatexTooDeep(text[:40]) from None
    return " ".join(text.replace("{", "").replace("}", "").split())


_NON_WORD = re.compile(r"[\W_]+")


@lru_cache(maxsize=65536)
def normalize(text: str) -> str:
    """A comparison key: decoded, accents folded, case-folded, punctuation dropped."""
    text = decode_latex(text)
    if not text.isascii():
        text = "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))
    return " ".join(_NON_WORD.sub(" ", text.casefold()).split())


_SUFFIXED_YEAR = re.compile(r"(\d{4})[a-z]")


def bib_year(value: str) -> str:
    """The year an entry's `year` field means: `2023b` (a suffix that tells apart one author's papers
    of a year, common in real .bib files) is 2023."""
    value = value.strip()
    return match[1] if (match := _SUFFIXED_YEAR.fullmatch(value)) else value


def split_names(authors: str) -> list[str]:
    """The names of a BibTeX author field, split on ``and`` outside braces."""
    names, depth, start = [], 0, 0
    for match in re.finditer(r"[{}]|\s+and\s+", authors):
        token = match.group()
        if token == "{":
            depth += 1
        elif token == "}":
            depth -= 1
        elif depth == 0:
            names.append(authors[start : match.start()])
            start = match.end()
    names.append(authors[start:])
    return [n.strip() for n in names if n.strip()]


def last_name(name: str) -> str:
    """The family name of a BibTeX name (``Last, First`` or ``First Last``)."""
    depth = 0
    for i, char in enumerate(name):
        depth += {"{": 1, "}": -1}.get(char, 0)
        if char == "," and depth == 0:
            return name[:i].strip()
    words = name.split()
    return words[-1] if words else ""
