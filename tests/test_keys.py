"""Page keys: what a template pulls in is part of its pages' keys, including what is not there yet."""

from __future__ import annotations

from efflit.build import build


def test_a_template_included_if_present_is_optional_and_picked_up_once_added(kb):
    own = kb / "templates"
    own.mkdir()
    (own / "404.html").write_text(
        '{% extends "base.html" %}{% block main %}<h1>Lost</h1>{% include "notice.html" ignore missing %}{% endblock %}'
    )
    _, report = build(kb)
    assert not report.errors, [str(p) for p in report.errors]
    assert "Lost" in (kb / "site/404.html").read_text()
    (own / "notice.html").write_text("<p>Moved recently.</p>")
    _, report = build(kb)
    assert not report.errors, [str(p) for p in report.errors]
    assert "Moved recently." in (kb / "site/404.html").read_text()
