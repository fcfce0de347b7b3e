"""Property: whatever bytes or YAML a file holds, the pipeline returns records or problems, never raises."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import yaml
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from efflit.base.forks import wait_meanwhile
from efflit.kb.bibtex import load_bib, normalize, split_names
from efflit.kb.catalog import build_catalog
from efflit.kb.load import load_yaml
from efflit.kb.problems import Report
from efflit.kb.project import Options
from efflit.kb.validate import validate_record
from efflit.memory.cache import CACHE
from efflit.pipeline.build import build
from efflit.pipeline.check import check
from efflit.site import render
from efflit.site.render import pages, render_files, render_pages
from efflit.site.write import SiteWriter
from kbtools import FIXTURES, assert_no_script, write

FIELDS = [
    "id",
    "title",
    "authors",
    "year",
    "venue",
    "arxiv",
    "doi",
    "url",
    "code",
    "tags",
    "summary",
    "source",
    "added",
]

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=False),
    st.text(max_size=30),
    st.dates(),
    st.sampled_from(["2301.10010", "on", "no", "inference/quantization", "https://x.org", "javascript:x", "../x"]),
)
values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=12,
)
records = st.dictionaries(st.sampled_from(FIELDS) | st.text(max_size=8), values, max_size=14)

settings.register_profile("default", max_examples=150, suppress_health_check=[HealthCheck.function_scoped_fixture])
# `HYPOTHESIS_PROFILE=long python -m pytest tests/test_fuzz.py` runs a much longer pass.
settings.register_profile(
    "long",
    max_examples=5000,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large],
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))
LONG = settings.default.max_examples > 500


def examples(default: int) -> int:
    """A test's own number of examples: modest by default, fifty times more in the long pass."""
    return default * 50 if LONG else default


@given(st.binary(max_size=400))
def test_arbitrary_bytes_never_raise(data):
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "x.yaml"
        path.write_bytes(data)
        report = Report()
        document = load_yaml(path, "x.yaml", report)
        assert document is not None or report.errors


@given(records)
def test_arbitrary_yaml_documents_give_records_or_problems(data):
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "x.yaml"
        path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
        report = Report()
        document = load_yaml(path, "x.yaml", report)
        if document is not None:
            paper = validate_record(document, report)
            assert paper is not None or report.errors


@settings(max_examples=examples(40), deadline=None)
@given(records)
def test_whole_check_never_raises(data):
    with scratch_folder() as folder:
        root = Path(folder) / "kb"
        shutil.copytree(FIXTURES / "tiny", root)
        (root / "papers/fuzz.yaml").write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
        _, report = check(root)
        assert all(p.position.line >= 1 and p.position.column >= 1 for p in report.problems)


# --- generated knowledge bases: loader, checks and renderer together -----------------------------


PAYLOADS = [
    "<script>alert(1)</script>",
    '"><img src=x onerror=alert(1)>',
    "[x](javascript:alert(1))",
    "![x](data:text/html,<script>alert(1)</script>)",
    "{: onclick=alert(1) }",
    "expression(alert(1))",
    "{{ 7*7 }}",
    "{% raw %}",
    "\\'{e}",
    "$x^2$",
    "\\foo{",
    "{",
    "}",
    "@",
    "%",
    "#",
    ",",
    " and ",
    "others",
    "\u202e",
    "\u2028",
    "\x00",
    "\x85",
    "\ufeff",
    "../",
    "..",
    "/",
    "\\",
    "con",
    "index",
    ": ",
    "- ",
    "&amp;",
    "]]>",
    "<!--",
    "é",
    "ß",
    "İ",
    "𝔘",
    "日本",
    "",
]
pieces = st.one_of(st.sampled_from(PAYLOADS), st.text(max_size=12))
texts = st.lists(pieces, max_size=6).map("".join)  # anything, controls and all
# Text the model accepts on one line: payloads and any printable characters but BibTeX's specials,
# so that most generated knowledge bases pass the checks and reach the renderer.
SAFE_PAYLOADS = [p for p in PAYLOADS if p.isprintable() and p.strip() and not set(p) & set("{}@%\\,")]
printable = st.characters(
    min_codepoint=0x20, max_codepoint=0x2FFFF, exclude_categories=["Cc", "Cf", "Cs", "Zl", "Zp", "Co", "Cn"]
)
safe_pieces = st.one_of(
    st.sampled_from(SAFE_PAYLOADS), st.text(printable, max_size=10).filter(lambda t: not set(t) & set("{}@%\\,"))
)
line_texts = st.lists(safe_pieces, min_size=1, max_size=5).map("".join).map(str.strip).filter(bool)
words = st.text(st.characters(min_codepoint=0x41, max_codepoint=0x7A, categories=["Lu", "Ll"]), min_size=1, max_size=9)
plain_titles = st.lists(words, min_size=1, max_size=6).map(" ".join)
titles = st.one_of(plain_titles, line_texts, st.tuples(plain_titles, line_texts).map(" ".join))
# Not the word "and", which joins names in BibTeX's author field: the entry would name other authors.
names = st.one_of(st.tuples(words, words).map(" ".join), st.tuples(words, line_texts).map(" ".join)).filter(
    lambda name: "and" not in name.lower().split()
)
TAGS = ["inference", "inference/quantization", "inference/kv-cache", "architecture/efficient-attention"]
url_tails = st.text(st.characters(min_codepoint=0x21, max_codepoint=0x7E), max_size=30)
urls = st.one_of(
    st.sampled_from(["https://example.org/x", "http://a.b", "https://x.org/?q=<script>", "http://localhost:8000/"]),
    url_tails.map(lambda t: "https://example.org/" + t),
)


