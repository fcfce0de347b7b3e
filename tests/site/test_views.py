"""View-models: what templates are given of the records."""

from __future__ import annotations

from pathlib import Path

from efflit.kb.catalog import build_catalog
from efflit.pipeline.check import check
from efflit.site.views import LISTED_FIELDS, Card, PaperView, Row


class FieldsRead:
    """Stands for a record and notes which of its fields are read."""

    def __init__(self, record: object) -> None:
        self.record, self.read = record, set()

    def __getattr__(self, name: str) -> object:
        self.read.add(name)
        return getattr(self.record, name)


def shown(view: PaperView) -> None:
    """Reads everything a template can read of the view, and of the views it gives."""
    for name in dir(type(view)):
        if not name.startswith("_"):
            value = getattr(view, name)
            if isinstance(value, PaperView):
                shown(value)


def test_cards_and_table_rows_show_only_the_listed_fields(kb: Path) -> None:
    # The keys of every page that lists a paper cover these fields alone (see efflit.memory.keys): a card
    # that showed another one would stay as it was when that field changed.
    knowledge_base, _ = check(kb)
    catalog = build_catalog(knowledge_base)
    for record in catalog.papers:
        for view in (Card, Row):
            spy = FieldsRead(record)
            shown(view(catalog, spy))
            assert spy.read <= set(LISTED_FIELDS), f"{view.__name__} shows {spy.read - set(LISTED_FIELDS)}"
