"""Hostile input: every folder under ``cases/`` is one attack on a knowledge base.

A case is an overlay on a copy of ``tests/fixtures/tiny``:

- ``DELETE`` (optional) lists fixture files or folders to remove first, one per line;
- every other file except the ones below is copied on top, bytes as they are;
- ``generate.py`` (optional) defines ``generate(root)``, which writes files too large
  or too repetitive to keep in git (the 10 MB record, the 5,000-entry .bib, ...);
- ``expected.txt`` holds the exact problems of ``efflit check``, one per line as
  ``path:line:col: severity: message`` (no hints) in efflit's order, or the single line
  ``renders safely``: check reports no error (warnings are fine: the fixture has one), the
  build succeeds, and no page of the site can run a script;
- ``XFAIL`` (optional) holds the reason the case fails today: ``expected.txt`` is then
  what *should* happen, and the test is a strict xfail that tells when the bug is fixed.

Every case also asserts that check neither raises, nor hangs, nor writes a file, and that
a build writes nothing outside ``site/``.  ``pytest tests/hostile --update-golden``
rewrites ``expected.txt`` from the current output (except for XFAIL cases).
"""

from __future__ import annotations

import contextlib
import runpy
import shutil
import signal
from pathlib import Path

import pytest

from efflit.pipeline.build import build
from efflit.pipeline.check import check
from kbtools import assert_no_script

CASES = Path(__file__).parent / "cases"
FIXTURE = Path(__file__).parent.parent / "fixtures" / "tiny"
CASE_FILES = {"expected.txt", "DELETE", "XFAIL", "generate.py"}
SAFE = "renders safely"
SECONDS = 20  # per check or build: anything slower counts as a hang


def cases() -> list:
    """One parameter per case folder; a case with an XFAIL file is a strict xfail."""
    params = []
    for folder in sorted(p for p in CASES.iterdir() if p.is_dir()):
        xfail = folder / "XFAIL"
        marks = [pytest.mark.xfail(reason=xfail.read_text().strip(), strict=True)] if xfail.exists() else []
        params.append(pytest.param(folder.name, marks=marks, id=folder.name))
    return params


def make_kb(case: Path, root: Path) -> Path:
    """The fixture at ``root`` with the case's DELETE list, overlay and generator applied."""
    shutil.copytree(FIXTURE, root)
    if (case / "DELETE").exists():
        for name in (case / "DELETE").read_text().split():
            shutil.rmtree(root / name) if (root / name).is_dir() else (root / name).unlink()
    for source in sorted(p for p in case.rglob("*") if p.is_file()):
        relative = source.relative_to(case)
        if str(relative) not in CASE_FILES and "__pycache__" not in relative.parts:
            (root / relative).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source, root / relative)
    if (case / "generate.py").exists():
        runpy.run_path(str(case / "generate.py"))["generate"](root)
    return root


@contextlib.contextmanager
def deadline(what: str):
    """Raise instead of hanging: a hostile file must not stall check or build."""

    def expire(*_):
        raise TimeoutError(f"{what} took more than {SECONDS} s")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.alarm(SECONDS)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def snapshot(folder: Path, skip: Path) -> dict[str, tuple[int, int]]:
    """Every file under ``folder`` but ``skip`` and efflit's cache beside it, with its size and time."""
    cache = skip.parent / ".efflit-cache"
    return {
        str(p.relative_to(folder)): (p.stat().st_size, p.stat().st_mtime_ns)
        for p in folder.rglob("*")
        if p.is_file() and not p.is_relative_to(skip) and not p.is_relative_to(cache)
    }


def problem_lines(report, root: Path) -> list[str]:
    """The report as `path:line:col: severity: message` lines; the temporary root reads `<kb>`."""
    lines = [f"{p.position}: {p.severity.value}: {p.message}" for p in report.sorted()]
    return [line.replace(str(root.resolve()), "<kb>") for line in lines]


@pytest.mark.parametrize("name", cases())
def test_case(name: str, tmp_path: Path, request: pytest.FixtureRequest) -> None:
    """The case reports exactly its expected problems, or renders safely; nothing escapes."""
    case = CASES / name
    root = make_kb(case, tmp_path / "work" / "kb")
    before = snapshot(tmp_path, root / "site")
    with deadline("check"):
        _, report = check(root)  # an exception here is a bug: the test fails with its traceback
    assert snapshot(tmp_path, root / "site") == before, "check wrote or changed a file"

    expected_file = case / "expected.txt"
    expected = expected_file.read_text(encoding="utf-8").splitlines()
    actual = [SAFE] if expected == [SAFE] and not report.errors else problem_lines(report, root)
    if request.config.getoption("--update-golden") and not (case / "XFAIL").exists():
        expected_file.write_text("".join(f"{line}\n" for line in actual), encoding="utf-8")
        expected = actual
    assert actual == expected
    again = check(root)[1]  # the files now come from the parse cache: the same report
    assert again.sorted() == report.sorted()

    if expected == [SAFE]:
        with deadline("build"):
            _, report = build(root)
        assert not report.errors, problem_lines(report, root)
        assert snapshot(tmp_path, root / "site") == before, "build wrote outside site/"
        assert_no_script(root / "site")


@pytest.mark.parametrize(
    "html",
    [
        "<script>alert(1)</script>",
        '<script src="https://evil.example/x.js"></script>',
        '<script src="../static/copy.js">alert(1)</script>',
        "<img src=x onerror=alert(1)>",
        '<a href=" jav&#x09;ascript:alert(1)">x</a>',
        '<a href="DATA:text/html,x">x</a>',
        "<iframe></iframe>",
        '<p style="width:expression(alert(1))">x</p>',
        '<meta http-equiv="Refresh" content="0;url=javascript:alert(1)">',
    ],
)
def test_the_safety_check_catches(html: str, tmp_path: Path) -> None:
    """The "renders safely" check is not vacuous: each of these pages fails it."""
    (tmp_path / "papers").mkdir()
    (tmp_path / "papers/index.html").write_text(f"<!doctype html><title>t</title>{html}", encoding="utf-8")
    with pytest.raises(AssertionError):
        assert_no_script(tmp_path)


@pytest.mark.parametrize(
    ("name", "text"),
    [
        ("static/favicon.svg", '<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"></svg>'),
        ("static/chart.svg", '<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'),
        ("feed.xml", '<feed><entry><summary type="html">&lt;img src=x onerror=alert(1)&gt;</summary></entry></feed>'),
        ("feed.xml", "<feed><entry><title><script>alert(1)</script></title></entry></feed>"),
    ],
)
def test_the_safety_check_reads_images_and_feeds_too(name: str, text: str, tmp_path: Path) -> None:
    (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
    (tmp_path / name).write_text(text, encoding="utf-8")
    with pytest.raises(AssertionError):
        assert_no_script(tmp_path)