def maybe(strategy):
    return st.one_of(st.none(), strategy)


@st.composite
def valid_ish_records(draw, sound: bool = False) -> dict:
    """Records that are mostly right, with payloads in their text, and now and then one thing wrong."""
    data = {
        "id": draw(st.from_regex(r"\A[a-z][a-z0-9]{0,12}(?:[-_][a-z0-9]{1,6})?\Z")),
        "title": draw(titles),
        "authors": draw(st.lists(names, max_size=4)),
        "year": draw(st.integers(1950, 2100)),
        "venue": draw(maybe(line_texts | st.sampled_from(["arXiv", "NeurIPS"]))),
        "arxiv": draw(maybe(st.sampled_from(["2301.10010", "2401.00001", "hep-th/9901001", "0704.0001"]))),
        "doi": draw(maybe(url_tails.filter(bool).map(lambda t: "10.1234/" + t))),
        "url": draw(maybe(urls)),
        "pdf": draw(maybe(urls)),
        "code": draw(maybe(urls)),
        "tags": draw(st.lists(st.sampled_from(TAGS), min_size=1, max_size=3, unique=True)),
        "summary": draw(maybe(st.lists(texts | st.sampled_from(PAYLOADS), max_size=8).map("\n".join))),
        "bibkey": draw(maybe(st.from_regex(r"\A[A-Za-z0-9:<>/`_-]{1,20}\Z"))),
        "source": draw(
            st.lists(
                st.one_of(
                    st.fixed_dictionaries({"person": line_texts}),
                    st.fixed_dictionaries({"list": line_texts, "section": line_texts}),
                    st.fixed_dictionaries({"file": line_texts}),
                    st.just({"api": "arXiv"}),
                ),
                min_size=1,
                max_size=3,
            )
        ),
        "added": draw(st.dates()),
    }
    data = {k: v for k, v in data.items() if v is not None}
    if not sound and draw(st.integers(0, 7)) == 0:  # one thing wrong
        field = draw(st.sampled_from(sorted(data)))
        if draw(st.booleans()):
            del data[field]
        else:
            data[field] = draw(values | texts)
    return data


records_in_kb = st.one_of(*[valid_ish_records()] * 9, records)  # one in ten: any YAML at all


@st.composite
def bib_entries(draw, record: dict, sound: bool = False) -> str:
    """The record's BibTeX entry: agreeing with it, or (unless ``sound``) not, or broken."""
    wrong = st.just(1) if sound else st.integers(0, 19)  # 0: this part wrong
    key = record.get("bibkey") or record.get("id") or "x"
    if not isinstance(key, str) or draw(wrong) == 0:
        key = draw(texts)
    title = record.get("title") if isinstance(record.get("title"), str) else draw(texts)
    authors = (
        [a for a in record.get("authors", []) if isinstance(a, str)] if isinstance(record.get("authors"), list) else []
    )
    fields = {
        "title": "{" + (title if draw(wrong) else draw(texts)) + "}",
        "year": str(record.get("year")) if draw(wrong) else draw(texts),
    }
    if authors or draw(wrong) == 0:
        fields["author"] = "{" + " and ".join(authors) + "}"
    if draw(st.booleans()):
        fields[draw(st.sampled_from(["journal", "booktitle", "note", "eprint"]))] = "{" + draw(line_texts) + "}"
    if draw(wrong) == 0:
        fields[draw(st.sampled_from(["title", "note", "month", "crossref"]))] = draw(texts | st.just("jan"))
    kind = draw(st.sampled_from(["article", "inproceedings", "misc", "book", "article", ""]))
    body = ",\n".join(f"  {name} = {value}" for name, value in fields.items())
    junk = ["@comment{x}\n", "%junk\n", "@string{a = {b}}\n", "}"]
    return f"@{kind}{{{key},\n{body},\n}}\n" + ("" if draw(wrong) else draw(st.sampled_from(junk)))


