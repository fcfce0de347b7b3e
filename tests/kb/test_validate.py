"""Record and taxonomy validation: each schema rule, reported at the value's line and column."""

from __future__ import annotations

import pytest

from kbtools import RECORD, errors, problems, write


def record_with(field_lines: str, id: str = "r2020") -> str:
    """A valid record with one or more lines appended (later keys override nothing: they add)."""
    return RECORD.format(id=id, title="A Title") + field_lines


@pytest.mark.parametrize(
    ("extra", "line", "message"),
    [
        ("arxiv: 2301.10010\n", "11:8", "'arxiv' must be text, but YAML reads 2301.10010 as a number (2301.1001)"),
        ("venue: 2024-03-01\n", "11:8", "'venue' must be text, but YAML reads 2024-03-01 as a date"),
        ("venue: no\n", "11:8", "'venue' must be text, but YAML reads no as a boolean (False)"),
        ("arxiv: '2301.10010v2'\n", "11:8", "'arxiv': drop the version suffix: write 2301.10010"),
        ("arxiv: 'arXiv:2301.10010'\n", "11:8", "'arxiv': write the bare arXiv id"),
        ("arxiv: '2313.00001'\n", "11:8", "'arxiv': '2313.00001' is not an arXiv id: month 13 does not exist"),
        ("arxiv: '2301.1001'\n", "11:8", "'arxiv': '2301.1001' is not an arXiv id: ids of 2301 have 5 digits"),
        ("arxiv: '1412.12345'\n", "11:8", "'arxiv': '1412.12345' is not an arXiv id: ids of 1412 have 4 digits"),
        ("doi: https://doi.org/10.1/x\n", "11:6", "'doi': write the bare DOI"),
        ("code: javascript:alert(1)\n", "11:7", "'code': 'javascript:alert(1)' is not an http(s) URL"),
        ("url: data:text/html,x\n", "11:6", "'url': 'data:text/html,x' is not an http(s) URL"),
        ("titel: Typo\n", "11:1", "unknown field 'titel'"),
        ('venue: "NeurIPS\\u202e"\n', "11:8", "'venue': must be a single line of text"),
    ],
)
def test_field_rule(kb, extra, line, message):
    write(kb, "papers/r2020.yaml", record_with(extra))
    found = [e for e in errors(kb) if e.startswith("papers/r2020.yaml")]
    assert len(found) >= 1
    assert found[0].startswith(f"papers/r2020.yaml:{line}: error: {message}"), found


def test_unknown_field_suggests_the_right_one(kb):
    from efflit.pipeline.check import check

    write(kb, "papers/r2020.yaml", record_with("titel: Typo\n"))
    _, report = check(kb)
    (problem,) = [p for p in report.errors if p.position.path == "papers/r2020.yaml"]
    assert problem.hint == "did you mean 'title'?"


def test_year_on_is_an_error_not_year_one(kb):
    write(kb, "papers/r2020.yaml", RECORD.format(id="r2020", title="T").replace("year: 2023", "year: on"))
    assert any(
        e.startswith("papers/r2020.yaml:5:7: error: 'year': Input should be a valid integer") for e in errors(kb)
    )


def test_quoted_year_is_an_error(kb):
    write(kb, "papers/r2020.yaml", RECORD.format(id="r2020", title="T").replace("year: 2023", "year: '2023'"))
    assert any(e.startswith("papers/r2020.yaml:5:7: error: 'year'") for e in errors(kb))


def test_missing_field_points_at_the_record_and_names_the_field(kb):
    write(kb, "papers/r2020.yaml", RECORD.format(id="r2020", title="T").replace("year: 2023\n", ""))
    assert "papers/r2020.yaml:1:1: error: missing required field 'year'" in errors(kb)


def test_id_must_match_file_name(kb):
    write(kb, "papers/r2020.yaml", RECORD.format(id="other2020", title="T"))
    assert "papers/r2020.yaml:1:5: error: id 'other2020' differs from the file name 'r2020.yaml'" in errors(kb)


