"""The command line as a curator and CI use it."""

from __future__ import annotations

import json
import re
import subprocess
import sys

from click.testing import CliRunner

from efflit.cli import main
from kbtools import REPOSITORY


def run(*args: str):
    return CliRunner().invoke(main, list(args))


def test_check_passes_on_the_repository_corpus():
    result = run("check", "--root", str(REPOSITORY))
    assert result.exit_code == 0, result.output
    assert "0 errors" in result.output


def test_planted_error_fails_with_file_and_line(kb):
    path = kb / "papers/muller2022attention.yaml"
    path.write_text(path.read_text().replace("year: 2022", "year: twenty"))
    result = run("check", "--root", str(kb))
    assert result.exit_code == 1
    assert "papers/muller2022attention.yaml:5:7: error: 'year': Input should be a valid integer" in result.output
    assert "Traceback" not in result.output


def test_warnings_pass_unless_strict(kb):
    assert run("check", "--root", str(kb)).exit_code == 0
    strict = run("check", "--root", str(kb), "--strict")
    assert strict.exit_code == 1
    assert "warning: 1 record lists no authors" in strict.output


def test_github_format_prints_annotations(kb):
    path = kb / "papers/caching2024.yaml"
    path.write_text(path.read_text().replace("year: 2024", "year: 1066"))
    result = run("check", "--root", str(kb), "--format", "github")
    assert result.exit_code == 1
    assert (
        "::error file=papers/caching2024.yaml,line=4,col=7,title=efflit::'year': Input should be greater than or equal to 1950"
        in result.output
    )
    assert (
        "::warning file=papers/references.bib,line=17,col=1,title=efflit::BibTeX entry 'caching2024' belongs to no record"
        in result.output
    )


def test_json_format_is_a_list_of_problems(kb):
    result = CliRunner().invoke(main, ["check", "--root", str(kb), "--format", "json"])
    (problem,) = json.loads(result.stdout)
    assert problem["path"] == "papers/caching2024.yaml"
    assert (problem["line"], problem["column"], problem["severity"]) == (3, 10, "warning")


def test_missing_knowledge_base_is_a_clean_error(tmp_path):
    result = run("check", "--root", str(tmp_path))
    assert result.exit_code == 1
    assert "taxonomy.yaml:1:1: error: file 'taxonomy.yaml' is missing" in result.output
    assert "Traceback" not in result.output


def test_schema_is_derived_from_the_model():
    result = run("schema")
    schema = json.loads(result.output)
    assert schema["additionalProperties"] is False
    assert {"id", "title", "authors", "year", "tags", "source", "added"} <= set(schema["required"])
    assert all(spec.get("description") for spec in schema["properties"].values())


def test_console_script_is_installed():
    result = subprocess.run([sys.executable, "-m", "efflit", "--help"], capture_output=True, text=True)
    assert result.returncode == 0 and "check" in result.stdout


def test_a_build_says_how_long_each_stage_took_when_asked(kb):
    first = run("build", "--root", str(kb), "--timings")
    assert first.exit_code == 0, first.output
    line = next(line for line in first.output.splitlines() if line.startswith("efflit build: timings: "))
    stages = dict(re.findall(r"([a-z][a-z ]*) ([0-9.]+) s", line.split(" in all: ")[1]))
    assert list(stages) == ["inputs", "check", "render", "link check", "search index"]
    assert "alongside rendering and the link check" in line
    again = run("build", "--root", str(kb), "--timings")
    assert "efflit build: timings: nothing to build" in again.output and "site is up to date" in again.output
    assert "timings" not in run("build", "--root", str(kb)).output
