"""Time efflit on a generated knowledge base and record each step's wall time, CPU time and peak memory.

    python benchmarks/run.py [--records 10000] [--seed 1] [--out benchmarks/out]
                             [--rounds 1] [--against OTHER_CHECKOUT]

Generates OUT/corpus-N with make_corpus.py (reused when it already holds N records of
the same seed and generator), runs each step of ``steps()`` in a subprocess, then
`efflit serve` with a record edited while a page is open (``measure_serve``), prints a
table and writes OUT/results-N.json.  Each step's output goes to OUT/<step>-<this|other>-N.log
(the last round's); its last line (efflit's summary) is shown and kept.

The machines we measure on are shared and drift (the same build can take twice as long within
an hour), so ``--rounds`` runs all steps several times and reports each one's median, and
``--against`` compares with another checkout of efflit (a `git worktree` of another commit):
each round runs the steps with both, the one first in odd rounds and the other in even ones, so
that neither meets the machine in a better state by its place.

Each command runs under a fresh wrapper interpreter that reads
``getrusage(RUSAGE_CHILDREN).ru_maxrss`` after it: the peak RSS of that command's
process tree alone, which deltas of the benchmark's own counters cannot give.
"""

from __future__ import annotations

import argparse
import datetime
import http.client
import json
import os
import platform
import queue
import re
import shutil
import signal
import statistics
import subprocess
import sys
import threading
import time
import urllib.parse
import urllib.request
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import TextIO

import make_corpus

REPO = Path(__file__).resolve().parent.parent
THEME = REPO / "templates"
# This interpreter running the efflit on PYTHONPATH (see `_efflit_of`; -P: not one in the working
# folder): no shim (pyenv, ...) is timed with it, and another checkout runs its own entry point.
EFFLIT = [sys.executable, "-P", "-m", "efflit"]
# Commands run as a user's efflit does, keeping its compiled bytecode: containers often set
# PYTHONDONTWRITEBYTECODE, under which every run compiles efflit's modules again (0.3 s a run).
ENVIRONMENT = {name: value for name, value in os.environ.items() if name != "PYTHONDONTWRITEBYTECODE"}
RSS_BYTES = 1 if sys.platform == "darwin" else 1024  # ru_maxrss is in bytes on macOS, KiB on Linux
WRAPPER = """
import json, os, resource, subprocess, sys, time

def running(session):
    # Whether a process of the session is still running (Linux; elsewhere, none is seen).
    try:
        names = [name for name in os.listdir("/proc") if name.isdigit()]
    except OSError:
        return False
    for name in names:
        try:
            with open(f"/proc/{name}/stat") as stat:
                state, _, _, sid = stat.read().rsplit(")", 1)[1].split()[:4]
        except (OSError, ValueError):
            continue
        if int(sid) == session and state != "Z":
            return True
    return False

start = time.perf_counter()
child = subprocess.Popen(sys.argv[1:], stdout=sys.stderr, start_new_session=True)
code = child.wait()
seconds = time.perf_counter() - start
while running(child.pid):  # efflit stores some caches in the background after it exits
    time.sleep(0.01)
settled = time.perf_counter() - start
usage = resource.getrusage(resource.RUSAGE_CHILDREN)
print(json.dumps({"seconds": seconds, "settled": settled, "returncode": code, "maxrss": usage.ru_maxrss,
                  "user": usage.ru_utime, "system": usage.ru_stime}))
"""


Edit = Callable[[Path], None]
SEARCH_INDEX = re.compile(r"^efflit build: timings: .*\bsearch index ([0-9.]+) s")


def _edit_record(root: Path, place: float = 0.5) -> None:
    """Give one record a summary, as a curator would: the first without one from ``place`` of the
    way through."""
    _give_summary(_record_to_edit(root, place))


def _give_summary(record: Path) -> None:
    record.write_text(record.read_text(encoding="utf-8").replace("added:", "summary: Edited.\nadded:", 1))


def _record_to_edit(root: Path, place: float) -> Path:
    records = sorted((root / "papers").glob("*.yaml"))
    return next(r for r in records[int(len(records) * place) :] if "\nsummary:" not in r.read_text(encoding="utf-8"))


