"""Shared fixtures: small knowledge bases copied into a temporary folder per test."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from efflit.build import check

FIXTURES = Path(__file__).parent / "fixtures"
REPOSITORY = Path(__file__).parent.parent


@pytest.fixture
def kb(tmp_path: Path) -> Path:
    """A writable copy of the tiny fixture knowledge base (3 fabricated records)."""
    root = tmp_path / "kb"
    shutil.copytree(FIXTURES / "tiny", root)
    return root


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


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--update-golden", action="store_true", help="Rewrite golden files from the current output.")
