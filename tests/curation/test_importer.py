"""Importing: BibTeX files, de-duplication and merging, idempotence, and the BibTeX round trip."""

from __future__ import annotations

import shutil

import bibtexparser
from click.testing import CliRunner

from efflit.cli import main
from efflit.curation.importer import generated_id
from efflit.kb.bibtex import decode_latex, split_names
from efflit.pipeline.build import build
from kbtools import FIXTURES, RECORD, REPOSITORY, errors, write

QUIRKS = FIXTURES / "import/quirks.bib"


def run(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


def snapshot(folder):
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir()) if p.is_file()}


def test_generated_ids():
    assert generated_id(["Tri Dao", "Dan Fu"], 2022, "FlashAttention: Fast and Exact") == "dao2022flashattention"
    assert generated_id(["Jörg Müller"], 2021, "The Sparse Way") == "muller2021sparse"
    assert generated_id([], 2023, "Efficient Streaming Language Models") == "efficient2023streaming"


def test_import_bib_reports_added_and_skipped_and_writes_sound_records(kb):
    result = run("import", "bib", "--root", kb, "--tag", "inference/quantization", QUIRKS)
    assert result.exit_code == 0, result.output
    assert "quirks.bib:4: added: papers/muller2021sparse.yaml" in result.output
    assert "quirks.bib:31: skipped: BibTeX block could not be parsed" in result.output
    assert "3 added, 0 merged, 1 skipped" in result.output
    record = (kb / "papers/muller2021sparse.yaml").read_text()
    assert "title: Sparse Quantized Adapters for LLMs\n" in record  # braces and line wrap gone
    assert "  - Jörg Müller\n  - Ana García\n" in record  # accents decoded, "others" dropped
    assert "venue: NeurIPS\n" in record  # @string resolved to the full name, which venues.yaml calls NeurIPS
    assert "bibkey: Muller:2021:Sparse\n" in record  # the citation key stays
    assert "arxiv: '2305.01234'" in (kb / "papers/smith2023streaming.yaml").read_text()  # version dropped
    assert "doi: 10.1234/kv.2024.7" in (kb / "papers/doe2024kv.yaml").read_text()
    assert errors(kb) == []


def test_importing_twice_adds_nothing(kb):
    run("import", "bib", "--root", kb, "--tag", "inference/quantization", QUIRKS)
    before = snapshot(kb / "papers")
    again = run("import", "bib", "--root", kb, "--tag", "inference/quantization", QUIRKS)
    assert "0 added, 0 merged, 4 skipped" in again.output
    assert "quirks.bib:4: skipped: already in papers/muller2021sparse.yaml" in again.output
    assert snapshot(kb / "papers") == before


def test_entries_without_a_tag_are_listed_as_needing_one(kb):
    result = run("import", "bib", "--root", kb, QUIRKS)
    assert (
        "quirks.bib:14: skipped: 'Streaming Attention with Bounded Memory': needs a taxonomy tag (use --tag)"
        in result.output
    )
    assert not (kb / "papers/smith2023streaming.yaml").exists()


def test_a_known_paper_is_merged_not_duplicated(kb, tmp_path):
    bib = tmp_path / "more.bib"
    bib.write_text(
        "@article{dup, title={Quantizing imaginary models: a test record}, author={Example, Ada},"
        " year={2023}, eprint={2301.10010}, archivePrefix={arXiv}}\n"
        "@article{dup2, title={Dup within the input}, year={2020}}\n@article{dup3, title={Dup Within The Input}, year={2020}}\n"
    )
    result = run("import", "bib", "--root", kb, "--tag", "inference/kv-cache", bib)
    assert "more.bib:1: merged: into papers/example2023quantizing.yaml: +source, +tags" in result.output
    assert "more.bib:3: skipped: already in papers/dup2020within.yaml" in result.output
    record = (kb / "papers/example2023quantizing.yaml").read_text()
    assert "  - file: more.bib\n" in record and "  - inference/kv-cache\n" in record
    assert "person: efflit test suite" in record  # the first source stays
    assert errors(kb) == []


