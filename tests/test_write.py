"""The writer: a complete new site or the previous one, never a mix, never outside the folder."""

from __future__ import annotations

import pytest

from efflit.write import SiteWriter, UnsafePath
from kbtools import eventually


def test_swap_replaces_the_whole_site(tmp_path):
    out = tmp_path / "site"
    with SiteWriter(out) as site:
        site.write("old/index.html", b"old")
    with SiteWriter(out) as site:
        site.write("new/index.html", b"new")
    assert sorted(p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file()) == ["new/index.html"]
    # The previous site is removed in the background: no staging folder is left behind.
    assert eventually(lambda: [p.name for p in tmp_path.iterdir()] == ["site"])


def test_failure_keeps_the_previous_site(tmp_path):
    out = tmp_path / "site"
    with SiteWriter(out) as site:
        site.write("index.html", b"v1")
    with pytest.raises(RuntimeError), SiteWriter(out) as site:
        site.write("index.html", b"v2")
        raise RuntimeError("render failed half-way")
    assert (out / "index.html").read_bytes() == b"v1"
    assert [p.name for p in tmp_path.iterdir()] == ["site"]


@pytest.mark.parametrize("path", ["../escape.html", "/etc/passwd", "a/../../b", "a\\..\\b", ""])
def test_paths_outside_the_site_are_refused(tmp_path, path):
    with pytest.raises(UnsafePath), SiteWriter(tmp_path / "site") as site:
        site.write(path, b"x")
    assert not (tmp_path / "escape.html").exists()
