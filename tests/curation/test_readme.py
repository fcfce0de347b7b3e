"""The README's field tables are generated from the models and must not drift from them."""

from __future__ import annotations

import re

import pytest

from efflit.kb.models import MetricsFile, Record, VenuesFile, field_table
from kbtools import REPOSITORY


@pytest.mark.parametrize(
    ("marker", "model"), [("fields", Record), ("venue-fields", VenuesFile), ("metrics-fields", MetricsFile)]
)
def test_readme_field_table_matches_the_model(request, marker, model):
    marked = re.compile(rf"(<!-- {marker}:start -->\n)(.*?)(<!-- {marker}:end -->)", re.S)
    readme = REPOSITORY / "README.md"
    text = readme.read_text(encoding="utf-8")
    expected = field_table(model) + "\n"
    if request.config.getoption("--update-golden"):
        text = marked.sub(lambda m: m[1] + expected + m[3], text)
        readme.write_text(text, encoding="utf-8")
    assert marked.search(text)[2] == expected, "README is stale: run pytest --update-golden"
