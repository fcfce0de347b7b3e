"""The full-text search index, made by Pagefind from the catalog (no crawl of the written HTML).

Each paper is one record with facets for dimension, topic and year.  Pagefind
writes its bundle itself (its in-memory API can deadlock on large indexes), into
the folder the writer hands it inside the staging site.
"""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from pagefind.index import IndexConfig, PagefindIndex

from efflit.catalog import Catalog
from efflit.markup import plain_text
from efflit.views import paper_href

BUNDLE = "pagefind"  # the bundle's folder in the site


def write_search_index(catalog: Catalog, folder: Path) -> None:
    """Index every paper and write the Pagefind bundle into ``folder``."""
    # Pagefind's API is async: give it a loop of its own, whatever loop the caller may be running.
    with ThreadPoolExecutor(max_workers=1) as worker:
        worker.submit(asyncio.run, _index(catalog, folder)).result()


async def _index(catalog: Catalog, folder: Path) -> None:
    nodes = catalog.nodes
    async with PagefindIndex(config=IndexConfig(force_language="en")) as index:
        for record in catalog.papers:
            dimensions = sorted({nodes[tag.split("/", 1)[0]].node.name for tag in record.tags})
            await index.add_custom_record(
                url=paper_href(record.id),
                content=" ".join(
                    [record.title, ", ".join(record.authors), record.venue or "", str(record.year)]
                    + dimensions
                    + [nodes[tag].node.name for tag in record.tags]
                    + ([plain_text(record.summary)] if record.summary else [])
                ),
                language="en",
                meta={
                    "title": record.title,
                    "authors": ", ".join(record.authors) or "authors unknown",
                    "venue": f"{record.venue or ''} {record.year}".strip(),
                },
                filters={
                    "dimension": dimensions,
                    "topic": [nodes[tag].node.name for tag in record.tags],
                    "year": [str(record.year)],
                },
                sort={"year": str(record.year)},
            )
        await index.write_files(output_path=str(folder))
