"""Load stage: read YAML sources into plain data that remembers where every value stands.

PyYAML's own loader silently keeps the last of two duplicate keys, expands
aliases without bound, overflows the stack on deep nesting and forgets
positions.  So we take only its event stream (libyaml's C parser when present,
which is fast and never recurses) and compose documents ourselves: each value
keeps the position of its key and of itself, and the text it was written as
when YAML gave it another type than a string, so later stages can say "quote it".
"""

from __future__ import annotations

import codecs
import datetime
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from efflit.base.files import read_bytes
from efflit.kb.problems import Position, Report

MAX_RECORD_BYTES = 64 * 1024
MAX_DEPTH = 12
MAX_VALUES = 5000  # scalars and collections in one document: a record has a few dozen

_Parser = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_resolver = yaml.resolver.Resolver()
_constructor = yaml.constructor.SafeConstructor()

# The first characters of the plain scalars that YAML may read as another type than a string
# ("" for an empty one): for any other, asking the resolver is a fifth of a record's parse.
_CLAIMED = frozenset(first for first in _resolver.yaml_implicit_resolvers if first is not None)
_CORE = "tag:yaml.org,2002:"
_STR = _CORE + "str"
_SCALAR_TAGS = {_CORE + name for name in ("str", "int", "float", "bool", "null", "timestamp")}
_KIND_NAMES = {
    _CORE + "int": "a number",
    _CORE + "float": "a number",
    _CORE + "bool": "a boolean",
    _CORE + "null": "empty (null)",
    _CORE + "timestamp": "a date",
}

Loc = tuple[str | int, ...]


@dataclass(frozen=True)
class Located:
    """Where one value of a document stands, and how it was written."""

    key: Position
    value: Position
    written: str | None = None  # the plain scalar's text, when YAML typed it as a non-string
    read_as: str | None = None  # what YAML made of it: "a number", "a boolean", "a date", ...


@dataclass
class Document:
    """A parsed YAML file: its data and the position of each value in it.

    A document restored from the parse cache has no places until a problem asks for one: the
    file is then composed again (positions cost half the parse, and most records have no problem).
    """

    path: str
    data: Any
    places: dict[Loc, Located] | None
    file: str | None = None  # where to read it again for its places

    def located(self, loc: Loc) -> Located:
        """The place of ``loc``, or of its nearest enclosing value."""
        if self.places is None:
            again = load_yaml(self.file, self.path, Report()) if self.file else None
            self.places = again.places if again else {}
        while loc and loc not in self.places:
            loc = loc[:-1]
        return self.places.get(loc) or Located(Position(self.path), Position(self.path))

    def position(self, loc: Loc, *, key: bool = False) -> Position:
        place = self.located(tuple(loc))
        return place.key if key else place.value


class _Abort(Exception):
    """A problem after which the rest of the file cannot be read meaningfully."""

    def __init__(self, position: Position, message: str, hint: str = "") -> None:
        super().__init__(message)
        self.position, self.message, self.hint = position, message, hint


def read_text(path: Path | str, display: str, report: Report, max_bytes: int) -> str | None:
    """The file's text as UTF-8, or None after reporting why it cannot be read."""
    here = Position(display)
    try:
        size, raw = read_bytes(path, max_bytes)  # a huge file is refused without loading it
    except OSError as error:
        report.error(here, f"cannot read the file: {error.strerror}")
        return None
    if size > max_bytes:
        report.error(
            here,
            f"file is {size:,} bytes, more than the {max_bytes:,} a file of this kind may hold",
            "split it up, or check that the right file is here",
        )
        return None
    if raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        report.error(here, "file is encoded as UTF-16", "save it as UTF-8")
        return None
    if raw.startswith(codecs.BOM_UTF8):
        report.warning(here, "file starts with a byte-order mark", "save it as UTF-8 without BOM")
        raw = raw[len(codecs.BOM_UTF8) :]
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as error:
        before = raw[: error.start]
        line = before.count(b"\n") + 1
        column = len(before) - (before.rfind(b"\n") + 1) + 1
        report.error(
            Position(display, line, column),
            f"byte 0x{raw[error.start]:02X} is not valid UTF-8",
            "save the file as UTF-8 (it looks like Latin-1 or another legacy encoding)",
        )
        return None