def test_merging_keeps_the_curators_comments_and_fields(kb, tmp_path):
    path = kb / "papers/caching2024.yaml"
    path.write_text("# checked by hand\n" + path.read_text().replace("year: 2024", "year: 2024  # not 2023"))
    bib = tmp_path / "more.bib"
    bib.write_text(
        "@misc{c, title={Caching Keys Without Authors}, author={Roe, Rita}, year={2024}, url={https://example.org/other}}\n"
    )
    result = run("import", "bib", "--root", kb, "--tag", "inference/kv-cache", bib)
    assert "merged: into papers/caching2024.yaml: +source, +authors" in result.output
    text = path.read_text()
    assert text.startswith("# checked by hand\n") and "year: 2024  # not 2023" in text
    assert "url: https://example.org/papers/caching\n" in text  # never overwritten
    assert errors(kb) == []  # the BibTeX entry got the authors too


def test_round_trip_bib_to_site_bib(kb):
    run("import", "bib", "--root", kb, "--tag", "inference/quantization", QUIRKS)
    _, report = build(kb)
    assert not report.errors

    def entries(text):
        return {e.key: {f.key.lower(): f.value for f in e.fields} for e in bibtexparser.parse_string(text).entries}

    source = entries(QUIRKS.read_text())
    site = entries((kb / "site/downloads/efflit.bib").read_text())
    assert set(source) <= set(site)
    for key, entry in source.items():
        out = site[key]
        assert decode_latex(out["title"]) == decode_latex(entry["title"])
        assert [decode_latex(n) for n in split_names(out["author"])] == [
            decode_latex(n) for n in split_names(entry["author"])
        ]
        assert out["year"] == entry["year"]


def test_interrupted_import_can_be_rerun_to_the_same_result(kb, tmp_path):
    reference = tmp_path / "reference"
    shutil.copytree(kb, reference)
    run("import", "bib", "--root", reference, "--tag", "inference/quantization", QUIRKS)
    # An import killed after writing the BibTeX file and one record, before the others:
    run("import", "bib", "--root", kb, "--tag", "inference/quantization", QUIRKS)
    (kb / "papers/doe2024kv.yaml").unlink()
    (kb / "papers/smith2023streaming.yaml").unlink()
    run("import", "bib", "--root", kb, "--tag", "inference/quantization", QUIRKS)
    assert snapshot(kb / "papers") == snapshot(reference / "papers")


def test_import_refuses_a_broken_knowledge_base(kb):
    path = kb / "papers/caching2024.yaml"
    path.write_text(path.read_text().replace("year: 2024", "year: x"))
    result = run("import", "bib", "--root", kb, "--tag", "inference/quantization", QUIRKS)
    assert result.exit_code == 1
    assert "papers/caching2024.yaml:4:7: error" in result.output and "nothing was written" in result.output
    assert not (kb / "papers/muller2021sparse.yaml").exists()


def test_new_record_passes_the_model_and_check(kb):
    (kb / "papers/r2020.yaml").write_text(RECORD.format(id="r2020", title="Unlinked"))
    result = run("import", "bib", "--root", kb, "--tag", "inference/quantization", QUIRKS)
    assert result.exit_code == 1  # r2020 has no BibTeX entry: the base is not sound


SOURCES = REPOSITORY / "sources"
XNHYACINTH = (FIXTURES / "import/xnhyacinth.md", SOURCES / "Xnhyacinth__Awesome-LLM-Long-Context-Modeling.yaml")
AIOT = (FIXTURES / "import/aiot.md", SOURCES / "AIoT-MLSys-Lab__Efficient-LLMs-Survey.yaml")


def import_list(kb, excerpt):
    return run("import", "list", "--root", kb, "--map", excerpt[1], excerpt[0])


