"""A record named `con`, which Windows refuses as a file name: written here rather than kept in
git, so that the repository still checks out on Windows."""

from pathlib import Path


def generate(root: Path) -> None:
    record = """id: con
title: Caching Keys Without Authors
authors: []
year: 2024
url: https://example.org/papers/caching
tags:
  - inference/kv-cache
source:
  - list: example/Awesome-Test-List
    section: KV Cache
added: 2026-11-21
"""
    (root / "papers/con.yaml").write_text(record, encoding="utf-8")
