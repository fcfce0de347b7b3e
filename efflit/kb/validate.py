"""Validate stage: turn loaded documents into models, mapping every error back to its YAML position."""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import Any

from pydantic import BaseModel, ValidationError

from efflit.kb.load import Document, Loc
from efflit.kb.models import SUMMARY_LINK_SCHEMES, Record, TaxonomyFile, TaxonomyNode, VenuesFile
from efflit.kb.problems import Report
from efflit.kb.venues import Venues, spelling_key


@dataclass(frozen=True)
class Paper:
    """A valid record and the document it came from, which knows where each field stands."""

    record: Record
    document: Document

    def __getstate__(self) -> dict:
        """What a cache keeps of a paper: of its document, only where to find its places again (its
        data served the validation; its places are half its weight)."""
        document = self.document
        if document.file is None:
            return vars(self)
        return {"record": self.record, "document": Document(document.path, None, None, document.file)}


def validate_record(document: Document, report: Report) -> Paper | None:
    record = _validate(Record, document, report)
    if record is None:
        return None
    stem = PurePosixPath(document.path).stem
    if record.id != stem:
        report.error(
            document.position(("id",)),
            f"id '{record.id}' differs from the file name '{stem}.yaml'",
            f"rename the file to {record.id}.yaml, or set id: {stem}",
        )
    for link in _dropped_links(record.summary or ""):
        report.warning(
            document.position(("summary",)),
            f"the summary's link '{link}' is dropped from the page: only http(s) and mailto links are kept",
            "write the full address, such as https://arxiv.org/abs/2312.00678",
        )
    return Paper(record, document)


# Markdown link targets: inline `[text](target)`, and reference definitions `[name]: target`.
_LINK_TARGET = re.compile(r"\]\(\s*<?([^\s)>]+)|^ {0,3}\[[^\]]+\]:\s*<?(\S+?)>?(?:\s|$)", re.M)
_KEPT_LINK = re.compile("^(?:" + "|".join(sorted(SUMMARY_LINK_SCHEMES)) + "):", re.I)


def _dropped_links(summary: str) -> list[str]:
    """The links of a summary the page cannot keep (relative, fragment-only or another scheme): the
    renderer keeps absolute http(s) and mailto links only (see `markup.render_markdown`)."""
    if "](" not in summary and "]:" not in summary:
        return []
    targets = (inline or reference for inline, reference in _LINK_TARGET.findall(summary))
    return [target for target in targets if not _KEPT_LINK.match(target)]


@dataclass(frozen=True)
class Node:
    """A taxonomy node in place: its tag path, its parent's path and where it is defined."""

    path: str
    parent: str | None
    node: TaxonomyNode
    loc: Loc

    @property
    def depth(self) -> int:
        return self.path.count("/")


@dataclass
class Taxonomy:
    """The taxonomy as a flat, ordered map from tag path to node (parents before children)."""

    document: Document
    nodes: dict[str, Node]

    def children(self, path: str | None) -> list[Node]:
        return [n for n in self.nodes.values() if n.parent == path]

    @property
    def leaves(self) -> list[Node]:
        return [n for n in self.nodes.values() if not n.node.children]


def validate_taxonomy(document: Document, report: Report) -> Taxonomy | None:
    parsed = _validate(TaxonomyFile, document, report)
    if parsed is None:
        return None
    nodes: dict[str, Node] = {}

    def add(siblings: list[TaxonomyNode], parent: str | None, loc: Loc) -> None:
        # Depth-first, so the map reads like the tree; depth is bounded by the loader.
        for index, node in enumerate(siblings):
            path = f"{parent}/{node.slug}" if parent else node.slug
            node_loc = loc + (index,)
            if path in nodes:
                first = document.position(nodes[path].loc + ("slug",))
                report.error(
                    document.position(node_loc + ("slug",)),
                    f"duplicate taxonomy node '{path}' (first on line {first.line})",
                    "give each sibling its own slug",
                )
                continue
            nodes[path] = Node(path, parent, node, node_loc)
            add(node.children, path, node_loc + ("children",))

    add(parsed.nodes, None, ("nodes",))
    return Taxonomy(document, nodes)


