"""Time efflit on a generated knowledge base and record each step's wall time, CPU time and peak memory.

    python benchmarks/run.py [--records 10000] [--seed 1] [--out benchmarks/out]

Generates OUT/corpus-N with make_corpus.py (reused when it already holds N records of
the same seed and generator), runs each step of ``steps()`` in a subprocess, prints a
table and writes OUT/results-N.json.  Each step's output goes to OUT/<step>-N.log; its
last line (efflit's summary) is shown and kept.

Each command runs under a fresh wrapper interpreter that reads
``getrusage(RUSAGE_CHILDREN).ru_maxrss`` after it: the peak RSS of that command's
process tree alone, which deltas of the benchmark's own counters cannot give.
"""

from __future__ import annotations

import argparse
import datetime
import json
import platform
import re
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import make_corpus

REPO = Path(__file__).resolve().parent.parent
THEME = REPO / "templates"
# The efflit installed next to this interpreter, so that no shim (pyenv, ...) is timed with it.
EFFLIT = shutil.which("efflit", path=str(Path(sys.executable).parent)) or "efflit"
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
                  "cpu": usage.ru_utime + usage.ru_stime}))
"""


Edit = Callable[[Path], None]


def _edit_record(root: Path, place: float = 0.5) -> None:
    """Give one record a summary, as a curator would: the first without one from ``place`` of the
    way through."""
    records = sorted((root / "papers").glob("*.yaml"))
    for record in records[int(len(records) * place) :]:
        text = record.read_text(encoding="utf-8")
        if "\nsummary:" not in text:
            record.write_text(text.replace("added:", "summary: Edited.\nadded:", 1))
            return


def _edit_another_record(root: Path) -> None:
    _edit_record(root, 0.25)


def _edit_taxonomy(root: Path) -> None:
    path = root / "taxonomy.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace("description: >-", "description: >-\n      Edited.", 1))


def _edit_template(root: Path) -> None:
    template = root / "templates" / "404.html"
    template.parent.mkdir(exist_ok=True)
    template.write_text((THEME / "404.html").read_text(encoding="utf-8") + "{# edited #}\n")


def _site(root: Path) -> Path:
    return root.parent / f"{root.name}-site"


def _forget(root: Path) -> None:
    """No cache of efflit's own (the OS file cache stays warm)."""
    shutil.rmtree(root / ".efflit-cache", ignore_errors=True)


def _forget_all(root: Path) -> None:
    """No cache and no previous site (nor the back copy beside it): a build from scratch."""
    _forget(root)
    shutil.rmtree(_site(root), ignore_errors=True)
    shutil.rmtree(_site(root).with_name(f".{_site(root).name}.back"), ignore_errors=True)


def steps(root: Path) -> list[tuple[str, list[str], Edit | None]]:
    """The measured steps, in order: (name, command, edit made just before)."""
    check = [EFFLIT, "check", "--root", str(root)]
    build = [EFFLIT, "build", "--root", str(root), "--out", str(_site(root))]
    return [
        ("check (cold)", check, _forget),
        ("check (warm)", check, None),
        ("build (cold)", build, _forget_all),
        ("rebuild, no change", build, None),
        ("rebuild, 1 record", build, _edit_record),  # the first since the cold build: no back copy yet
        ("rebuild, another record", build, _edit_another_record),  # staged in the back copy
        ("rebuild, taxonomy", build, _edit_taxonomy),
        ("rebuild, template", build, _edit_template),
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


def measure(command: list[str], log: Path) -> dict:
    """Run ``command`` under the wrapper, its output to ``log``; its time until it exits and until
    the work it left in the background (cache stores) is done too, its CPU time (user and system,
    of the processes it waited for: steadier than the wall time on a shared machine), exit code
    and peak RSS."""
    with log.open("w", encoding="utf-8") as stream:
        done = subprocess.run(
            [sys.executable, "-c", WRAPPER, *command], stdout=subprocess.PIPE, stderr=stream, text=True, check=True
        )
    result = json.loads(done.stdout)
    return {
        "seconds": round(result["seconds"], 3),
        "settled_seconds": round(result["settled"], 3),
        "cpu_seconds": round(result["cpu"], 3),
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


def git_commit() -> str | None:
    try:
        done = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=REPO, capture_output=True, text=True)
    except OSError:
        return None
    return done.stdout.strip() if done.returncode == 0 else None


def _run_step(name: str, command: list[str], args: argparse.Namespace) -> dict:
    log = args.out / f"{re.sub(r'[^a-z0-9]+', '-', name).strip('-')}-{args.records}.log"
    result = {"step": name, "command": command, **measure(command, log)}
    result["last_line"] = (log.read_text(encoding="utf-8").strip().splitlines() or [""])[-1]
    print(
        f"{name:<24} {result['seconds']:>8.2f} {result['settled_seconds']:>8.2f} {result['cpu_seconds']:>8.2f}"
        f" {result['peak_rss_mb']:>12.1f}"
        f"  {result['last_line']}"
    )
    if result["returncode"]:
        print(f"  exit code {result['returncode']}: see {log}")
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--records", type=int, default=10_000, help="corpus size (default 10000)")
    parser.add_argument("--seed", type=int, default=1, help="corpus seed (default 1)")
    parser.add_argument("--out", type=Path, default=REPO / "benchmarks" / "out", help="output folder")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    corpus = prepare_corpus(args.out, args.records, args.seed)

    results = []
    print(f"\n{'step':<24} {'seconds':>8} {'settled':>8} {'CPU s':>8} {'peak RSS MB':>12}")
    original = _snapshot(corpus)
    try:
        for name, command, edit in steps(corpus):
            if edit:
                edit(corpus)
            results.append(_run_step(name, command, args))
    finally:
        _restore(original)

    report = {
        "records": args.records,
        "seed": args.seed,
        "commit": git_commit(),
        "date": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "steps": results,
    }
    path = args.out / f"results-{args.records}.json"
    path.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    print(f"\nwrote {path}")


if __name__ == "__main__":
    main()
