"""Problems found in a knowledge base, each tied to a position in a source file.

Every stage reports into one :class:`Report`; nothing stops at the first
problem, so a curator sees everything that is wrong in one run, sorted by file
and line like a compiler's output.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from enum import StrEnum


class Severity(StrEnum):
    ERROR = "error"
    WARNING = "warning"


@dataclass(frozen=True, order=True)
class Position:
    """A place in a source file; ``line`` and ``column`` count from 1."""

    path: str
    line: int = 1
    column: int = 1

    def __str__(self) -> str:
        return f"{self.path}:{self.line}:{self.column}"


@dataclass(frozen=True)
class Problem:
    position: Position
    severity: Severity
    message: str
    hint: str = ""

    def to_dict(self) -> dict:
        return {**asdict(self.position), "severity": self.severity.value, "message": self.message, "hint": self.hint}

    @property
    def sort_key(self) -> tuple:
        return (self.position, self.severity != Severity.ERROR, self.message)

    def __str__(self) -> str:
        text = f"{self.position}: {self.severity.value}: {self.message}"
        return f"{text}\n    hint: {self.hint}" if self.hint else text


@dataclass
class Report:
    """Collects the problems of one run, and how long its stages took."""

    problems: list[Problem] = field(default_factory=list)
    # Stage -> seconds, in the order the stages ran (a run replayed from the cache has none).
    timings: dict[str, float] = field(default_factory=dict)

    def error(self, position: Position, message: str, hint: str = "") -> None:
        self.problems.append(Problem(position, Severity.ERROR, message, hint))

    def warning(self, position: Position, message: str, hint: str = "") -> None:
        self.problems.append(Problem(position, Severity.WARNING, message, hint))

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == Severity.ERROR]

    @property
    def warnings(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == Severity.WARNING]

    def sorted(self) -> list[Problem]:
        return sorted(self.problems, key=lambda p: p.sort_key)

    def failed(self, strict: bool = False) -> bool:
        return bool(self.errors or (strict and self.warnings))


def _github_escape(text: str, *, property_value: bool = False) -> str:
    # GitHub workflow commands: data escapes %, CR, LF; properties also : and ,
    text = text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")
    if property_value:
        text = text.replace(":", "%3A").replace(",", "%2C")
    return text


def format_text(problems: list[Problem]) -> str:
    return "\n".join(str(p) for p in problems)


def format_github(problems: list[Problem]) -> str:
    lines = []
    for p in problems:
        message = f"{p.message}. Hint: {p.hint}" if p.hint else p.message
        props = ",".join(
            f"{name}={_github_escape(str(value), property_value=True)}"
            for name, value in (
                ("file", p.position.path),
                ("line", p.position.line),
                ("col", p.position.column),
                ("title", "efflit"),
            )
        )
        lines.append(f"::{p.severity.value} {props}::{_github_escape(message)}")
    return "\n".join(lines)


def format_json(problems: list[Problem]) -> str:
    return json.dumps([p.to_dict() for p in problems], indent=2, ensure_ascii=False)


FORMATTERS = {"text": format_text, "github": format_github, "json": format_json}


def summary(report: Report) -> str:
    errors, warnings = len(report.errors), len(report.warnings)
    return f"{errors} error{'s' * (errors != 1)}, {warnings} warning{'s' * (warnings != 1)}"
