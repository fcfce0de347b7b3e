"""Shared fixtures: small knowledge bases copied into a temporary folder per test."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from kbtools import FIXTURES


@pytest.fixture
def kb(tmp_path: Path) -> Path:
    """A writable copy of the tiny fixture knowledge base (3 fabricated records)."""
    root = tmp_path / "kb"
    shutil.copytree(FIXTURES / "tiny", root)
    return root


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--update-golden", action="store_true", help="Rewrite golden files from the current output.")
