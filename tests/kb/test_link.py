"""Cross-file checks: tags, BibTeX agreement, duplicates, coverage."""

from __future__ import annotations

import shutil

from efflit.kb import link
from efflit.kb.bibtex import decode_latex, last_name, normalize, split_names
from kbtools import RECORD, errors, problems, write

BIB = "papers/references.bib"


def append_bib(root, text: str) -> None:
    with (root / BIB).open("a", encoding="utf-8") as bib:
        bib.write("\n" + text)


def test_tiny_fixture_is_sound(kb):
    assert errors(kb) == []


def test_unknown_tag_suggests_the_node(kb):
    path = kb / "papers/muller2022attention.yaml"
    path.write_text(path.read_text().replace("inference/kv-cache", "kv-cache"))
    assert "papers/muller2022attention.yaml:10:5: error: tag 'kv-cache' is not a taxonomy node" in errors(kb)


def test_record_without_bibtex_entry(kb):
    write(kb, "papers/r2020.yaml", RECORD.format(id="r2020", title="T"))
    assert "papers/r2020.yaml:1:5: error: no BibTeX entry with key 'r2020' in papers/*.bib" in errors(kb)


def test_bibkey_links_to_another_key(kb):
    write(kb, "papers/r2020.yaml", RECORD.format(id="r2020", title="T") + "bibkey: Example:2020\n")
    append_bib(kb, "@misc{Example:2020, title={T}, author={Example, Ada}, year={2023}}\n")
    assert errors(kb) == []


def test_title_disagreement_names_both_files_and_lines(kb):
    path = kb / "papers/example2023quantizing.yaml"
    path.write_text(path.read_text().replace("A Test Record'", "Another Record'"))
    assert errors(kb) == [
        "papers/example2023quantizing.yaml:2:8: error: title differs from BibTeX entry 'example2023quantizing' "
        "at papers/references.bib:2:1: record has 'Quantizing Imaginary Models: Another Record', "
        "BibTeX has 'Quantizing Imaginary Models: A Test Record'"
    ]


def test_year_and_first_author_disagreement(kb):
    bib = kb / BIB
    bib.write_text(
        bib.read_text().replace("year = 2022", "year = 2021").replace('M{\\"u}ller, J{\\"o}rg', "Meyer, Jörg")
    )
    found = errors(kb)
    assert any(
        e.startswith("papers/muller2022attention.yaml:5:7: error: year differs") and "references.bib:14:1" in e
        for e in found
    )
    assert any(
        e.startswith("papers/muller2022attention.yaml:4:5: error: authors differs") and "'Meyer, Jörg'" in e
        for e in found
    )


def test_latex_accents_and_protective_braces_agree_with_unicode():
    assert decode_latex(r"M{\"u}ller and {\'E}cole {BERT}") == "Müller and École BERT"
    assert normalize(r"{A}ttention at a {D}iscount") == normalize("Attention at a Discount")
    assert split_names(r"M{\"u}ller, J. and {Google and Friends} and Doe, Jane") == [
        r"M{\"u}ller, J.",
        "{Google and Friends}",
        "Doe, Jane",
    ]
    assert last_name("van den Oord, Aäron") == "van den Oord"
    assert last_name("Aäron van den Oord") == "Oord"


def test_duplicate_bibtex_keys_within_and_across_files(kb):
    append_bib(kb, "@misc{caching2024, title={Again}, year={2024}}\n")
    write(kb, "papers/more.bib", "@misc{Caching2024, title={Again}, year={2024}}\n")
    found = errors(kb)
    assert "papers/references.bib:22:1: error: duplicate BibTeX key 'caching2024' (first on line 17)" in found
    assert (
        "papers/references.bib:17:1: error: BibTeX key 'caching2024' is also defined at papers/more.bib:1:1 "
        "(BibTeX ignores case: 'Caching2024')"
    ) in found


def test_unparsable_block_and_repeated_field(kb):
    append_bib(kb, "@misc{twice, title={A}, title={B}}\n\n@misc{open, title={never closed}\n")
    found = errors(kb)
    assert "papers/references.bib:22:1: error: entry 'twice' repeats the field 'title'" in found
    assert "papers/references.bib:24:1: error: BibTeX block could not be parsed" in found


def test_entry_used_by_no_record_is_a_warning(kb):
    append_bib(kb, "@misc{orphan, title={O}, year={2020}}\n")
    assert "papers/references.bib:22:1: warning: BibTeX entry 'orphan' belongs to no record" in problems(kb)


def test_duplicate_arxiv_and_doi(kb):
    write(kb, "papers/r2020.yaml", RECORD.format(id="r2020", title="T") + "arxiv: '2301.10010'\ndoi: 10.1234/ABC\n")
    write(kb, "papers/s2020.yaml", RECORD.format(id="s2020", title="U") + "doi: 10.1234/abc\n")
    append_bib(
        kb,
        "@misc{r2020, title={T}, author={Example, Ada}, year={2023}}\n@misc{s2020, title={U}, author={Example, Ada}, year={2023}}\n",
    )
    found = errors(kb)
    assert (
        "papers/r2020.yaml:11:8: error: arxiv '2301.10010' is also used by papers/example2023quantizing.yaml:8:8"
        in found
    )
    assert "papers/s2020.yaml:11:6: error: doi '10.1234/abc' is also used by papers/r2020.yaml:12:6" in found