def _edit_another_record(root: Path) -> None:
    _edit_record(root, 0.25)


def _edit_taxonomy(root: Path) -> None:
    path = root / "taxonomy.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace("description: >-", "description: >-\n      Edited.", 1))


def _edit_template(root: Path, theme: Path = THEME) -> None:
    template = root / "templates" / "404.html"
    template.parent.mkdir(exist_ok=True)
    template.write_text((theme / "404.html").read_text(encoding="utf-8") + "{# edited #}\n")


def _site(root: Path) -> Path:
    return root.parent / f"{root.name}-site"


def _forget(root: Path) -> None:
    """No cache of efflit's own (the OS file cache stays warm)."""
    _set_aside(root / ".efflit-cache", root.parent / TRASH)


def _forget_all(root: Path) -> None:
    """No cache and no previous site (nor the back copy beside it): a build from scratch."""
    _forget(root)
    _set_aside(_site(root), root.parent / TRASH)
    _set_aside(_site(root).with_name(f".{_site(root).name}.back"), root.parent / TRASH)


# What the steps forget is moved here, and deleted once every step has run.  Deleting a site just
# before a build would time the deletion's aftermath: ext4 without a journal (these VMs) does not
# reuse an inode within a minute of freeing it, and every file and folder created meanwhile first
# walks past the freed ones (a cold build at 10,000 records took 4 s longer right after the
# previous site was deleted, and a minute later did not).
TRASH = "trash"
SETTLE_SECONDS = 65  # after a deletion, before the next measured step


def _set_aside(path: Path, trash: Path) -> None:
    if path.exists():
        trash.mkdir(exist_ok=True)
        path.rename(trash / f"{len(os.listdir(trash))}-{path.name}")


def _empty_trash(out: Path) -> None:
    """Delete what the steps set aside (in this run, or in one that was interrupted)."""
    if (out / TRASH).exists():
        print(f"deleting what the steps set aside ({out / TRASH}) ...", flush=True)
        shutil.rmtree(out / TRASH, ignore_errors=True)
        (out / ".trash-emptied").touch()


def _settle(out: Path) -> None:
    """Wait, if files were deleted less than SETTLE_SECONDS ago (see TRASH)."""
    try:
        waiting = SETTLE_SECONDS - (time.time() - (out / ".trash-emptied").stat().st_mtime)
    except OSError:
        return
    if waiting > 0:
        print(f"waiting {waiting:.0f} s: files deleted in the last minute slow down creating new ones", flush=True)
        time.sleep(waiting)


def steps(root: Path, timings: bool = True, theme: Path = THEME) -> list[tuple[str, list[str], Edit | None]]:
    """The measured steps, in order: (name, command, edit made just before).  With ``timings``, builds
    say how long each stage took (an efflit from before `--timings` cannot); ``theme`` is the
    templates folder of the efflit measured, which the template edit starts from."""
    check = [*EFFLIT, "check", "--root", str(root)]
    build = [*EFFLIT, "build", "--root", str(root), "--out", str(_site(root)), *(["--timings"] if timings else [])]
    return [
        ("check (cold)", check, _forget),
        ("check (warm)", check, None),
        ("build (cold)", build, _forget_all),
        ("rebuild, no change", build, None),
        ("rebuild, 1 record", build, _edit_record),  # the first since the cold build: no back copy yet
        ("rebuild, another record", build, _edit_another_record),  # staged in the back copy
        ("rebuild, taxonomy", build, _edit_taxonomy),
        ("rebuild, template", build, partial(_edit_template, theme=theme)),
    ]


def _snapshot(root: Path) -> dict[Path, bytes | None]:
    """The files the edits touch, to put them back afterwards so the corpus stays reusable."""
    files = [*sorted((root / "papers").glob("*.yaml")), root / "taxonomy.yaml", root / "templates" / "404.html"]
    return {path: path.read_bytes() if path.exists() else None for path in files}


def _restore(snapshot: dict[Path, bytes | None]) -> None:
    for path, data in snapshot.items():
        if data is None:
            path.unlink(missing_ok=True)
        elif path.read_bytes() != data:
            path.write_bytes(data)


