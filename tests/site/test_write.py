"""The writer: a complete new site or the previous one, never a mix, never outside the folder."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from efflit.site.write import SiteWriter, UnsafePath, back_copy, folder_identity


def test_swap_replaces_the_whole_site(tmp_path):
    out = tmp_path / "site"
    with SiteWriter(out) as site:
        site.write("old/index.html", b"old")
    with SiteWriter(out) as site:
        site.write("new/index.html", b"new")
    assert sorted(p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file()) == ["new/index.html"]
    # The previous site is the back copy now; no staging folder is left behind.
    assert sorted(p.name for p in tmp_path.iterdir()) == [".site.back", "site"]
    assert (tmp_path / ".site.back/old/index.html").read_bytes() == b"old"


def files(folder):
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


def test_staging_in_the_back_copy_never_changes_a_file_of_the_live_site(tmp_path):
    out = tmp_path / "site"
    with SiteWriter(out) as site:
        site.write("same/index.html", b"same")
        site.write("edited/index.html", b"v1")
    with SiteWriter(out) as site:  # the first site is the back copy now
        site.take("same/index.html")  # a hard link to the first site's file
        site.write("edited/index.html", b"v2")
    live = files(out)
    held = ["same/index.html", "edited/index.html"]
    with SiteWriter(out, held, folder_identity(tmp_path / ".site.back")) as site:
        site.take("same/index.html")
        site.write("edited/index.html", b"v3")
        site.write("added/index.html", b"new")
        assert files(out) == live  # untouched while staging, though both share files
    assert files(out) == {"same/index.html": b"same", "edited/index.html": b"v3", "added/index.html": b"new"}


def built_twice(out, pages):
    """A site built twice from ``pages``: the first is the back copy now."""
    for _ in range(2):
        with SiteWriter(out) as site:
            for path, data in pages.items():
                site.write(path, data)


def test_what_the_back_copy_holds_and_the_new_site_does_not_is_dropped(tmp_path):
    out = tmp_path / "site"
    built_twice(out, {"kept/index.html": b"k", "gone/deep/index.html": b"g", "bundle/x.js": b"x"})
    held = ["kept/index.html", "gone/deep/index.html", "bundle"]
    with SiteWriter(out, held, folder_identity(tmp_path / ".site.back")) as site:
        assert not site.differs_from_live("kept/index.html")
        site.drop_others({"kept/index.html"})
    assert files(out) == {"kept/index.html": b"k"}
    assert not (out / "gone").exists() and not (out / "bundle").exists()  # emptied folders go too


def test_a_folder_cleared_for_the_indexer_and_a_killed_builds_leftover_leave_nothing_behind(tmp_path):
    out = tmp_path / "site"
    built_twice(out, {"index.html": b"i", "bundle/a.js": b"a", "bundle/deep/b.js": b"b"})
    leftover = tmp_path / ".site.staging-killed"
    (leftover / "papers").mkdir(parents=True)
    (leftover / "papers/index.html").write_bytes(b"half")
    with SiteWriter(out, ["index.html", "bundle"], folder_identity(back_copy(out))) as site:
        site.clear_folder("bundle")
        assert not site.path("bundle").exists()  # for the indexer to make
        site.write("bundle/new.js", b"n")
    assert files(out) == {"index.html": b"i", "bundle/new.js": b"n"}
    assert files(back_copy(out)) == {"index.html": b"i", "bundle/a.js": b"a", "bundle/deep/b.js": b"b"}
    assert sorted(p.name for p in tmp_path.iterdir()) == [".site.back", "site"]


def test_failure_keeps_the_previous_site(tmp_path):
    out = tmp_path / "site"
    with SiteWriter(out) as site:
        site.write("index.html", b"v1")
    with pytest.raises(RuntimeError), SiteWriter(out) as site:
        site.write("index.html", b"v2")
        raise RuntimeError("render failed half-way")
    assert (out / "index.html").read_bytes() == b"v1"
    assert [p.name for p in tmp_path.iterdir()] == ["site"]


def test_a_back_copy_other_than_the_one_recorded_is_not_staged_in(tmp_path):
    out = tmp_path / "site"
    for version in (b"v1", b"v2"):
        with SiteWriter(out) as site:
            site.write("index.html", version)
    recorded = folder_identity(tmp_path / ".site.back")
    (tmp_path / ".site.back").rename(tmp_path / "elsewhere")  # as another build would leave it
    (tmp_path / ".site.back").mkdir()
    (tmp_path / ".site.back/index.html").write_bytes(b"not what the record says")
    assert SiteWriter(out, ["index.html"], recorded).held is None


def test_a_file_where_the_new_site_has_a_folder_and_the_reverse(tmp_path):
    out = tmp_path / "site"
    built_twice(out, {"static/img": b"a file", "about/index.html": b"a page"})
    with SiteWriter(out, ["static/img", "about/index.html"], folder_identity(tmp_path / ".site.back")) as site:
        site.write("static/img/logo.svg", b"<svg/>")
        site.write("about", b"a file now")
        site.drop_others({"static/img/logo.svg", "about"})
    assert files(out) == {"static/img/logo.svg": b"<svg/>", "about": b"a file now"}


def failed_in_the_back_copy(out: Path) -> SiteWriter:
    for version in (b"v1", b"v2"):
        with SiteWriter(out) as site:
            site.write("index.html", version)
    with pytest.raises(RuntimeError), SiteWriter(out, ["index.html"], folder_identity(back_copy(out))) as site:
        site.write("index.html", b"v3")
        raise RuntimeError("render failed half-way")
    return site


def test_a_failure_while_staging_in_the_back_copy_keeps_the_live_site_and_sets_the_copy_aside(tmp_path):
    out = tmp_path / "site"
    site = failed_in_the_back_copy(out)
    assert (out / "index.html").read_bytes() == b"v2"
    # The half-made back copy is set aside, with what the build changed in it, for its caller to
    # take up once its record says so.
    assert site.changed == {"index.html"}
    assert sorted(p.name for p in tmp_path.iterdir()) == [".site.failed", "site"]
    site.restore_back_copy()
    assert sorted(p.name for p in tmp_path.iterdir()) == [".site.back", "site"]
    assert (back_copy(out) / "index.html").read_bytes() == b"v3"


def test_a_back_copy_set_aside_and_not_taken_up_is_removed(tmp_path):
    out = tmp_path / "site"
    failed_in_the_back_copy(out)  # and then the caller failed too, before recording what changed
    with SiteWriter(out) as site:
        site.write("index.html", b"v4")
    assert not (tmp_path / ".site.failed").exists()
    assert (out / "index.html").read_bytes() == b"v4"


@pytest.mark.parametrize("path", ["../escape.html", "/etc/passwd", "a/../../b", "a\\..\\b", ""])
def test_paths_outside_the_site_are_refused(tmp_path, path):
    with pytest.raises(UnsafePath), SiteWriter(tmp_path / "site") as site:
        site.write(path, b"x")
    assert not (tmp_path / "escape.html").exists()


def test_where_sites_cannot_be_exchanged_a_failed_swap_leaves_the_live_site_in_place(tmp_path, monkeypatch):
    out = tmp_path / "site"
    with SiteWriter(out) as site:
        site.write("index.html", b"v1")
    monkeypatch.setattr("efflit.site.write._exchange", lambda a, b: False)  # no renameat2: three renames
    rename = os.rename

    def staging_cannot_move(source, target) -> None:
        if ".staging-" in str(source):
            raise PermissionError(13, "Permission denied")
        rename(source, target)

    monkeypatch.setattr("efflit.site.write.os.rename", staging_cannot_move)
    with pytest.raises(PermissionError), SiteWriter(out) as site:
        site.write("index.html", b"v2")
    assert (out / "index.html").read_bytes() == b"v1"
