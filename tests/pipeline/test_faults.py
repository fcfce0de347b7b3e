"""Faults: a build killed at any moment, a full disk, a read-only output folder, and the curation
commands (`add`, `import bib`, `fmt`) killed or run beside records they were not asked to change.

The knowledge base of the kill tests is a synthetic corpus of 300 records made by
benchmarks/make_corpus.py, large enough that a build takes a second or two.
"""

from __future__ import annotations

import ctypes
import json
import os
import re
import resource
import shutil
import signal
import subprocess
import sys
import time
from html.parser import HTMLParser
from pathlib import Path

import pytest
import yaml

from kbtools import FIXTURES, REPOSITORY, eventually

RECORDS = 300
KILLS_SPREAD = 24  # kill points spread evenly over most of a build (a build's time varies between runs)
KILLS_AFTER_INDEXING = [0.0, 0.01, 0.05, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.8]  # seconds: up to and around the swap
FMT_KILLS = 12


def efflit(*args: object, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "efflit", *map(str, args)], capture_output=True, text=True, **kwargs)


def start(*args: object, **kwargs) -> subprocess.Popen:
    """`efflit ARGS` in its own process group, so a kill reaches the Pagefind child too."""
    return subprocess.Popen(
        [sys.executable, "-m", "efflit", *map(str, args)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
        **kwargs,
    )


def kill_at(process: subprocess.Popen, started: float, moment: float) -> bool:
    """SIGKILL the process group at ``moment`` seconds after ``started``; False when it had already ended."""
    time.sleep(max(0.0, started + moment - time.monotonic()))
    finished = process.poll() is not None
    if not finished:
        os.killpg(process.pid, signal.SIGKILL)
    process.wait()
    return finished


def kill_after_indexing(process: subprocess.Popen, kb: Path, delay: float) -> bool:
    """SIGKILL ``delay`` seconds after Pagefind has written its index into the staging folder: the
    build then only checks its links and swaps, the moment a mix of sites would come from."""
    while not list(kb.glob(".site.staging-*/pagefind/pagefind-entry.json")) and process.poll() is None:
        time.sleep(0.001)
    return kill_at(process, time.monotonic(), delay)


def snapshot(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def restore(folder: Path, files: dict[str, bytes]) -> None:
    shutil.rmtree(folder, ignore_errors=True)
    for name, data in files.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)


def without_search_index(files: dict[str, bytes]) -> dict[str, bytes]:
    """Pagefind names some of its files after a hash that differs from run to run (its filter
    files are not reproducible), so the bundle is compared by shape, the rest byte for byte."""
    return {name: data for name, data in files.items() if not name.startswith("pagefind/")}


def search_index_shape(files: dict[str, bytes]) -> list[str]:
    bundle = {name for name in files if name.startswith("pagefind/")}
    entry = json.loads(files["pagefind/pagefind-entry.json"])
    for language in entry["languages"].values():  # the entry names a metadata file that is there
        assert f"pagefind/pagefind.{language['hash']}.pf_meta" in bundle
    return sorted({name.rsplit("/", 1)[0] for name in bundle} | {str(len(bundle))})


class _Parser(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []

    def handle_starttag(self, tag, attrs) -> None:
        self.tags.append(tag)

    def handle_endtag(self, tag) -> None:
        self.tags.append("/" + tag)


def parses(html: bytes) -> bool:
    parser = _Parser()
    parser.feed(html.decode("utf-8"))
    parser.close()
    return parser.tags[:1] == ["html"] and parser.tags[-1] == "/html" and "/main" in parser.tags


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("corpus") / "kb"
    subprocess.run(
        [sys.executable, REPOSITORY / "benchmarks/make_corpus.py", out, "--records", str(RECORDS)],
        check=True,
        capture_output=True,
    )
    return out


def edit_a_record(root: Path) -> str:
    """Give the first record a code link, so its page, the table and the downloads change."""
    record = sorted((root / "papers").glob("*.yaml"))[0]
    text = record.read_text(encoding="utf-8")
    assert "\ncode:" not in text
    record.write_text(text.replace("\ntags:", "\ncode: https://example.org/kill-test\ntags:", 1), encoding="utf-8")
    return record.stem


# --- a build killed at any moment -------------------------------------------------------------


def test_a_killed_build_leaves_the_previous_site_or_the_new_one(corpus, tmp_path):
    kb = tmp_path / "kb"
    shutil.copytree(corpus, kb)
    site = kb / "site"

    started = time.monotonic()
    assert efflit("build", "--root", kb).returncode == 0
    duration = time.monotonic() - started
    previous = snapshot(site)

    changed = edit_a_record(kb)
    reference = tmp_path / "reference"
    started = time.monotonic()
    assert efflit("build", "--root", kb, "--out", reference).returncode == 0
    duration = max(duration, time.monotonic() - started)
    new = snapshot(reference)
    assert without_search_index(new) != without_search_index(previous)
    edited = sorted(
        name for name, data in without_search_index(new).items() if name in previous and previous[name] != data
    )
    assert f"papers/{changed}/index.html" in edited and "papers/index.html" in edited, edited

    moments = [(duration * (0.02 + 0.9 * i / (KILLS_SPREAD - 1)), "after start") for i in range(KILLS_SPREAD)]
    moments += [(duration * late, "after start") for late in (1.0, 1.1)]  # around the end
    moments += [(delay, "after indexing") for delay in KILLS_AFTER_INDEXING]
    moments += [(float("inf"), "never")]  # one build runs to its end: the new site must come
    outcomes = []
    for moment, since in moments:
        process = start("build", "--root", kb)
        if since == "after indexing":
            finished = kill_after_indexing(process, kb, moment)
        elif since == "never":
            finished = process.wait() == 0
        else:
            finished = kill_at(process, time.monotonic(), moment)
        after = snapshot(site)
        if after == previous:
            outcome = "previous"
        else:
            assert set(without_search_index(after)) == set(without_search_index(new)), (
                f"killed {moment:.3f}s {since}: a mix of sites"
            )
            # Every file the edit changed is the new one: none of them is left from the previous site.
            # (Compared with the previous site rather than byte for byte with the reference: others
            # edit efflit's code while the tests run, and its pages may change between two builds.)
            stale = [name for name in edited if after[name] == previous[name]]
            assert stale == [], f"killed {moment:.3f}s {since}: a mix of sites, stale: {stale}"
            assert search_index_shape(after) == search_index_shape(new)
            assert parses(after["index.html"]) and parses(after[f"papers/{changed}/index.html"])
            outcome = "new" if without_search_index(after) == without_search_index(new) else "new (code changed)"
            restore(site, previous)  # so that the next kill again has "previous" to keep
        strays = sorted(p.name for p in kb.iterdir() if p.name.startswith(".site."))
        outcomes.append((f"{moment:.3f}s {since}", "finished" if finished else "killed", outcome, strays))

    print(f"\nbuild takes {duration:.2f}s; kill points (when, process, site, stray folders):")
    for row in outcomes:
        print("   ", *row)
    assert sum(o[1] == "killed" for o in outcomes) >= 20, outcomes
    assert {o[2].split()[0] for o in outcomes} == {"previous", "new"}, outcomes  # both ends were reached

    # Whatever the kills left beside the site does not break the next build, which cleans up.
    result = efflit("build", "--root", kb)
    assert result.returncode == 0, result.stdout + result.stderr
    final = snapshot(site)
    assert set(final) - {n for n in final if n.startswith("pagefind/")} == set(without_search_index(new))
    assert all(final[name] != previous[name] for name in edited)
    # Beside it stays only the site it replaced, as the back copy the next build stages in.
    assert eventually(lambda: [p.name for p in kb.iterdir() if p.name.startswith(".site.")] == [".site.back"])


# --- full disk and read-only output -----------------------------------------------------------


def tiny_site(tmp_path: Path) -> tuple[Path, Path, dict[str, bytes]]:
    """The tiny knowledge base built into OUT/site, then edited so that the next build differs."""
    kb = tmp_path / "kb"
    shutil.copytree(FIXTURES / "tiny", kb)
    out = tmp_path / "out"
    out.mkdir()
    assert efflit("build", "--root", kb, "--out", out / "site").returncode == 0
    record = kb / "papers/example2023quantizing.yaml"
    record.write_text(record.read_text().replace("A *fabricated* paper", "A *changed* paper"))
    return kb, out, snapshot(out / "site")


def assert_clean_failure(result: subprocess.CompletedProcess, *reasons: str) -> None:
    output = result.stdout + result.stderr
    assert result.returncode == 1, output
    assert "Traceback" not in output, output
    assert any(reason in output for reason in reasons), output


def limit_file_size(limit: int):
    def apply() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # writes beyond the limit fail with EFBIG instead
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    return apply


# The tiny site's pages are a few kB each; Pagefind's bundle has files of 40-180 kB.
@pytest.mark.parametrize(
    "limit",
    [
        0,
        3_000,
        60_000,
        100_000,
    ],
    ids=["nothing-fits", "pages-do-not-fit", "search-ui-does-not-fit", "search-index-half-fits"],
)
def test_a_full_disk_is_a_clean_error_and_keeps_the_previous_site(tmp_path, limit):
    """A full disk, simulated by RLIMIT_FSIZE: every write past `limit` bytes of a file fails."""
    kb, out, previous = tiny_site(tmp_path)
    result = efflit("build", "--root", kb, "--out", out / "site", preexec_fn=limit_file_size(limit))
    assert_clean_failure(result, "cannot write the site", "Pagefind failed", "Pagefind left")
    assert snapshot(out / "site") == previous
    assert [p.name for p in out.iterdir()] == ["site"]
    for line in result.stdout.splitlines():  # the error says what went wrong, not just that it did
        assert not re.search(r"(:| no)\s*$", line), line


def blocks(files: dict[str, bytes]) -> int:
    """Bytes the files take on a tmpfs: whole 4 kB pages."""
    return sum(-(-len(data) // 4096) * 4096 for data in files.values())


@pytest.mark.parametrize(
    "room",
    [
        "pages",
        "search-index",
    ],
)
def test_a_full_tmpfs_is_a_clean_error_and_keeps_the_previous_site(tmp_path, room):
    """A real full disk: the output folder on a small tmpfs, with room for the previous site and
    either a few pages more, or the new pages but not the search index."""
    kb, out, previous = tiny_site(tmp_path)
    extra = 20_000 if room == "pages" else blocks(without_search_index(previous)) + 100_000
    mount = tmp_path / "disk"
    mount.mkdir()
    size = blocks(previous) + extra
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", mount], capture_output=True)
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.decode().strip()}")
    try:
        restore(mount / "site", previous)
        result = efflit("build", "--root", kb, "--out", mount / "site")
        assert_clean_failure(result, "No space left on device", "Pagefind left")
        assert snapshot(mount / "site") == previous
        assert [p.name for p in mount.iterdir()] == ["site"]
    finally:
        subprocess.run(["umount", mount], check=True)


_libc = ctypes.CDLL(None, use_errno=True)
_PR_CAPBSET_DROP = 24
_CAP_DAC_OVERRIDE, _CAP_DAC_READ_SEARCH, _CAP_FOWNER = 1, 2, 3


def without_root_privileges() -> None:
    """Tests run as root here, and root writes into any folder whatever its mode.  Dropping the
    capabilities that let it (from the bounding set, before exec) makes root obey the mode bits as
    the owner of the files, like any user: an honest read-only folder, no tricks with paths."""
    for cap in (_CAP_DAC_OVERRIDE, _CAP_DAC_READ_SEARCH, _CAP_FOWNER):
        if _libc.prctl(_PR_CAPBSET_DROP, cap, 0, 0, 0) != 0:
            raise OSError(ctypes.get_errno(), "prctl(PR_CAPBSET_DROP)")


def unprivileged() -> dict:
    return {"preexec_fn": without_root_privileges} if os.geteuid() == 0 else {}


def test_a_read_only_output_folder_is_a_clean_error_and_keeps_the_previous_site(tmp_path):
    kb, out, previous = tiny_site(tmp_path)
    out.chmod(0o555)  # the folder that holds the site: no staging folder, no swap
    try:
        result = efflit("build", "--root", kb, "--out", out / "site", **unprivileged())
    finally:
        out.chmod(0o755)
    assert_clean_failure(result, "cannot write the site: Permission denied")
    assert snapshot(out / "site") == previous
    assert [p.name for p in out.iterdir()] == ["site"]


def test_a_read_only_site_folder_does_not_break_later_builds(tmp_path):
    kb, out, previous = tiny_site(tmp_path)
    (out / "site").chmod(0o555)
    try:
        first = efflit("build", "--root", kb, "--out", out / "site", **unprivileged())
        second = efflit("build", "--root", kb, "--out", out / "site", **unprivileged())
    finally:
        for folder in out.iterdir():
            folder.chmod(0o755)
    assert first.returncode in (0, 1) and "Traceback" not in first.stdout + first.stderr
    assert second.returncode == 0, second.stdout + second.stderr
    assert sorted(p.name for p in out.iterdir()) == [".site.back", "site"]  # the replaced site is the back copy


# --- curation commands: atomic files, untouched records ---------------------------------------


def records(root: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted((root / "papers").iterdir()) if p.is_file()}


def no_temporary_files(root: Path) -> None:
    assert [p.name for p in (root / "papers").iterdir() if p.name.startswith(".")] == []


def test_add_changes_no_other_record(kb):
    before = records(kb)
    entry = "@inproceedings{x, title={Tiny Test Paper}, author={Zed, Zoe}, booktitle={ICML}, year={2024}}"
    result = efflit("add", "--root", kb, "--tag", "inference/quantization", input=entry)
    assert result.returncode == 0, result.stdout + result.stderr
    after = records(kb)
    assert set(after) == set(before) | {"zed2024tiny.yaml"}
    assert {n: d for n, d in after.items() if n not in ("zed2024tiny.yaml", "references.bib")} == {
        n: d for n, d in before.items() if n != "references.bib"
    }
    assert after["references.bib"].startswith(before["references.bib"].rstrip(b"\n"))  # only appended
    no_temporary_files(kb)


def test_add_merging_into_a_record_changes_only_that_record(kb):
    before = records(kb)
    entry = '@article{dup, title={Attention at a Discount}, author={M{\\"u}ller, J{\\"o}rg}, year={2022}, doi={10.1234/discount}}'
    result = efflit("add", "--root", kb, "--tag", "architecture/efficient-attention", input=entry)
    assert result.returncode == 0, result.stdout + result.stderr
    after = records(kb)
    assert set(after) == set(before)
    changed = sorted(n for n in before if before[n] != after[n] and n.endswith(".yaml"))
    assert changed == ["muller2022attention.yaml"], changed
    assert b"doi: 10.1234/discount" in after["muller2022attention.yaml"]
    no_temporary_files(kb)


def test_a_merge_that_needs_no_bibtex_change_leaves_references_bib_alone(kb):
    before = records(kb)
    entry = '@misc{dup, title={Attention at a Discount}, author={M{\\"u}ller, J{\\"o}rg}, year={2022}, doi={10.1234/discount}}'
    assert efflit("add", "--root", kb, "--tag", "inference/kv-cache", input=entry).returncode == 0
    assert records(kb)["references.bib"] == before["references.bib"]


def test_import_bib_changes_only_the_records_it_merges_into(kb, tmp_path):
    bib = tmp_path / "in.bib"
    bib.write_text(
        "@article{new1, title={A Brand New Paper}, author={Neu, Nina}, year={2025}, journal={TMLR}}\n"
        "@misc{caching, title={Caching Keys Without Authors}, author={Keys, Kim}, year={2024}}\n"
        "@misc{broken, title={No Year Here}}\n"
    )
    before = records(kb)
    result = efflit("import", "bib", "--root", kb, "--tag", "inference/kv-cache", bib)
    assert result.returncode == 0, result.stdout + result.stderr
    after = records(kb)
    new = sorted(set(after) - set(before))
    assert new == ["neu2025brand.yaml"], new
    changed = sorted(n for n in before if before[n] != after[n])
    assert changed == ["caching2024.yaml", "references.bib"], result.stdout
    no_temporary_files(kb)
    assert efflit("check", "--root", kb).returncode == 0


def test_fmt_rewrites_only_records_not_in_canonical_form(kb):
    assert efflit("fmt", "--root", kb).returncode == 0
    before = records(kb)  # every record canonical
    messy = kb / "papers/example2023quantizing.yaml"
    messy.write_text(before[messy.name].decode().replace("year: 2023\n", "") + "year: 2023\n")
    result = efflit("fmt", "--root", kb)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "1 of 3 records reformatted" in result.stderr
    assert records(kb) == before
    no_temporary_files(kb)


def test_a_killed_fmt_leaves_every_record_old_or_new(corpus, tmp_path):
    kb = tmp_path / "kb"
    shutil.copytree(corpus, kb)
    for record in (kb / "papers").glob("*.yaml"):  # out of canonical order: the id last
        first, rest = record.read_text(encoding="utf-8").split("\n", 1)
        record.write_text(rest + first + "\n", encoding="utf-8")
    old = records(kb)
    started = time.monotonic()
    assert efflit("fmt", "--root", kb).returncode == 0
    duration = time.monotonic() - started
    new = records(kb)
    rewritten = [name for name in old if old[name] != new[name]]
    assert len(rewritten) >= RECORDS // 2, "the corpus should need formatting"

    outcomes = []
    for i in range(FMT_KILLS):
        restore(kb / "papers", old)
        moment = duration * (0.1 + 0.85 * i / (FMT_KILLS - 1))
        finished = kill_at(start("fmt", "--root", kb), time.monotonic(), moment)
        now = records(kb)
        temporary = [name for name in now if name.endswith(".tmp")]
        now = {name: data for name, data in now.items() if name not in temporary}
        assert set(now) == set(old)
        mixed = [name for name in now if now[name] not in (old[name], new[name])]
        assert mixed == [], f"killed at {moment:.2f}s: {mixed[:5]}"
        for name in rewritten:
            assert isinstance(yaml.safe_load(now[name]), dict), name
        done = sum(now[name] == new[name] for name in rewritten)
        outcomes.append((round(moment, 2), "finished" if finished else "killed", done, len(temporary)))

    print(f"\nfmt takes {duration:.2f}s; kill points (seconds, process, records rewritten, temporary files left):")
    for row in outcomes:
        print("   ", *row)
    assert any(0 < done < len(rewritten) for _, _, done, _ in outcomes), "no kill landed mid-way"
    result = efflit("check", "--root", kb)  # temporary files a kill left behind are no records
    assert result.returncode == 0 and ".tmp" not in result.stdout, result.stdout