def load_yaml(
    path: Path | str, display: str, report: Report, max_bytes: int = MAX_RECORD_BYTES, *, positions: bool = True
) -> Document | None:
    """Read one YAML file holding one mapping; report every problem and return None if unusable.
    Without ``positions`` the document's places are left to be composed when first asked for."""
    text = read_text(path, display, report, max_bytes)
    if text is None:
        return None
    try:
        document = compose(text, display, report, positions)
    except _Abort as abort:
        report.error(abort.position, abort.message, abort.hint)
        return None
    except yaml.YAMLError as error:
        report.error(*_describe_yaml_error(error, text, display))
        return None
    if document is None:
        report.error(Position(display), "file is empty", "a record is a YAML mapping of fields")
        return None
    if not isinstance(document.data, dict):
        report.error(Position(display), "file does not hold a mapping of fields", "write `field: value` lines")
        return None
    return document


def record_data(path: Path | str, display: str, report: Report) -> Any:
    """A record file's plain data (None when unusable), its places left to be found when a problem
    asks for them: what the parse cache keeps of it."""
    document = load_yaml(path, display, report, positions=False)
    return document.data if document else None


def _mark(display: str, mark: Any) -> Position:
    return Position(display, mark.line + 1, mark.column + 1)


def compose(text: str, display: str, report: Report, positions: bool = True) -> Document | None:
    """Build the document from parser events, iteratively (no recursion, bounded depth).  Marks
    become positions only where they are kept (``positions``) or reported: that is half the work."""
    places: dict[Loc, Located] | None = {} if positions else None
    root: list[Any] = []
    # Each frame: [container, its loc, pending key, pending key's mark, marks of the keys seen]
    stack: list[list[Any]] = []
    documents = 0

    def at(mark: Any) -> Position:
        return _mark(display, mark)

    def place(loc: Loc, key: Any, value: Any, written: str | None, read_as: str | None) -> None:
        if places is not None:
            places[loc] = Located(at(key), at(value), written, read_as)

    def attach(value: Any, start: Any, written: str | None = None, read_as: str | None = None) -> Loc:
        if not stack:
            root.append(value)
            place((), start, start, written, read_as)
            return ()
        frame = stack[-1]
        container, loc = frame[0], frame[1]
        if isinstance(container, list):
            item_loc = loc + (len(container),)
            container.append(value)
            place(item_loc, start, start, written, read_as)
            return item_loc
        key, key_mark = frame[2], frame[3]
        frame[2] = frame[3] = None
        item_loc = loc + (key,)
        if key in frame[4]:
            report.error(
                at(key_mark),
                f"duplicate key '{key}' (first set on line {frame[4][key].line + 1})",
                "remove one of them: YAML would silently keep only the last",
            )
        else:
            frame[4][key] = key_mark
            container[key] = value
            place(item_loc, key_mark, start, written, read_as)
        return item_loc

    parser = _Parser(text)
    events = iter(parser.get_event, None)  # not yaml.parse, a generator: a fifth of the events' cost
    for count, event in enumerate(events):
        if count > 2 * MAX_VALUES:
            raise _Abort(
                _mark(display, event.start_mark), f"more than {MAX_VALUES:,} values", "a record is much smaller"
            )
        kind = type(event)  # most events are scalars and ends: test those first
        if kind is yaml.ScalarEvent:
            start = event.start_mark
            if event.tag is None and not (event.implicit[0] and event.value[:1] in _CLAIMED):
                tag, value = _STR, event.value  # quoted, or plain text that no type claims: most values
            else:
                tag = _scalar_tag(event, display)
                try:
                    value = _construct(tag, event.value)
                except ValueError:  # looks like a date but is none (2026-13-01): keep the text
                    tag, value = _STR, event.value
            if stack and stack[-1][3] is None and isinstance(stack[-1][0], dict):
                if not isinstance(value, str):
                    raise _Abort(
                        at(start),
                        f"key '{event.value}' is read as {_KIND_NAMES.get(tag, 'a non-string')}, not a name",
                        f"quote it: '{event.value}':",
                    )
                stack[-1][2], stack[-1][3] = value, start
            elif event.implicit[0] and tag == _INT and not _DECIMAL.match(event.value):
                # YAML 1.1 reads 0x7E6 as 2022 and 20:23 as 1223: kept as written, which no number
                # field takes, and the error says what YAML would have made of it.
                attach(event.value, start, event.value, f"the {_notation(event.value)} number {value}")
            elif event.implicit[0] and tag != _STR:
                attach(value, start, event.value, _KIND_NAMES.get(tag))
            else:
                attach(value, start)
        elif kind is yaml.MappingEndEvent or kind is yaml.SequenceEndEvent:
            stack.pop()
        elif kind is yaml.MappingStartEvent or kind is yaml.SequenceStartEvent:
            start = event.start_mark
            _check_collection_tag(event, display)
            if stack and isinstance(stack[-1][0], dict) and stack[-1][3] is None:
                raise _Abort(at(start), "a key must be a plain name, not a list or mapping", "write `name: value`")
            if len(stack) >= MAX_DEPTH:
                raise _Abort(at(start), f"values are nested more than {MAX_DEPTH} levels deep", "flatten the structure")
            container: Any = {} if kind is yaml.MappingStartEvent else []
            loc = attach(container, start)
            stack.append([container, loc, None, None, {}])
        elif kind is yaml.DocumentStartEvent:
            documents += 1
            if documents > 1:
                raise _Abort(
                    _mark(display, event.start_mark),
                    "file holds more than one YAML document",
                    "keep one record per file; remove '---'",
                )
        elif kind is yaml.AliasEvent:
            raise _Abort(
                _mark(display, event.start_mark),
                f"alias '*{event.anchor}' is not allowed",
                "write the value out in full",
            )
    if not root or root[0] is None:
        return None
    return Document(display, root[0], places)