def validate_venues(document: Document, report: Report) -> Venues | None:
    """The venues of `venues.yaml`; a spelling given to two venues (or twice) is an error."""
    parsed = _validate(VenuesFile, document, report)
    if parsed is None:
        return None
    seen: dict[str, Loc] = {}
    for index, venue in enumerate(parsed.venues):
        spellings = [(("venues", index, "name"), venue.name)]
        spellings += [(("venues", index, "aliases", n), alias) for n, alias in enumerate(venue.aliases)]
        for loc, spelling in spellings:
            key = spelling_key(spelling)
            if key in seen:
                first = document.position(seen[key])
                report.error(
                    document.position(loc),
                    f"'{spelling}' is already a spelling of a venue on line {first.line}",
                    "give each spelling to one venue, once",
                )
            else:
                seen[key] = loc
    return Venues.of(parsed.venues)


def _validate(model: type[BaseModel], document: Document, report: Report) -> Any:
    try:
        return model.model_validate(document.data)
    except ValidationError as error:
        for detail in error.errors(include_url=False):
            _report_detail(model, document, detail, report)
        return None


def _label(loc: Loc) -> str:
    label = ""
    for part in loc:
        label += f"[{part}]" if isinstance(part, int) else (f".{part}" if label else str(part))
    return label


def _report_detail(model: type[BaseModel], document: Document, detail: dict, report: Report) -> None:
    loc = tuple(detail["loc"])
    kind = detail["type"]
    if kind == "repeated":  # a list's rule about one of its items: reported at that item
        loc += (detail["ctx"]["index"],)
    field = _label(loc)
    if kind == "missing":
        name = loc[-1]
        description = _field_description(model, loc)
        report.error(
            document.position(loc[:-1]),
            f"missing required field '{field}'",
            f"add `{name}:` ({description})" if description else f"add `{name}:`",
        )
        return
    if kind == "extra_forbidden":
        allowed = _allowed_fields(model, loc[:-1])
        close = difflib.get_close_matches(str(loc[-1]), allowed, n=1)
        hint = f"did you mean '{close[0]}'?" if close else f"allowed fields: {', '.join(allowed)}"
        report.error(document.position(loc, key=True), f"unknown field '{field}'", hint)
        return
    place = document.located(loc)
    if place.read_as == "empty (null)":
        report.error(place.value, f"'{field}' is empty", "give it a value, or remove the line")
        return
    if place.read_as and kind.endswith("_type") and kind.startswith("string"):
        value = _value_at(document.data, loc)
        shown = f" ({value})" if str(value) != place.written else ""
        report.error(
            place.value,
            f"'{field}' must be text, but YAML reads {place.written} as {place.read_as}{shown}",
            f"quote it: {loc[-1]}: '{place.written}'" if isinstance(loc[-1], str) else f"quote it: '{place.written}'",
        )
        return
    message = detail["msg"].removeprefix("Value error, ")
    if place.read_as and kind in ("int_type", "bool_type", "date_type"):
        message += f" (YAML read {place.written} as {place.read_as})"
    label = f"'{field}': " if field else ""
    report.error(place.value, f"{label}{message}", _type_hint(kind, loc))


def _type_hint(kind: str, loc: Loc) -> str:
    return {
        "int_type": "write a whole number without quotes",
        "date_type": "write a date as YYYY-MM-DD without quotes",
        "list_type": f"write {loc[-1]} as a list, one `- item` per line" if loc else "",
        "bool_type": "write true or false",
    }.get(kind, "")


def _value_at(data: Any, loc: Loc) -> Any:
    for part in loc:
        data = data[part]
    return data


def _submodel(model: type[BaseModel], loc: Loc) -> type[BaseModel] | None:
    """The model that holds the field at ``loc`` (walking through lists and nested models)."""
    for part in loc:
        if isinstance(part, int):
            continue
        info = model.model_fields.get(str(part))
        if info is None:
            return None
        nested = _nested_model(info.annotation)
        if nested is None:
            return None
        model = nested
    return model


def _nested_model(annotation: Any) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in getattr(annotation, "__args__", ()):
        if found := _nested_model(arg):
            return found
    return None


def _allowed_fields(model: type[BaseModel], loc: Loc) -> list[str]:
    holder = _submodel(model, loc)
    return list(holder.model_fields) if holder else []


def _field_description(model: type[BaseModel], loc: Loc) -> str:
    holder = _submodel(model, loc[:-1])
    info = holder.model_fields.get(str(loc[-1])) if holder else None
    return (info.description or "") if info else ""
