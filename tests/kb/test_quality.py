"""The quality report: completeness per taxonomy node, for curators and CI."""

from __future__ import annotations

import json

from click.testing import CliRunner

from efflit.cli import main


def test_quality_report_counts_what_each_node_lacks(kb):
    result = CliRunner().invoke(main, ["check", "--root", str(kb), "--quality", "--format", "json"])
    assert result.exit_code == 0, result.output
    output = json.loads(result.output)
    assert [p["message"] for p in output["problems"]] == ["1 record lists no authors and is marked incomplete"]
    by_path = {line["path"]: line for line in output["quality"]}
    assert by_path[None] == {
        "path": None,
        "name": "All papers",
        "records": 3,
        "authors": 2,
        "identifier": 2,
        "published": 1,
        "summary": 1,
        "code": 1,
    }
    assert by_path["inference/kv-cache"]["records"] == 2 and by_path["inference/kv-cache"]["authors"] == 1


def test_quality_report_as_text_shows_shares(kb):
    result = CliRunner().invoke(main, ["check", "--root", str(kb), "--quality"])
    lines = result.output.splitlines()
    assert lines[0].split() == ["topic", "records", "authors", "arXiv/DOI", "published", "summary", "code"]
    assert next(line for line in lines if line.startswith("All papers")).split()[2:5] == ["3", "2", "(67%)"]
