"""Where a knowledge base lives: its folder, the files in it, its settings and a build's options.

Light to import (no pydantic until settings are read): `efflit.pipeline.replay` answers unchanged runs
with what it finds here.
"""

from __future__ import annotations

import os
import re
import tomllib
from dataclasses import dataclass
from functools import cached_property, lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

from efflit.kb.problems import Position, Report

if TYPE_CHECKING:
    from efflit.kb.models import Settings

PAPERS = "papers"
TAXONOMY = "taxonomy.yaml"
VENUES = "venues.yaml"  # optional: the venues records name, with their other spellings
METRICS = "data/metrics.json"  # optional: citation counts and code health, from `efflit metrics`
CACHE = Path(".efflit-cache")  # what runs keep for the next ones (git-ignored)
BROKEN_LINKS = CACHE / "links-broken.json"  # the links `efflit links` found broken: in how many runs in a row
PYPROJECT = "pyproject.toml"
TEMPLATES = "templates"


def theme_dir() -> Path:
    """The default templates: packaged inside efflit in a wheel, beside it in a source checkout."""
    package = Path(__file__).parents[1]
    packaged = package / TEMPLATES
    return packaged if packaged.is_dir() else package.parent / TEMPLATES


def template_dirs(root: Path) -> list[Path]:
    """Where templates are looked up: the knowledge base's own first, then the theme."""
    own = root / TEMPLATES
    return [d for d in dict.fromkeys([own, theme_dir()]) if d.is_dir()]


@dataclass(frozen=True)
class Options:
    """What a build is asked for beyond the settings."""

    base_url: str | None = None  # absolute, ending in "/"; None: links in feed and sitemap are root-relative


@dataclass(frozen=True)
class Project:
    root: Path
    settings: Settings

    def __getstate__(self) -> dict:
        """What a cache keeps of a project: not its listings of papers/, of the folder as it was."""
        return {"root": self.root, "settings": self.settings}

    @property
    def papers(self) -> Path:
        return self.root / PAPERS

    @property
    def taxonomy(self) -> Path:
        return self.root / TAXONOMY

    @property
    def venues(self) -> Path:
        return self.root / VENUES

    @property
    def metrics(self) -> Path:
        return self.root / METRICS

    def display(self, path: Path) -> str:
        """The path as problems show it: relative to the root, with forward slashes."""
        text, root = str(path), str(self.root)
        if text.startswith(root + os.sep):  # string work: pathlib's relative_to is slow on 10,000s of files
            return text[len(root) + 1 :].replace(os.sep, "/")
        return path.relative_to(self.root).as_posix()

    @cached_property
    def _under_papers(self) -> list[str]:
        """Everything under papers/, sorted; looked through once, though a check asks three times."""
        return sorted(entry.path for entry in self._entries_under_papers)

    @cached_property
    def _entries_under_papers(self) -> list[os.DirEntry]:
        return entries_under(self.papers)

    @cached_property
    def _links_under_papers(self) -> frozenset[str]:
        return frozenset(entry.path for entry in self._entries_under_papers if entry.is_symlink())

    def record_files(self) -> list[Path]:
        return [Path(path) for path in self._under_papers if self._is_record(path)]

    def stray_records(self) -> list[Path]:
        """YAML files under papers/ that are not read as records (wrong suffix, case or folder)."""
        return sorted(
            Path(path)
            for path in self._under_papers
            if path.lower().endswith((".yaml", ".yml")) and not self._is_record(path)
        )

    def _is_record(self, path: str) -> bool:
        """papers/<id>.yaml, straight in papers/."""
        folder, name = os.path.split(path)
        return name.endswith(".yaml") and folder == self._papers_folder

    @cached_property
    def _papers_folder(self) -> str:
        return str(self.papers)

    def outside(self, path: Path) -> bool:
        """Whether a file under papers/ is a link to somewhere outside the knowledge base (a pull
        request could add one)."""
        if str(path) in self._links_under_papers:  # known from looking through the folder
            return not path.resolve().is_relative_to(self.root)
        return _outside_folder(os.path.dirname(path), self.root)  # one resolve per folder, not per file

    def bib_files(self) -> list[Path]:
        return sorted(Path(path) for path in self._under_papers if path.endswith(".bib"))


def entries_under(folder: Path) -> list[os.DirEntry]:
    """Everything under ``folder``, folders too (nothing if it is missing), found with os.scandir:
    pathlib's glob takes ten times as long.  Links to folders are listed, not followed."""
    found, stack = [], [str(folder)]
    while stack:
        try:
            with os.scandir(stack.pop()) as entries:
                for entry in entries:
                    found.append(entry)
                    if entry.is_dir(follow_symlinks=False):
                        stack.append(entry.path)
        except OSError:  # missing, not a folder or unreadable: nothing to list, as with pathlib's glob
            pass
    return found


@lru_cache(maxsize=256)
def _outside_folder(folder: str, root: Path) -> bool:
    return not Path(folder).resolve().is_relative_to(root)


def _setting_line(text: str, loc: tuple) -> int:
    """The line of a setting's key below `[tool.efflit]` (or of the table itself)."""
    lines = text.splitlines()
    table = next((n for n, row in enumerate(lines) if row.strip() == "[tool.efflit]"), 0)
    key = re.compile(rf"^\s*{re.escape(str(loc[-1]))}\s*=") if loc else None
    found = next((n for n in range(table, len(lines)) if key and key.match(lines[n])), table)
    return found + 1


def open_project(root: Path, report: Report) -> Project:
    """The knowledge base at ``root``; settings problems are reported, defaults used instead."""
    # Imported here, not above: pydantic and the models take a tenth of a second to import.
    from pydantic import ValidationError

    from efflit.kb.models import Settings

    root = root.resolve()
    _outside_folder.cache_clear()  # a folder may have become a link since (`efflit serve` runs on)
    settings = Settings()
    pyproject = root / PYPROJECT
    if pyproject.is_file():
        text = pyproject.read_text(encoding="utf-8", errors="replace")
        try:
            table = tomllib.loads(text).get("tool", {}).get("efflit", {})
            settings = Settings.model_validate(table)
        except tomllib.TOMLDecodeError as error:
            where = re.search(r"at line (\d+), column (\d+)", str(error))
            position = Position(PYPROJECT, int(where[1]), int(where[2])) if where else Position(PYPROJECT)
            report.error(position, f"cannot parse pyproject.toml: {error}", "fix the TOML syntax")
        except ValidationError as error:
            for detail in error.errors(include_url=False):
                field = ".".join(map(str, detail["loc"]))
                message = detail["msg"].removeprefix("Value error, ")
                report.error(
                    Position(PYPROJECT, _setting_line(text, detail["loc"])), f"[tool.efflit] {field}: {message}"
                )
    for required, what in ((root / TAXONOMY, "file"), (root / PAPERS, "folder")):
        if not required.exists():
            report.error(
                Position(required.name),
                f"{what} '{required.name}' is missing in {root}",
                "run efflit in a knowledge-base folder, or pass --root DIR",
            )
    return Project(root, settings)