def measure(command: list[str], log: Path, environment: dict[str, str] | None = None) -> dict:
    """Run ``command`` under the wrapper (with ``environment`` added), its output to ``log``; its
    time until it exits and until the work it left in the background (cache stores) is done too,
    its CPU time (user and system, of the processes it waited for: steadier than the wall time on a
    shared machine), exit code and peak RSS."""
    with log.open("w", encoding="utf-8") as stream:
        done = subprocess.run(
            [sys.executable, "-c", WRAPPER, *command],
            stdout=subprocess.PIPE,
            stderr=stream,
            text=True,
            check=True,
            env=ENVIRONMENT | (environment or {}),
        )
    result = json.loads(done.stdout)
    return {
        "seconds": round(result["seconds"], 3),
        "settled_seconds": round(result["settled"], 3),
        "cpu_seconds": round(result["user"] + result["system"], 3),
        # Apart too: on these machines the system time swings most (from 5 to 25 s for one build).
        "user_cpu_seconds": round(result["user"], 3),
        "peak_rss_mb": round(result["maxrss"] * RSS_BYTES / 2**20, 1),
        "returncode": result["returncode"],
    }


def prepare_corpus(out: Path, records: int, seed: int) -> Path:
    """OUT/corpus-N, generated unless it already holds this very corpus."""
    corpus = out / f"corpus-{records}"
    marker = corpus / make_corpus.MARKER
    if marker.is_file() and json.loads(marker.read_text()) == make_corpus.corpus_marker(records, seed):
        print(f"reusing {corpus}")
    else:
        print(f"generating {records} records into {corpus} ...")
        make_corpus.write_corpus(corpus, records, seed)
    return corpus


def git_commit(checkout: Path) -> str | None:
    try:
        done = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=checkout, capture_output=True, text=True)
    except OSError:
        return None
    return done.stdout.strip() if done.returncode == 0 else None


def _run_step(name: str, command: list[str], log: Path, environment: dict[str, str]) -> dict:
    result = {"step": name, "command": command, **measure(command, log, environment)}
    lines = log.read_text(encoding="utf-8").strip().splitlines()
    result["last_line"] = (lines or [""])[-1]
    # The build's own account of its stages: how long Pagefind took, alongside the rest.
    indexed = [float(found[1]) for line in lines if (found := SEARCH_INDEX.search(line))]
    result["search_index_seconds"] = indexed[-1] if indexed else None  # a check, or an efflit that cannot say
    print(f"  {name:<24} {result['seconds']:>8.2f} s {result['cpu_seconds']:>8.2f} CPU s", flush=True)
    if result["returncode"]:
        print(f"  {name}: exit code {result['returncode']}: see {log}")
    return result


SERVING = re.compile(r"Serving (http://127\.0\.0\.1:([0-9]+)/)")
SERVE_EDITS = {"1 record": 0.75, "another": 0.9}  # edited while `efflit serve` runs: where in the records


def measure_serve(root: Path, log: Path, environment: dict[str, str]) -> list[dict]:
    """`efflit serve` on the knowledge base (its first build is not timed); then, for each of
    SERVE_EDITS in turn, a browser's event stream open on the page of one record, which is edited:
    the time from the edit until the page is told to reload (and shows the edit), and until the
    whole site is built again, with the server's peak RSS so far.  The first edit is the first since
    the server started; the next shows what a curator meets from then on."""
    command = [*EFFLIT, "serve", "--root", str(root), "--out", str(_site(root)), "--port", "0"]
    lines: queue.Queue[str] = queue.Queue()
    results = []
    with log.open("w", encoding="utf-8") as stream:
        server = subprocess.Popen(
            command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=ENVIRONMENT | environment
        )
        threading.Thread(target=_pump, args=(server, stream, lines), daemon=True).start()
        try:
            url, port = _wait_for(lines, SERVING).groups()
            for name, place in SERVE_EDITS.items():
                results += _serve_edit(name, place, root, url, int(port), lines, server.pid)
        finally:
            server.send_signal(signal.SIGINT)
            try:
                server.wait(30)
            except subprocess.TimeoutExpired:
                server.kill()
    for result in results:
        print(f"  {result['step']:<24} {result['seconds']:>8.2f} s", flush=True)
    return [result | {"command": command} for result in results]


