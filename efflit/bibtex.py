"""BibTeX files: parsing with positions, LaTeX decoding and the normalisation used to compare.

bibtexparser 2.x never raises on bad input; it leaves failed blocks in the
library, which we turn into problems here.  Its line numbers count from 0.
"""

from __future__ import annotations

import logging
import re
import unicodedata
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import bibtexparser
from bibtexparser import model
from pylatexenc.latex2text import LatexNodes2Text

from efflit.load import read_text
from efflit.problems import Position, Report

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

    def field_position(self, name: str) -> Position:
        line = self.field_lines.get(name)
        return Position(self.position.path, line) if line else self.position


def load_bib(path: Path, display: str, report: Report) -> list[BibEntry]:
    """Entries of one .bib file; unparsable blocks and duplicate keys become problems."""
    text = read_text(path, display, report, MAX_BIB_BYTES)
    if text is None:
        return []
    library = bibtexparser.parse_string(text)
    for block in library.failed_blocks:
        where = Position(display, block.start_line + 1)
        if isinstance(block, model.DuplicateBlockKeyBlock):
            first = library.entries_dict[block.key].start_line + 1
            report.error(
                where, f"duplicate BibTeX key '{block.key}' (first on line {first})", "remove or rename one entry"
            )
        elif isinstance(block, model.DuplicateFieldKeyBlock):
            report.error(where, f"entry repeats a field: {block.error}", "keep one of each field")
        else:
            report.error(
                where,
                "BibTeX block could not be parsed",
                "check for unbalanced braces or quotes, and a comma after each field",
            )
    return [
        BibEntry(
            key=entry.key,
            entry_type=entry.entry_type.lower(),
            fields={f.key.lower(): str(f.value) for f in entry.fields},
            position=Position(display, entry.start_line + 1),
            field_lines={f.key.lower(): f.start_line + 1 for f in entry.fields},
        )
        for entry in library.entries
    ]


@lru_cache(maxsize=65536)
def decode_latex(text: str) -> str:
    """LaTeX to Unicode text: ``M{\\"u}ller`` is ``Müller``; protective braces go."""
    if "\\" in text or "$" in text:
        text = _latex.latex_to_text(text)
    return " ".join(text.replace("{", "").replace("}", "").split())


_NON_WORD = re.compile(r"[\W_]+")


def normalize(text: str) -> str:
    """A comparison key: decoded, accents folded, case-folded, punctuation dropped."""
    text = decode_latex(text)
    if not text.isascii():
        text = "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))
    return " ".join(_NON_WORD.sub(" ", text.casefold()).split())


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
