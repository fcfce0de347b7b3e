"""A 5,000-entry .bib beside the fixture's: each entry is used by a generated record,
and the last one disagrees with its record, so the problem's line must be right at the end."""

from pathlib import Path

RECORD = """id: gen{n:04d}
title: {word} Studies of Quantization
authors:
  - Ada Gen{n}
year: 2020
tags:
  - inference/quantization
source:
  - person: efflit test suite
added: 2026-01-01
"""
ENTRY = "@article{{gen{n:04d},\n  title = {{{word} Studies of Quantization}},\n  author = {{Gen{n}, Ada}},\n  year = {{{year}}},\n}}\n\n"


def word(n: int) -> str:
    """Made-up words per number, scattered so that no two titles are near-duplicates."""
    return " ".join(_syllables(n * k % 38413) for k in (7919, 104729, 1299709))


def _syllables(n: int) -> str:
    return "".join("bdfgklmnprstvz"[n // 14**i % 14] + "aeiou"[n // 14**i % 5] for i in range(4)).capitalize()


def generate(root: Path) -> None:
    for n in range(5000):
        (root / f"papers/gen{n:04d}.yaml").write_text(RECORD.format(n=n, word=word(n)), encoding="utf-8")
    entries = "".join(ENTRY.format(n=n, word=word(n), year=2021 if n == 4999 else 2020) for n in range(5000))
    (root / "papers/generated.bib").write_text(entries, encoding="utf-8")