def _serve_edit(name: str, place: float, root: Path, url: str, port: int, lines: queue.Queue[str], pid: int) -> list:
    record = _record_to_edit(root, place)  # found before the clock starts: 2 s at 100,000 records
    page = f"/papers/{record.stem}/"
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
    connection.request("GET", f"/__efflit/events?page={urllib.parse.quote(page)}")
    events = connection.getresponse()
    time.sleep(0.5)  # for the server to count the page as open, which it does once it answered
    started = time.perf_counter()
    _give_summary(record)
    while not events.readline().startswith(b"event: reload"):
        pass
    shown = time.perf_counter() - started
    with urllib.request.urlopen(url + page.lstrip("/"), timeout=60) as response:
        shows_edit = b"Edited." in response.read()
    built_line = _wait_for(lines, re.compile(r" built| build failed")).string.strip()
    built = time.perf_counter() - started
    connection.close()
    unmeasured = dict.fromkeys(FIGURES[1:], None) | {"returncode": 0}
    outcome = f"{page} reloaded" + (" and shows the edit" if shows_edit else ", WITHOUT the edit")
    return [
        unmeasured | {"step": f"serve, {name}: shown", "seconds": round(shown, 3), "last_line": outcome},
        unmeasured
        | {"step": f"serve, {name}: built", "seconds": round(built, 3), "peak_rss_mb": _peak_rss_mb(pid)}
        | {"last_line": built_line},
    ]


def _pump(server: subprocess.Popen, log: TextIO, lines: queue.Queue[str]) -> None:
    for line in server.stdout:
        log.write(line)
        lines.put(line)


def _wait_for(lines: queue.Queue[str], pattern: re.Pattern) -> re.Match:
    """The first line still to come that matches (the server's first build may take minutes)."""
    while not (found := pattern.search(lines.get(timeout=1800))):
        pass
    return found