def test_import_list_maps_sections_and_counts_what_it_leaves_out(kb):
    result = import_list(kb, XNHYACINTH)
    assert result.exit_code == 0, result.output
    assert "xnhyacinth.md:9: added: papers/wang2020linformer.yaml" in result.output
    assert "xnhyacinth.md:13: added: papers/kitaev2020reformer.yaml" in result.output
    assert (
        "xnhyacinth.md: skipped: 1 entries of section '9.1 Long-Document QA & Iterative Reasoning RAG', "
        "which the map leaves out"
    ) in result.output
    record = (kb / "papers/kitaev2020reformer.yaml").read_text()
    assert "  - Łukasz Kaiser\n" in record and "code: https://github.com/lucidrains/reformer-pytorch" in record
    assert "  - list: Xnhyacinth/Awesome-LLM-Long-Context-Modeling\n    section: 2.1 Sparse Attention\n" in record
    assert errors(kb) == []


def test_importing_the_same_list_twice_adds_nothing(kb):
    import_list(kb, XNHYACINTH)
    before = snapshot(kb / "papers")
    assert "0 added, 0 merged" in import_list(kb, XNHYACINTH).output
    assert snapshot(kb / "papers") == before


def test_two_lists_sharing_papers_are_merged_with_both_sources(kb):
    import_list(kb, XNHYACINTH)
    result = import_list(kb, AIOT)
    assert "aiot.md:5: merged: into papers/wang2020linformer.yaml: +source" in result.output
    assert "aiot.md:7: merged: into papers/kitaev2020reformer.yaml: +source" in result.output  # by title
    assert "0 added, 2 merged" in result.output
    record = (kb / "papers/kitaev2020reformer.yaml").read_text()
    assert "section: 2.1 Sparse Attention" in record and "section: Fixed Pattern Strategies" in record
    assert "year: 2020" in record  # the first source's year stays; nothing is overwritten
    assert errors(kb) == []


def test_a_year_with_a_disambiguation_suffix_imports_and_checks_as_that_year(kb, tmp_path):
    bib = tmp_path / "suffix.bib"
    bib.write_text("@inproceedings{smith2023b, title={Suffixed Years}, author={Smith, Ann}, year={2023b}}\n")
    assert run("import", "bib", "--root", kb, "--tag", "inference/quantization", bib).exit_code == 0
    assert "year: 2023\n" in (kb / "papers/smith2023suffixed.yaml").read_text()
    assert errors(kb) == []


def bib_file(tmp_path, text):
    path = tmp_path / "more.bib"
    path.write_text(text, encoding="utf-8")
    return path


def test_imports_honour_the_curators_decisions(kb, tmp_path):
    write(
        kb,
        "sources/decisions.yaml",
        "out_of_scope:\n  - title: A Bandit Paper\n    why: background\n"
        "former_titles:\n  'Discounted Attention': muller2022attention\n",
    )
    entries = bib_file(
        tmp_path,
        "@article{b, title={A Bandit Paper}, author={Auer, Peter}, year={2002}}\n"
        '@article{c, title={Discounted Attention}, author={M{\\"u}ller, J{\\"o}rg}, year={2022}}\n',
    )
    result = run("import", "bib", "--root", kb, "--tag", "inference/quantization", entries)
    assert "'A Bandit Paper': decided out of scope (background)" in result.output
    assert "into papers/muller2022attention.yaml" in result.output  # found under the title it no longer has
    assert "0 added" in result.output


def test_tags_a_curator_checked_stay_as_they_are(kb, tmp_path):
    path = kb / "papers/example2023quantizing.yaml"
    path.write_text(path.read_text().replace("      - venue\n", "      - venue\n      - tags\n"))
    entry = bib_file(tmp_path, "@article{x, title={Quantizing Imaginary Models: A Test Record}, year={2023}}\n")
    run("import", "bib", "--root", kb, "--tag", "inference/kv-cache", entry)
    assert "inference/kv-cache" not in path.read_text()


def test_an_arxiv_doi_is_not_taken_for_the_papers_doi(kb, tmp_path):
    entry = bib_file(
        tmp_path, "@article{x, title={New}, author={Roe, Ann}, year={2023}, doi={10.48550/arXiv.2301.00001}}\n"
    )
    run("import", "bib", "--root", kb, "--tag", "inference/quantization", entry)
    assert "doi" not in (kb / "papers/roe2023new.yaml").read_text()
