"""The canonical text of a record, and atomic writes.

Every tool that writes a record (import, add, enrich, fmt) goes through
``record_text``, so records stay in one form: fields in the model's order,
strings quoted only where YAML needs it, lists in block style, summaries as
literal blocks, one line per value however long.  ruamel.yaml's round trip
keeps the curator's comments when ``fmt`` reorders an existing file.
"""

from __future__ import annotations

import io
import re
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import YAMLError
from ruamel.yaml.scalarstring import LiteralScalarString

from efflit.base.files import write_atomic
from efflit.kb.models import Record, Settings

FIELD_ORDER = list(Record.model_fields)
SCHEMA_COMMENT = "yaml-language-server: $schema="
_SCHEMA_LINE = re.compile(r"^# " + re.escape(SCHEMA_COMMENT) + r".*\n", re.M)


def _yaml() -> YAML:
    yaml = YAML()  # round-trip mode: comments survive
    yaml.indent(mapping=2, sequence=4, offset=2)
    yaml.width = 1 << 16  # never fold a title over two lines
    yaml.preserve_quotes = False
    return yaml


def parse(text: str) -> CommentedMap:
    return _yaml().load(text)


def canonical(data: CommentedMap) -> CommentedMap:
    """The same mapping with fields in model order (unknown ones last), comments kept."""
    ordered = CommentedMap()
    keys = sorted(data, key=lambda k: FIELD_ORDER.index(k) if k in FIELD_ORDER else len(FIELD_ORDER))
    for key in keys:
        ordered[key] = _canonical_value(key, data[key])
        if key in data.ca.items:
            ordered.ca.items[key] = data.ca.items[key]
    ordered.ca.comment = data.ca.comment
    return ordered


def _canonical_value(key: str, value: Any) -> Any:
    if key == "summary" and isinstance(value, str):
        return LiteralScalarString(value.rstrip("\n") + "\n")
    if isinstance(value, list) and not isinstance(value, CommentedSeq):
        return CommentedSeq(value)
    if isinstance(value, CommentedSeq):
        value.fa.set_block_style()
    return value


def schema_url(settings: Settings) -> str | None:
    """The published JSON Schema of a record, which editors read from a record's first line."""
    return f"{settings.base_url}downloads/record.schema.json" if settings.base_url else None


def record_text(data: dict | CommentedMap, schema: str | None) -> str:
    """Canonical YAML for a record's fields, headed by the schema line when the site has an address."""
    if not isinstance(data, CommentedMap):
        data = CommentedMap(data)
    stream = io.StringIO()
    _yaml().dump(canonical(data), stream)
    text = _SCHEMA_LINE.sub("", stream.getvalue())
    return f"# {SCHEMA_COMMENT}{schema}\n{text}" if schema else text


def reformat(text: str, schema: str | None) -> str:
    """The canonical form of a record file's text (comments kept)."""
    return record_text(parse(text), schema)


def unformatted(paths: list[Path], schema: str | None, fix: bool) -> tuple[list[Path], list[tuple[Path, str]]]:
    """Record files not in canonical form (rewritten when ``fix``), and files too broken to format."""
    changed, broken = [], []
    for path in paths:
        text = path.read_text(encoding="utf-8")
        try:
            wanted = reformat(text, schema)
        except YAMLError as error:
            broken.append((path, str(error).splitlines()[0]))
            continue
        if wanted != text:
            changed.append(path)
            if fix:
                write_atomic(path, wanted)
    return changed, broken