@st.composite
def taxonomy_nodes(draw, depth: int = 0) -> dict:
    node = {
        "slug": draw(st.from_regex(r"\A[a-z0-9]{1,8}(?:-[a-z0-9]{1,4})?\Z") | texts),
        "name": draw(texts | words),
        "description": draw(texts | plain_titles),
    }
    if draw(st.booleans()):
        node["section"] = draw(st.sampled_from(["7", "5.1", "x", ""]))
    else:
        node["extension"] = draw(st.booleans() | st.just(True))
    if depth < 2 and draw(st.integers(0, 2)) == 0:
        node["children"] = draw(st.lists(taxonomy_nodes(depth + 1), max_size=3))
    return node


@st.composite
def taxonomies(draw, sound: bool = False) -> dict:
    """Mostly the tiny taxonomy's tree (so records' tags fit) with random names and descriptions;
    sometimes a random tree, sometimes random data."""
    choice = 9 if sound else draw(st.integers(0, 9))
    any_text = st.nothing() if sound else texts
    if choice == 0:
        return {"nodes": draw(st.lists(taxonomy_nodes(), min_size=1, max_size=3))}
    if choice == 1:
        return draw(values)
    tiny = yaml.safe_load((FIXTURES / "tiny/taxonomy.yaml").read_text())

    def scramble(nodes: list[dict]) -> None:
        for node in nodes:
            if draw(st.booleans()):
                node["name"] = draw(st.one_of(line_texts, words, line_texts, any_text))
            if draw(st.booleans()):
                node["description"] = draw(st.one_of(line_texts, plain_titles, line_texts, any_text))
            scramble(node.get("children", []))

    scramble(tiny["nodes"])
    return tiny


def toml_string(text: str) -> str:
    return '"' + "".join(c if c.isprintable() and c not in '"\\' else f"\\u{ord(c):04x}" for c in text) + '"'


@st.composite
def knowledge_bases(draw, sound: bool = False) -> dict[str, str | bytes]:
    """The files of a knowledge base: pyproject.toml, taxonomy.yaml, records and BibTeX; with ``sound``,
    ones that should pass the checks (payloads and odd text in every field, but nothing wrong)."""
    files: dict[str, str | bytes] = {}
    any_text = st.nothing() if sound else texts
    if draw(st.booleans()):
        files["pyproject.toml"] = (
            "[tool.efflit]\n"
            f"title = {toml_string(draw(st.one_of(line_texts, words, line_texts, any_text)))}\n"
            f"description = {toml_string(draw(st.one_of(line_texts, plain_titles, line_texts, any_text)))}\n"
            + draw(st.sampled_from(["", 'repository = "https://github.com/x/y"\n', 'base_url = "https://e.org/kb/"\n']))
        )
    files["taxonomy.yaml"] = dump(draw(taxonomies(sound)))
    bib = []
    kinds = valid_ish_records(sound=True) if sound else records_in_kb
    # One paper per record: its id, BibTeX key (BibTeX ignores case), arXiv id and DOI its own.
    unique = (
        lambda r: str(r.get("id")),
        lambda r: str(r.get("bibkey") or r.get("id")).casefold(),
        lambda r: str(r.get("arxiv") or r.get("id")),
        lambda r: str(r.get("doi") or r.get("id")).casefold(),
    )
    for record in draw(st.lists(kinds, min_size=1, max_size=3, unique_by=unique)):
        name = record.get("id") if isinstance(record.get("id"), str) and record["id"].isascii() else "fuzz"
        name = "".join(c for c in name if c.isalnum() or c in "-_") or "fuzz"
        files[f"papers/{name}.yaml"] = dump(record)
        bib.append(draw(bib_entries(record, sound)))
    files["papers/references.bib"] = "\n".join(bib)
    return files


class _NoAliases(yaml.SafeDumper):
    """Writes a value drawn twice in full: an anchor and alias (`&id001`, `*id001`) is YAML that
    records are not meant to hold, and made sound knowledge bases fail the check."""

    def ignore_aliases(self, data: object) -> bool:
        return True


def dump(data: object) -> str:
    return yaml.dump(data, Dumper=_NoAliases, allow_unicode=True, sort_keys=False)


