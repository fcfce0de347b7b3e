"""What the last run saw: a fingerprint of every input, so a run whose inputs did not change can
reuse its previous result instead of doing the work again.

The fingerprint hashes the contents (not the times) of the taxonomy, the settings, every file
under papers/, the templates in use and efflit's own code: any edit, however small, changes it.
Results live in `.efflit-cache/` (git-ignored) and are written atomically.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

from efflit.canonical import write_atomic
from efflit.project import PYPROJECT, Project
from efflit.render import template_dirs

CACHE = Path(".efflit-cache")


def fingerprint(project: Project, *extra: str) -> str:
    """A hash of every input of a check or build (and of ``extra`` options)."""
    digest = hashlib.sha256("\0".join(extra).encode())
    files = [project.taxonomy, project.root / PYPROJECT, *sorted(p for p in project.papers.rglob("*") if p.is_file())]
    files += sorted(p for folder in template_dirs(project.root) for p in folder.rglob("*") if p.is_file())
    files += sorted(Path(__file__).parent.glob("*.py"))  # efflit's own code: an upgrade rebuilds
    for path in files:
        if path.is_file():
            digest.update(f"\0{path.as_posix()}\0".encode())
            digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()


def recall(project: Project, name: str, key: str) -> dict | None:
    """The result stored under ``name`` if it was made from inputs with fingerprint ``key``."""
    path = project.root / CACHE / f"{name}.json"
    try:
        stored = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return stored.get("result") if stored.get("key") == key else None


def remember(project: Project, name: str, key: str, result: dict) -> None:
    try:
        write_atomic(project.root / CACHE / f"{name}.json", json.dumps({"key": key, "result": result}))
    except OSError:
        pass  # a cache that cannot be written only costs time


def site_stamp(folder: Path) -> list[int]:
    """How many files the built site holds, their total size and modification times: a site
    touched by hand since the build no longer matches."""
    stats = [entry.stat() for entry in _files(folder)] if folder.is_dir() else []
    return [len(stats), sum(s.st_size for s in stats), sum(s.st_mtime_ns for s in stats)]


def _files(folder: Path) -> list:
    found, stack = [], [folder]
    while stack:
        with os.scandir(stack.pop()) as entries:
            for entry in entries:
                (stack.append(entry.path) if entry.is_dir(follow_symlinks=False) else found.append(entry))
    return found