@pytest.mark.parametrize("bad_id", ["Upper2020", "../escape", "a/b", "a\\\\b", "%2e%2e", "index", "con", "ａ2020"])
def test_ids_that_could_leave_the_folder_or_collide_are_rejected(kb, bad_id):
    write(kb, "papers/r2020.yaml", RECORD.format(id=f'"{bad_id}"', title="T"))
    assert any(e.startswith("papers/r2020.yaml:1:5: error: 'id'") for e in errors(kb)), errors(kb)


def test_source_names_a_list_or_a_person(kb):
    text = RECORD.format(id="r2020", title="T").replace(
        "  - person: efflit test suite\n", "  - list: a/b\n    person: me\n"
    )
    write(kb, "papers/r2020.yaml", text)
    assert any(
        e.startswith("papers/r2020.yaml:9:5: error: 'source[0]': a source names exactly one of") for e in errors(kb)
    )


def test_tags_must_not_repeat_and_must_not_be_empty(kb):
    write(
        kb,
        "papers/r2020.yaml",
        RECORD.format(id="r2020", title="T").replace("tags:\n  - inference/quantization", "tags: []"),
    )
    assert any(
        e.startswith("papers/r2020.yaml:6:7: error: 'tags': List should have at least 1 item") for e in errors(kb)
    )


def test_several_errors_in_one_file_are_all_reported(kb):
    write(kb, "papers/r2020.yaml", record_with("arxiv: 2301.10010\ncode: ftp://x.org/a\n"))
    assert len([e for e in errors(kb) if e.startswith("papers/r2020.yaml")]) == 2


TAXONOMY_NODE = """\
nodes:
  - slug: inference
    name: Inference
    section: "7"
    description: D.
    children:
{children}
"""
LEAF = """\
      - slug: {slug}
        name: Leaf
        {origin}
        description: D.
"""


def test_taxonomy_duplicate_slug_is_reported_with_both_lines(kb):
    children = LEAF.format(slug="quantization", origin='section: "7"') * 2
    write(kb, "taxonomy.yaml", TAXONOMY_NODE.format(children=children))
    assert "taxonomy.yaml:11:15: error: duplicate taxonomy node 'inference/quantization' (first on line 7)" in errors(
        kb
    )


def test_taxonomy_node_is_from_the_survey_or_an_extension(kb):
    children = LEAF.format(slug="quantization", origin='extension: true\n        section: "7"')
    write(kb, "taxonomy.yaml", TAXONOMY_NODE.format(children=children))
    assert any(e.startswith("taxonomy.yaml:7:9: error: 'nodes[0].children[0]': a node has either") for e in errors(kb))


def test_taxonomy_section_must_be_quoted_text(kb):
    write(kb, "taxonomy.yaml", TAXONOMY_NODE.format(children=LEAF.format(slug="q", origin="section: 7.1")))
    assert any(".section' must be text, but YAML reads 7.1 as a number" in e for e in problems(kb))


def test_a_source_page_names_the_facts_it_vouches_for(kb):
    page = "  - page: https://example.org/abs/1\n    facts:\n      - authors\n      - colour\n"
    write(
        kb, "papers/r2020.yaml", RECORD.format(id="r2020", title="T").replace("  - person: efflit test suite\n", page)
    )
    found = [e for e in errors(kb) if "r2020" in e]
    assert len(found) == 1 and found[0].startswith(
        "papers/r2020.yaml:12:9: error: 'source[0].facts[1]': Input should be"
    )


def test_a_search_note_for_a_fact_the_record_holds_is_out_of_date(kb):
    write(kb, "papers/r2020.yaml", record_with("not_found:\n  authors: arXiv by title\n"))
    found = [e for e in errors(kb) if "r2020" in e]
    assert found == [
        "papers/r2020.yaml:12:3: error: 'not_found': `not_found` names authors, which the record has: "
        "remove it from `not_found`"
    ]