def write_kb(root: Path, files: dict[str, str | bytes]) -> None:
    for name, text in files.items():
        write(root, name, text)


@contextmanager
def scratch_folder() -> Iterator[str]:
    """A temporary folder for a knowledge base, removed once the cache stores efflit left running
    in the background are done (else one can write into the folder while it is removed)."""
    with tempfile.TemporaryDirectory() as folder:
        try:
            yield folder
        finally:
            wait_meanwhile()


def tree(folder: Path) -> dict[str, bytes | None]:
    """Every entry under ``folder`` but efflit's cache: files with their bytes, folders as None."""
    return {
        p.relative_to(folder).as_posix(): (p.read_bytes() if p.is_file() else None)
        for p in sorted(folder.rglob("*"))
        if CACHE.name not in p.parts
    }


def assert_positions(report: Report) -> None:
    assert all(p.position.line >= 1 and p.position.column >= 1 for p in report.problems)
    for problem in report.problems:
        str(problem)  # every problem can be shown


@settings(max_examples=examples(60), deadline=None)
@given(st.text(max_size=300) | st.lists(st.sampled_from(PAYLOADS) | st.text(max_size=20), max_size=20).map("".join))
def test_arbitrary_bibtex_gives_entries_or_problems(text):
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "x.bib"
        path.write_text(text, encoding="utf-8", errors="surrogatepass")
        report = Report()
        for entry in load_bib(path, "x.bib", report):
            assert isinstance(entry.key, str)
            for value in entry.fields.values():
                normalize(value)  # the comparisons the link stage makes must not raise either
                split_names(value)
        assert_positions(report)


@settings(max_examples=examples(40), deadline=None)
@given(knowledge_bases() | knowledge_bases(sound=True))
def test_generated_knowledge_bases_check_and_render_without_exceptions(files):
    """The invariant: records or problems, never an exception, nothing written by a check but its
    cache, and the same problems when the files are read from that cache."""
    with scratch_folder() as folder:
        root = Path(folder) / "kb"
        write_kb(root, files)
        before = tree(Path(folder))
        kb, report = check(root)
        assert tree(Path(folder)) == before
        assert check(root)[1].sorted() == report.sorted()
        assert_positions(report)
        assert kb is not None or report.errors
        event("rendered" if kb is not None and not report.errors else "problems")
        if kb is not None and not report.errors:
            writer = SiteWriter(Path(folder) / "never-written")

            def write(path: str, data: bytes) -> None:
                writer.path(path)  # raises UnsafePath for a path that would leave the site
                assert isinstance(data, bytes)

            catalog = build_catalog(kb)
            site_pages = list(pages(catalog))
            render_pages(catalog, Options(), site_pages, write)
            render_files(catalog, Options(), list(render.files(catalog, site_pages)), write, {})
            assert tree(Path(folder)) == before


@settings(max_examples=examples(8), deadline=None)
@given(knowledge_bases(sound=True) | knowledge_bases())
def test_generated_knowledge_bases_build_only_into_the_output_folder(files):
    """The whole build, search index included: the site or problems, and no file outside --out."""
    with scratch_folder() as folder:
        base = Path(folder)
        root, scratch, out = base / "kb", base / "cwd", base / "public" / "site"
        write_kb(root, files)
        scratch.mkdir()
        before = tree(base)
        cwd = os.getcwd()
        os.chdir(scratch)  # a stray relative write would land here
        try:
            kb, report = build(root, out)
        finally:
            os.chdir(cwd)
        assert_positions(report)
        event("built" if not report.errors else "problems")
        after = tree(base)
        # The one other place a build may write: its cache in the knowledge base (.efflit-cache/).
        outside = {n: d for n, d in after.items() if not n.startswith(("public", "kb/.efflit-cache"))}
        assert outside == before
        if report.errors:
            assert not (base / "public").exists() or sorted(os.listdir(base / "public")) in ([], ["site"])
        else:
            assert kb is not None and (out / "index.html").is_file()
            assert sorted(os.listdir(base / "public")) == ["site"]


@settings(max_examples=examples(12), deadline=None)
@given(knowledge_bases(sound=True))
def test_sound_knowledge_bases_pass_the_check_and_their_sites_run_no_script(files):
    """What the generator calls sound passes the check (else the tests above would mostly see
    problems, not renders), and its payloads reach the site as text only."""
    with scratch_folder() as folder:
        root, out = Path(folder) / "kb", Path(folder) / "site"
        write_kb(root, files)
        _, report = build(root, out)
        assert not report.errors, [str(problem) for problem in report.errors]
        assert_no_script(out)
