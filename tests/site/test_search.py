"""The search index: how papers are shared out between shards, and what Pagefind indexes of a page."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest

from efflit.pipeline.build import build
from efflit.site import search


def test_every_paper_is_in_one_shard_and_stays_there_as_papers_are_added() -> None:
    ids = [f"paper{n}" for n in range(3 * search.SHARD_SIZE - 10)]  # room for one more in three shards
    before = search.shards(ids)
    assert sorted(paper for papers in before.values() for paper in papers) == sorted(ids)
    after = search.shards([*ids, "newcomer2026"])
    moved = {paper for folder, papers in after.items() for paper in set(papers) - set(before[folder])}
    assert moved == {"newcomer2026"}


@pytest.mark.parametrize("count", range(1, search.MAX_SHARDS))
def test_one_more_shard_takes_papers_from_one_other_and_moves_no_other(count: int) -> None:
    ids = [f"paper{n}" for n in range(2000)]
    before = {paper: search.shard_of(paper, count) for paper in ids}
    after = {paper: search.shard_of(paper, count + 1) for paper in ids}
    assert set(before.values()) <= set(range(count)) and set(after.values()) <= set(range(count + 1))
    moved = [paper for paper in ids if before[paper] != after[paper]]
    assert moved and {after[paper] for paper in moved} == {count}  # into the new shard
    assert len({before[paper] for paper in moved}) == 1  # out of one other: the rest are not indexed again


def test_shards_are_capped_so_the_search_page_merges_few_bundles() -> None:
    ids = [f"paper{n}" for n in range(search.SHARD_SIZE * (search.MAX_SHARDS + 5))]
    bundles = search.shards(ids)
    assert len(bundles) == search.MAX_SHARDS
    assert search.BUNDLE in bundles  # the one with the search UI


def test_with_no_papers_there_is_no_bundle_to_make() -> None:
    assert search.shards([]) == {}  # Pagefind refuses to index nothing; the search page says so


def fragments(site: Path) -> list[dict]:
    """Pagefind's record of each indexed page (gzip, after a fixed signature)."""
    signature = b"pagefind_dcd"
    texts = [gzip.decompress(path.read_bytes()) for path in sorted((site / "pagefind/fragment").iterdir())]
    return [json.loads(text.removeprefix(signature)) for text in texts]


def test_the_index_holds_each_paper_page_with_its_text_and_facets_but_not_the_layout(kb: Path) -> None:
    _, report = build(kb)
    assert not report.errors
    pages = {page["url"]: page for page in fragments(kb / "site")}
    assert set(pages) == {"/papers/caching2024/", "/papers/example2023quantizing/", "/papers/muller2022attention/"}
    page = pages["/papers/example2023quantizing/"]
    assert page["meta"]["title"].startswith("Quantizing")
    assert page["filters"]["year"] == ["2023"]
    assert "Skip to content" not in page["content"]  # the layout around the paper is not indexed
    assert "@" not in page["content"]  # nor its BibTeX (data-pagefind-ignore)