_INT = _CORE + "int"
_DECIMAL = re.compile(r"[-+]?(?:0|[1-9][0-9]*)\Z")


def _notation(text: str) -> str:
    digits = text.lstrip("+-").lower()
    if ":" in digits:
        return "sexagesimal (base 60)"
    return {"0x": "hexadecimal", "0b": "binary"}.get(digits[:2], "octal" if digits.startswith("0") else "underscored")


def _scalar_tag(event: yaml.ScalarEvent, display: str) -> str:
    if event.tag in (None, "!"):
        return _implicit_tag(event.value, event.implicit)
    if event.tag not in _SCALAR_TAGS:
        raise _Abort(
            _mark(display, event.start_mark),
            f"YAML tag '{event.tag}' is not allowed",
            "remove the tag; quote the value if it is text",
        )
    return event.tag


@lru_cache(maxsize=16384)  # a corpus repeats its years, dates and taxonomy paths thousands of times
def _implicit_tag(text: str, implicit: tuple[bool, bool]) -> str:
    tag = _resolver.resolve(yaml.ScalarNode, text, implicit)
    # YAML 1.1's `=` (value) and `<<` (merge) resolve to tags with no plain-data meaning: text
    return tag if tag in _SCALAR_TAGS else _STR


def _check_collection_tag(event: Any, display: str) -> None:
    if event.tag not in (None, _CORE + "map", _CORE + "seq"):
        raise _Abort(_mark(display, event.start_mark), f"YAML tag '{event.tag}' is not allowed", "remove the tag")


@lru_cache(maxsize=16384)  # as `_implicit_tag`; the values are immutable (numbers, dates)
def _construct(tag: str, text: str) -> Any:
    """The Python value of a resolved scalar; ValueError when the text does not fit its type."""
    if tag == _STR:
        return text
    value = _constructor.yaml_constructors[tag](_constructor, yaml.ScalarNode(tag, text))
    if isinstance(value, datetime.datetime):
        return value.date() if value.time() == datetime.time() and value.tzinfo is None else value
    return value


_YAML_HINTS = (
    ("mapping values are not allowed", "a value containing ': ' must be quoted"),
    ("could not find expected ':'", "each field is `name: value`; look for an unclosed quote above"),
    ("expected <block end>", "check the indentation of this line"),
    ("did not find expected", "check for an unclosed bracket or quote"),
    ("end of stream", "look for an unclosed quote or bracket"),
    ("unacceptable character", "remove the control character (NUL and similar bytes have no place in a record)"),
)


def _describe_yaml_error(error: yaml.YAMLError, text: str, display: str) -> tuple[Position, str, str]:
    mark = getattr(error, "problem_mark", None) or getattr(error, "context_mark", None)
    if mark is not None:
        position = _mark(display, mark)
        offset = mark.index
    else:  # a reader error counts characters, not lines
        offset = getattr(error, "position", 0) or 0
        before = text[:offset]
        position = Position(display, before.count("\n") + 1, offset - (before.rfind("\n") + 1) + 1)
    problem = getattr(error, "problem", None) or str(error).splitlines()[0]
    if 0 <= offset < len(text) and text[offset] == "\t":
        return position, "tab character where YAML expects spaces", "indent with spaces; YAML forbids tabs there"
    hint = next((h for needle, h in _YAML_HINTS if needle in problem), "check the YAML syntax on this line")
    context = getattr(error, "context", None)
    message = f"YAML syntax: {problem}" + (f" ({context})" if context else "")
    return position, message, hint
