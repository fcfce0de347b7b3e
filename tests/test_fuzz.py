"""Property: whatever bytes or YAML a file holds, the pipeline returns records or problems, never raises."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from efflit.build import check
from efflit.load import load_yaml
from efflit.problems import Report
from efflit.validate import validate_record
from kbtools import FIXTURES

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


@settings(max_examples=40, deadline=None)
@given(records)
def test_whole_check_never_raises(data):
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder) / "kb"
        shutil.copytree(FIXTURES / "tiny", root)
        (root / "papers/fuzz.yaml").write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
        _, report = check(root)
        assert all(p.position.line >= 1 and p.position.column >= 1 for p in report.problems)