def _peak_rss_mb(pid: int) -> float | None:
    """A process's own peak RSS so far (Linux), its forked workers not counted."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return None
    found = re.search(r"^VmHWM:\s+([0-9]+) kB", status, re.M)
    return round(int(found[1]) / 1024, 1) if found else None


def _run_round(corpus: Path, args: argparse.Namespace, label: str, checkout: Path) -> list[dict]:
    """Every step once, with the efflit of ``checkout``; the corpus is as before afterwards."""
    environment = _efflit_of(checkout)
    usage = subprocess.run([*EFFLIT, "build", "--help"], capture_output=True, text=True, env=ENVIRONMENT | environment)
    results = []
    original = _snapshot(corpus)
    try:
        for name, command, edit in steps(corpus, "--timings" in usage.stdout, checkout / "templates"):
            if edit:
                edit(corpus)
            slug = re.sub(r"[^a-z0-9]+", "-", f"{name} {label}").strip("-")
            results.append(_run_step(name, command, args.out / f"{slug}-{args.records}.log", environment))
        results += measure_serve(corpus, args.out / f"serve-{label}-{args.records}.log", environment)
    finally:
        _restore(original)
    return results


def _efflit_of(checkout: Path) -> dict[str, str]:
    """The environment under which ``EFFLIT`` runs the efflit of ``checkout``, however efflit is
    installed (a copy, not this checkout as editable, would otherwise be measured for this one)."""
    return {"PYTHONPATH": os.pathsep.join([str(checkout), *filter(None, [os.environ.get("PYTHONPATH")])])}


def _imported_from(checkout: Path) -> Path:
    """Where the efflit run for ``checkout`` comes from: a wrong path would compare this one with itself."""
    found = subprocess.run(
        [sys.executable, "-P", "-c", "import efflit; print(efflit.__file__)"],  # -P: not from the working folder
        capture_output=True,
        text=True,
        env=ENVIRONMENT | _efflit_of(checkout),
    )
    return Path(found.stdout.strip()).resolve().parent.parent if found.returncode == 0 else Path()


FIGURES = ("seconds", "settled_seconds", "cpu_seconds", "user_cpu_seconds", "peak_rss_mb", "search_index_seconds")


def _summary(runs: list[dict]) -> dict:
    """A step's median over the rounds (and its fastest and slowest run), with the runs themselves.
    A figure no run measured is None."""
    summary = {"step": runs[0]["step"]}
    for figure in FIGURES:
        measured = [run[figure] for run in runs if run[figure] is not None]
        summary[figure] = round(statistics.median(measured), 3) if measured else None
        if figure in ("seconds", "cpu_seconds"):
            summary[f"min_{figure}"], summary[f"max_{figure}"] = (
                min(measured, default=None),
                max(measured, default=None),
            )
    return summary | {"last_line": runs[-1]["last_line"], "runs": runs}


def _table(variants: dict[str, list[dict]]) -> str:
    """One line per step: each variant's median wall time, settled time, CPU time (and its user
    part), peak memory and search indexing time (which the build reports: Pagefind runs alongside
    the rest)."""
    labels = list(variants)
    named = len(labels) > 1  # a single variant's columns need no name
    header = f"{'step':<24}" + "".join(
        f" {(label + ' ' if named else '') + column:>{max(12, len(label) + 9)}}"
        for label in labels
        for column in ("s", "settled", "CPU s", "user s", "RSS MB", "index s")
    )
    lines = [header]
    for index, step in enumerate(variants[labels[0]]):
        cells = "".join(
            f" {_cell(variants[label][index][figure]):>{max(12, len(label) + 9)}}"
            for label in labels
            for figure in FIGURES
        )
        lines.append(f"{step['step']:<24}{cells}  {variants[labels[-1]][index]['last_line']}")
    return "\n".join(lines)


def _cell(figure: float | None) -> str:
    return "-" if figure is None else f"{figure:.2f}"


def results_header(args: argparse.Namespace) -> dict:
    """What a results file says of the run that made it."""
    return {
        "records": args.records,
        "seed": args.seed,
        "rounds": args.rounds,
        "date": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "commit": git_commit(REPO),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--records", type=int, default=10_000, help="corpus size (default 10000)")
    parser.add_argument("--seed", type=int, default=1, help="corpus seed (default 1)")
    parser.add_argument("--out", type=Path, default=REPO / "benchmarks" / "out", help="output folder")
    parser.add_argument("--rounds", type=int, default=1, help="runs of every step; the median is shown (default 1)")
    parser.add_argument("--against", type=Path, help="another checkout of efflit, run in turns with this one")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    corpus = prepare_corpus(args.out, args.records, args.seed)
    _empty_trash(args.out)  # left by an interrupted run
    _settle(args.out)

    checkouts = {"this": REPO} if args.against is None else {"other": args.against.resolve(), "this": REPO}
    for checkout in checkouts.values():
        if _imported_from(checkout) != checkout:
            sys.exit(f"{checkout} holds no efflit package (efflit/__init__.py) to run: give a checkout's top folder")
    runs: dict[str, list[list[dict]]] = {label: [] for label in checkouts}
    for number in range(1, args.rounds + 1):
        order = list(checkouts.items())
        for label, checkout in order if number % 2 else order[::-1]:  # neither always first
            print(f"round {number} of {args.rounds}: {label} ({checkout}) ...", flush=True)
            runs[label].append(_run_round(corpus, args, label, checkout))
    _empty_trash(args.out)
    variants = {label: [_summary(list(step)) for step in zip(*rounds, strict=True)] for label, rounds in runs.items()}
    print(f"\nmedian of {args.rounds} round(s):\n{_table(variants)}")

    report = results_header(args) | {"steps": variants["this"]}
    if args.against is not None:
        report["against"] = {"checkout": str(checkouts["other"]), "commit": git_commit(checkouts["other"])}
        report["against"]["steps"] = variants["other"]
    path = args.out / f"results-{args.records}.json"
    path.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    print(f"\nwrote {path}")


if __name__ == "__main__":
    main()
