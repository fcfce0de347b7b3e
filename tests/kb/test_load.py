"""The loader: YAML traps become positioned problems, never exceptions."""

from __future__ import annotations

import pytest
import yaml

from efflit.kb.load import MAX_DEPTH, MAX_RECORD_BYTES, load_yaml
from efflit.kb.problems import Position, Report


def load(tmp_path, content: str | bytes):
    path = tmp_path / "x.yaml"
    path.write_bytes(content.encode("utf-8") if isinstance(content, str) else content)
    report = Report()
    document = load_yaml(path, "papers/x.yaml", report)
    return document, [(str(p.position), p.severity.value, p.message, p.hint) for p in report.sorted()]


TRAPS = [
    (
        "duplicate key",
        "id: a\ntitle: One\ntitle: Two\n",
        "papers/x.yaml:3:1",
        "duplicate key 'title' (first set on line 2)",
    ),
    ("tab indentation", "id: a\nauthors:\n\t- A\n", "papers/x.yaml:3:1", "tab character where YAML expects spaces"),
    ("latin-1 byte", b"id: a\ntitle: caf\xe9\n", "papers/x.yaml:2:11", "byte 0xE9 is not valid UTF-8"),
    ("utf-16", "id: a\n".encode("utf-16"), "papers/x.yaml:1:1", "file is encoded as UTF-16"),
    ("nul byte", "id: a\ntitle: x\x00y\n", "papers/x.yaml:2:9", "YAML syntax: unacceptable character #x0000"),
    ("alias", "a: &x [1, 2]\nb: *x\n", "papers/x.yaml:2:4", "alias '*x' is not allowed"),
    ("alias bomb", "a: &a [x, x]\nb: &b [*a, *a]\nc: &c [*b, *b]\n", "papers/x.yaml:2:8", "alias '*a' is not allowed"),
    (
        "python tag",
        "id: !!python/object/apply:os.system [ls]\n",
        "papers/x.yaml:1:5",
        "YAML tag 'tag:yaml.org,2002:python/object/apply:os.system' is not allowed",
    ),
    ("unknown tag", "id: !custom x\n", "papers/x.yaml:1:5", "YAML tag '!custom' is not allowed"),
    ("two documents", "id: a\n---\nid: b\n", "papers/x.yaml:2:1", "file holds more than one YAML document"),
    ("empty file", "", "papers/x.yaml:1:1", "file is empty"),
    ("comments only", "# nothing here\n", "papers/x.yaml:1:1", "file is empty"),
    ("a list, not a mapping", "- a\n- b\n", "papers/x.yaml:1:1", "file does not hold a mapping of fields"),
    ("key read as boolean", "id: a\non: 1\n", "papers/x.yaml:2:1", "key 'on' is read as a boolean, not a name"),
    (
        "unclosed quote",
        "id: a\ntitle: 'abc\nyear: 2020\n",
        "papers/x.yaml:4:1",
        "YAML syntax: found unexpected end of stream",
    ),
    (
        "colon in value",
        "id: a\ntitle: A: B\n",
        "papers/x.yaml:2:9",
        "YAML syntax: mapping values are not allowed in this context",
    ),
    (
        "deep nesting",
        "a: " + "[" * 500 + "]" * 500 + "\n",
        "papers/x.yaml:1:" + str(4 + MAX_DEPTH - 1),
        f"values are nested more than {MAX_DEPTH} levels deep",
    ),
    (
        "too large",
        "title: " + "x" * MAX_RECORD_BYTES + "\n",
        "papers/x.yaml:1:1",
        f"file is {MAX_RECORD_BYTES + 8:,} bytes",
    ),
]


@pytest.mark.parametrize(("content", "where", "message"), [t[1:] for t in TRAPS], ids=[t[0] for t in TRAPS])
def test_trap_is_reported_at_its_position(tmp_path, content, where, message):
    _, problems = load(tmp_path, content)
    assert (where, "error") == problems[0][:2]
    assert problems[0][2].startswith(message)
    assert problems[0][3], "every problem carries a hint of the fix"


def test_byte_order_mark_is_a_warning_and_the_file_still_loads(tmp_path):
    document, problems = load(tmp_path, b"\xef\xbb\xbfid: a\n")
    assert document.data == {"id": "a"}
    assert problems == [
        ("papers/x.yaml:1:1", "warning", "file starts with a byte-order mark", "save it as UTF-8 without BOM")
    ]


def test_crlf_line_endings_load_with_right_positions(tmp_path):
    document, problems = load(tmp_path, "id: a\r\ntitle: T\r\nyear: 2020\r\n")
    assert problems == []
    assert document.data == {"id": "a", "title": "T", "year": 2020}
    assert document.position(("year",)) == Position("papers/x.yaml", 3, 7)


def test_every_value_keeps_the_position_of_its_key_and_of_itself(tmp_path):
    document, _ = load(tmp_path, "id: a\nsource:\n  - list: x/y\n    section: S\n")
    assert document.position(("source", 0, "section")) == Position("papers/x.yaml", 4, 14)
    assert document.position(("source", 0, "section"), key=True) == Position("papers/x.yaml", 4, 5)
    # A position inside a missing value falls back to its nearest enclosing value.
    assert document.position(("source", 0, "person")) == Position("papers/x.yaml", 3, 5)


def test_typed_plain_scalars_remember_how_they_were_written(tmp_path):
    document, _ = load(tmp_path, "arxiv: 2301.10010\nvenue: 2024-03-01\ntitle: no\nquoted: '2301.10010'\n")
    assert document.data["arxiv"] == 2301.1001
    assert (document.located(("arxiv",)).written, document.located(("arxiv",)).read_as) == ("2301.10010", "a number")
    assert document.located(("venue",)).read_as == "a date"
    assert document.located(("title",)).read_as == "a boolean"
    assert document.located(("quoted",)).read_as is None


@pytest.mark.parametrize(
    "written",
    ["Yes", "NO", "on", "Off", "~", "", "null", "Null", "true", "False", ".inf", "-.5", "+12", "0x1F", "0o17",
     "1_000", "2026-01-01", "2026-01-01 10:00:00", "12:30", "Efficient", "Quantization", "tokens", "yesterday",
     "'42'", '"true"', "'~'", "[]", "{}"],
)  # fmt: skip
def test_plain_and_quoted_scalars_get_the_types_yaml_gives_them(tmp_path, written):
    """Plain scalars that no type claims by their first letter skip the resolver: all the same."""
    document, _ = load(tmp_path, f"value: {written}\n")
    as_yaml = yaml.safe_load(f"value: {written}\n")["value"]
    # YAML 1.1's hexadecimal, sexagesimal and underscored numbers stay as written (see load.compose)
    assert document.data["value"] == (written if written in ("0x1F", "12:30", "1_000") else as_yaml)


def test_impossible_date_stays_text(tmp_path):
    document, problems = load(tmp_path, "added: 2026-13-01\n")
    assert document.data == {"added": "2026-13-01"} and problems == []


def test_yaml_1_1_value_and_merge_indicators_are_plain_text(tmp_path):
    document, problems = load(tmp_path, "a: =\n'<<': x\n")
    assert document.data == {"a": "=", "<<": "x"} and problems == []


def test_nesting_far_beyond_any_parser_limit_is_an_error_not_a_crash(tmp_path):
    # Below libyaml's own limit our cap speaks; above it libyaml's; either way an error at line 1.
    document, problems = load(tmp_path, "a: " + "[" * 60000)
    assert document is None and problems[0][0].startswith("papers/x.yaml:1:") and problems[0][1] == "error"
