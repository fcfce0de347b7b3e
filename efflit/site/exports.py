"""Downloads: the bibliography as BibTeX, the records as JSON (with its schema) and as CSL-JSON."""

from __future__ import annotations

import orjson

from efflit.kb.bibtex import BibEntry, decode_latex, split_names
from efflit.kb.models import Record

BIB_FIELD_ORDER = ("title", "author", "booktitle", "journal", "year", "eprint", "archiveprefix", "doi", "url")


def format_entry(entry_type: str, key: str, fields: dict[str, str]) -> str:
    """One entry, formatted the same way everywhere it appears (page, .bib downloads, references.bib)."""
    names = sorted(fields, key=lambda n: (BIB_FIELD_ORDER.index(n) if n in BIB_FIELD_ORDER else 99, n))
    width = max((len(n) for n in names), default=0)
    lines = [f"  {name.ljust(width)} = {{{fields[name]}}}," for name in names]
    return "\n".join([f"@{entry_type}{{{key},", *lines, "}"])


def bibtex_entry(entry: BibEntry) -> str:
    return format_entry(entry.entry_type, entry.key, entry.fields)


def bibliography(formatted: dict[str, str]) -> str:
    """A .bib file of entries formatted already (by `bibtex_entry`), given by key: sorted by key."""
    return "\n\n".join(formatted[key] for key in sorted(formatted, key=str.casefold)) + "\n"


def _json(value: object) -> bytes:
    # orjson: the standard library's encoder is pure Python when it indents, ten times slower.
    return orjson.dumps(value, option=orjson.OPT_INDENT_2)


def record_item(record: Record) -> bytes:
    """The record as `papers.json` holds it (see `json_array`)."""
    return json_item(record.model_dump(mode="json", exclude_none=True))


def json_item(value: object) -> bytes:
    """A value as an item of a JSON array that `json_array` writes.  Builds keep the items of
    unchanged records, as UTF-8: reading them back as dicts took longer than writing the files, and
    as text, joining and encoding them took three times as long as joining their bytes."""
    # JSON escapes newlines in strings: each one here is layout.
    return _json(value).replace(b"\n", b"\n  ")


def json_array(items: list[bytes]) -> bytes:
    """Items (from `json_item`) as one JSON array, laid out as `_json` lays out a list."""
    return b"[\n  " + b",\n  ".join(items) + b"\n]" if items else b"[]"


def records_schema(base_url: str) -> bytes:
    schema = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": f"{base_url}downloads/papers.schema.json",
        "title": "efflit papers",
        "type": "array",
        "items": {"$ref": "#/$defs/Record"},
        "$defs": {},
    }
    record = Record.model_json_schema(ref_template="#/$defs/{model}")
    schema["$defs"] = {**record.pop("$defs", {}), "Record": record}
    return _json(schema)


def record_schema() -> bytes:
    """The schema of one record file, which editors use through `# yaml-language-server: $schema=`."""
    return _json(Record.model_json_schema())


def csl_item(record: Record, entry: BibEntry) -> bytes:
    """A CSL-JSON item, as Zotero, Mendeley and citeproc read it (see `json_array`)."""
    item: dict = {
        "id": record.key,
        "type": "paper-conference" if entry.entry_type == "inproceedings" else "article",
        "title": record.title,
        "author": [_csl_name(name) for name in split_names(entry.fields.get("author", ""))]
        or [{"literal": name} for name in record.authors],
        "issued": {"date-parts": [[record.year]]},
    }
    if record.venue and record.venue.lower() != "arxiv":
        item["container-title"] = record.venue
    if record.arxiv:
        item |= {
            "publisher": "arXiv",
            "number": f"arXiv:{record.arxiv}",
            "URL": f"https://arxiv.org/abs/{record.arxiv}",
        }
    elif record.url:
        item["URL"] = record.url
    if record.doi:
        item["DOI"] = record.doi
    return json_item(item)


def _csl_name(name: str) -> dict:
    name = decode_latex(name)
    if "," in name:
        family, given = (part.strip() for part in name.split(",", 1))
        return {"family": family, "given": given}
    *given, family = name.split()
    return {"family": family, "given": " ".join(given)} if given else {"literal": family}