def test_near_duplicate_title_is_a_warning(kb):
    write(kb, "papers/r2020.yaml", RECORD.format(id="r2020", title="Attention at a Discount!"))
    append_bib(kb, "@misc{r2020, title={Attention at a Discount!}, author={Example, Ada}, year={2023}}\n")
    assert (
        "papers/r2020.yaml:2:8: warning: title is nearly the same as papers/muller2022attention.yaml:2:8"
        in problems(kb)
    )


def test_checks_side_by_side_on_two_cores_find_what_one_core_finds(kb, monkeypatch):
    write(kb, "papers/r2020.yaml", RECORD.format(id="r2020", title="Attention at a Discount!"))
    append_bib(kb, "@misc{r2020, title={Attention at a Discount?}, author={Other, Ada}, year={2023}}\n")
    one_core = problems(kb)
    shutil.rmtree(kb / ".efflit-cache")  # else the findings are known, and nothing runs side by side
    monkeypatch.setattr(link, "PARALLEL_FROM", 1)
    monkeypatch.setattr(link, "cores", lambda: 2)
    assert problems(kb) == one_core
    assert any("nearly the same" in problem for problem in one_core)
    assert any("differs from BibTeX entry" in problem for problem in one_core)


def test_findings_known_from_the_last_check_are_placed_where_they_now_stand(kb):
    write(kb, "papers/r2020.yaml", RECORD.format(id="r2020", title="Attention at a Discount!"))
    append_bib(kb, "@misc{r2020, title={Attention at a Discount?}, author={Other, Ada}, year={2022}}\n")
    before = [p for p in problems(kb) if p.startswith("papers/r2020.yaml")]
    record = kb / "papers/r2020.yaml"
    record.write_text("# a comment moves every field down a line\n" + record.read_text())
    after = [p for p in problems(kb) if p.startswith("papers/r2020.yaml")]

    def moved_down(problem: str) -> str:
        path, line, rest = problem.split(":", 2)
        return f"{path}:{int(line) + 1}:{rest}"

    assert len(before) == 3  # year, first author, near-duplicate title
    assert after == [moved_down(problem) for problem in before]


def test_node_without_papers_is_a_warning(kb):
    path = kb / "papers/example2023quantizing.yaml"
    path.write_text(path.read_text().replace("inference/quantization", "inference/kv-cache"))
    assert "taxonomy.yaml:8:15: warning: taxonomy node 'inference/quantization' has no papers" in problems(kb)


def test_incomplete_records_are_counted_in_one_warning(kb):
    assert "papers/caching2024.yaml:3:10: warning: 1 record lists no authors and is marked incomplete" in problems(kb)


def test_a_repeated_string_macro_is_reported_not_a_crash(kb):
    append_bib(kb, "@string{ne = {NeurIPS}}\n@string{ne = {ICML}}\n")
    assert "papers/references.bib:23:1: error: duplicate BibTeX key 'ne' (first on line 22)" in errors(kb)


def test_a_title_agrees_with_its_braced_entry_and_differs_from_any_other():
    plain = "{LLM}s at {Scale}: A Study"
    assert link.disagreements("LLMs at Scale: A Study", "2023", "", plain, "2023", "") == ()
    assert link.disagreements("LLMs at Scale: A Survey", "2023", "", plain, "2023", "")[0][0] == "title"
    # Decoded and folded, not only unbraced: accents written in LaTeX still agree.
    assert link.disagreements("Müller's Model", "2023", "", "M{\\\"u}ller's Model", "2023", "") == ()


def test_a_curator_decides_two_near_duplicates_are_two_papers(kb):
    write(
        kb,
        "papers/r2020.yaml",
        RECORD.format(id="r2020", title="Attention at a Discount!") + "distinct_from:\n  - muller2022attention\n",
    )
    append_bib(kb, "@misc{r2020, title={Attention at a Discount!}, author={Example, Ada}, year={2023}}\n")
    assert not any("nearly the same" in problem for problem in problems(kb))


def test_distinct_from_and_aliases_name_real_and_free_ids(kb):
    write(
        kb,
        "papers/r2020.yaml",
        RECORD.format(id="r2020", title="T") + "aliases:\n  - caching2024\ndistinct_from:\n  - nobody2020\n",
    )
    append_bib(kb, "@misc{r2020, title={T}, author={Example, Ada}, year={2023}}\n")
    found = errors(kb)
    assert "papers/r2020.yaml:12:5: error: alias 'caching2024' is also the id of papers/caching2024.yaml:1:5" in found
    assert "papers/r2020.yaml:14:5: error: distinct_from names 'nobody2020', which is no record's id" in found


def test_a_year_with_a_suffix_is_that_year(kb):
    write(kb, "papers/r2020.yaml", RECORD.format(id="r2020", title="T"))
    append_bib(kb, "@misc{r2020, title={T}, author={Example, Ada}, year={2023b}}\n")
    assert errors(kb) == []
