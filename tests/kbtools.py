"""Helpers the tests share: fixture locations, writing files, reading problems."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

from efflit.check import check

FIXTURES = Path(__file__).parent / "fixtures"
REPOSITORY = Path(__file__).parent.parent


def write(root: Path, name: str, text: str | bytes) -> Path:
    path = root / name
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


def problems(root: Path) -> list[str]:
    """Every problem of ``efflit check`` as `path:line:col: severity: message` lines."""
    _, report = check(root)
    return [f"{p.position}: {p.severity.value}: {p.message}" for p in report.sorted()]


def errors(root: Path) -> list[str]:
    return [p for p in problems(root) if ": error: " in p]


RECORD = """\
id: {id}
title: {title}
authors:
  - Ada Example
year: 2023
tags:
  - inference/quantization
source:
  - person: efflit test suite
added: 2026-11-25
"""


def eventually(condition: Callable[[], bool], seconds: float = 10) -> bool:
    """Whether ``condition`` holds within ``seconds`` (for work efflit leaves to a background process)."""
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.02)
    return True
