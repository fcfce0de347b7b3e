"""Where a knowledge base lives: its folder, the files in it, and its settings."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path

from pydantic import ValidationError

from efflit.models import Settings
from efflit.problems import Position, Report

PAPERS = "papers"
TAXONOMY = "taxonomy.yaml"
PYPROJECT = "pyproject.toml"


@dataclass(frozen=True)
class Project:
    root: Path
    settings: Settings

    @property
    def papers(self) -> Path:
        return self.root / PAPERS

    @property
    def taxonomy(self) -> Path:
        return self.root / TAXONOMY

    def display(self, path: Path) -> str:
        """The path as problems show it: relative to the root, with forward slashes."""
        return path.relative_to(self.root).as_posix()

    def record_files(self) -> list[Path]:
        return sorted(self.papers.glob("*.yaml"))

    def bib_files(self) -> list[Path]:
        return sorted(self.papers.rglob("*.bib"))


def open_project(root: Path, report: Report) -> Project:
    """The knowledge base at ``root``; settings problems are reported, defaults used instead."""
    root = root.resolve()
    settings = Settings()
    pyproject = root / PYPROJECT
    if pyproject.is_file():
        text = pyproject.read_text(encoding="utf-8", errors="replace")
        try:
            table = tomllib.loads(text).get("tool", {}).get("efflit", {})
            settings = Settings.model_validate(table)
        except tomllib.TOMLDecodeError as error:
            report.error(Position(PYPROJECT), f"cannot parse pyproject.toml: {error}")
        except ValidationError as error:
            line = next((n for n, row in enumerate(text.splitlines(), 1) if row.strip() == "[tool.efflit]"), 1)
            for detail in error.errors(include_url=False):
                field = ".".join(map(str, detail["loc"]))
                report.error(Position(PYPROJECT, line), f"[tool.efflit] {field}: {detail['msg']}")
    for required, what in ((root / TAXONOMY, "file"), (root / PAPERS, "folder")):
        if not required.exists():
            report.error(
                Position(required.name),
                f"{what} '{required.name}' is missing in {root}",
                "run efflit in a knowledge-base folder, or pass --root DIR",
            )
    return Project(root, settings)
