"""The README's field table is generated from the model and must not drift from it."""

from __future__ import annotations

import re

from efflit.kb.models import Record, field_table
from kbtools import REPOSITORY

MARKED = re.compile(r"(<!-- fields:start -->\n)(.*?)(<!-- fields:end -->)", re.S)


def test_readme_field_table_matches_the_model(request):
    readme = REPOSITORY / "README.md"
    text = readme.read_text(encoding="utf-8")
    expected = field_table(Record) + "\n"
    if request.config.getoption("--update-golden"):
        text = MARKED.sub(lambda m: m[1] + expected + m[3], text)
        readme.write_text(text, encoding="utf-8")
    assert MARKED.search(text)[2] == expected, "README is stale: run pytest --update-golden"
