"""Markdown paper lists: one parser per format of the lists our corpus comes from.

Each parser turns a list's text into entries carrying only the facts the list
gives, with the line they stand on and the heading they are listed under; the
importer maps headings to taxonomy nodes with a section map (`sources/*.yaml`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field


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
