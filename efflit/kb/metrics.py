"""The metrics file (`data/metrics.json`), read with the care of any input: bounded in size and
held to its model, so a hand-edited or poisoned file can only fail to be read, which the check
reports; its figures are numbers, days and flags, never text a page would show as markup."""

from __future__ import annotations

from pydantic import ValidationError

from efflit.kb.load import read_text
from efflit.kb.models import MetricsFile
from efflit.kb.problems import Position, Report
from efflit.kb.project import Project

MAX_METRICS_BYTES = 64 * 1024 * 1024  # some 500 bytes a paper: ample for 100,000 records


def read_metrics(project: Project, report: Report) -> MetricsFile | None:
    """The metrics of the knowledge base, None where it has none or they cannot be read (a warning:
    the site is then built without them)."""
    path = project.metrics
    if not path.exists():
        return None
    display = project.display(path)
    text = read_text(path, display, report, MAX_METRICS_BYTES)
    if text is None:
        return None
    try:
        return MetricsFile.model_validate_json(text)
    except ValidationError as error:
        first = error.errors(include_url=False)[0]
        where = ".".join(map(str, first["loc"])) or "the file"
        report.warning(
            Position(display),
            f"metrics are not used: {where}: {first['msg']} ({error.error_count()} problem(s))",
            "run efflit metrics again, or remove the file",
        )
        return None
