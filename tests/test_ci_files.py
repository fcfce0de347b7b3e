"""The repository's CI: workflow files valid against GitHub's schema, calling commands that exist."""

from __future__ import annotations

import itertools
import shlex
import subprocess
import sys

import yaml

from efflit.cli import main
from kbtools import REPOSITORY

WORKFLOWS = sorted((REPOSITORY / ".github/workflows").glob("*.yml"))


def test_workflows_validate_against_the_github_workflow_schema():
    assert [w.name for w in WORKFLOWS] == ["ci.yml", "links.yml", "metrics.yml", "pages.yml"]
    result = subprocess.run(
        [sys.executable, "-m", "check_jsonschema", "--builtin-schema", "vendor.github-workflows", *map(str, WORKFLOWS)],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr


SHELL = {"|", "||", "&&", ";", ">", "2>&1"}  # where a command's own arguments end


def efflit_commands(text: str) -> list[list[str]]:
    lines = [shlex.split(line)[1:] for line in text.splitlines() if line.strip().startswith("efflit ")]
    return [list(itertools.takewhile(lambda word: word not in SHELL, words)) for words in lines]


def test_workflows_and_hooks_call_commands_that_exist():
    calls = []
    for workflow in WORKFLOWS:
        for job in yaml.safe_load(workflow.read_text())["jobs"].values():
            for step in job["steps"]:
                calls += efflit_commands(step.get("run", ""))
    hooks = yaml.safe_load((REPOSITORY / ".pre-commit-hooks.yaml").read_text())
    calls += [shlex.split(hook["entry"])[1:] for hook in hooks]
    assert ["check", "--format", "github"] in calls and ["fmt", "--check"] in calls and ["build"] in calls
    assert ["links", "--format", "github"] in calls and ["metrics"] in calls
    for arguments in calls:
        assert arguments[0] in main.commands, arguments
        command = main.commands[arguments[0]]
        known = {opt for param in command.params for opt in getattr(param, "opts", [])}
        assert {a for a in arguments[1:] if a.startswith("--")} <= known, arguments


def test_pre_commit_hooks_are_complete():
    hooks = yaml.safe_load((REPOSITORY / ".pre-commit-hooks.yaml").read_text())
    assert {h["id"] for h in hooks} == {"efflit-check", "efflit-fmt"}
    for hook in hooks:
        assert {"id", "name", "entry", "language"} <= set(hook) and hook["language"] == "python"
