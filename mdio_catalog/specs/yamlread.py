"""Reading spec text (YAML 1.2, JSON) at a bounded cost, remembering the line and column of every key and item.

The text is parsed into events (libyaml when available, else PyYAML's pure-Python parser) and built into plain
Python data here, without recursion, so that every limit is enforced while parsing:

- nesting deeper than ``max_depth`` (aliases expanded) stops at the first level too deep;
- aliases (``*name``, ``<<: *name``) are copies of their anchor's value, counted before they are made, so a
  "billion laughs" document stops at ``max_alias_nodes`` values without building them;
- ``max_nodes`` bounds every value of the document, ``max_bytes`` the text itself.

Scalars are read as YAML 1.2 (core schema) reads them: ``yes``/``on``, ``1:04``, ``0b101`` and ``1_000`` are text,
``1e-05`` is a number. A plain integer with a leading zero (``020``: 16 in YAML 1.1, 20 in YAML 1.2) is refused
rather than guessed. Only YAML's standard tags are allowed (an unknown tag such as ``!foo`` or ``!!python/object``
is an error naming the file and line). Duplicate keys, two merge keys (``<<``) in one mapping, undefined and
recursive aliases are errors with their line. Every problem is a :class:`~mdio_catalog.exceptions.SpecValidationError`
(:class:`~mdio_catalog.exceptions.SpecLimitError` for a limit), never a parser's own exception.
"""

from __future__ import annotations

import codecs
import math
import re
import sys
import unicodedata
from dataclasses import dataclass
from typing import Any, Final, NoReturn

import yaml
from yaml.events import (
    AliasEvent,
    MappingEndEvent,
    MappingStartEvent,
    ScalarEvent,
    SequenceEndEvent,
    SequenceStartEvent,
    StreamEndEvent,
)

from mdio_catalog.exceptions import SpecLimitError, SpecValidationError
from mdio_catalog.specs.errors import Path, SourceMap, SpecIssue, issues_error
from mdio_catalog.specs.limits import SpecLimits, human_bytes

_TAG: Final = "tag:yaml.org,2002:"
_STR, _INT, _FLOAT, _BOOL, _NULL, _MAP, _SEQ = (
    _TAG + kind for kind in ("str", "int", "float", "bool", "null", "map", "seq")
)

#: Characters YAML does not allow in a stream (C0/C1 controls but tab and line breaks, surrogates, U+FFFE/F).
_NON_PRINTABLE: Final = re.compile("[^\x09\x0a\x0d\x20-\x7e\x85\xa0-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")

_NULLS: Final = frozenset(("", "~", "null", "Null", "NULL"))
_BOOLS: Final = {"true": True, "True": True, "TRUE": True, "false": False, "False": False, "FALSE": False}
_DECIMAL: Final = re.compile(r"[-+]?[0-9]+")
_LEADING_ZERO: Final = re.compile(r"[-+]?0[0-9]+")
_OCTAL: Final = re.compile(r"0o[0-7]+")
_HEX: Final = re.compile(r"0x[0-9a-fA-F]+")
_FLOAT_RE: Final = re.compile(r"[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?")
_INF: Final = re.compile(r"[-+]?\.(?:inf|Inf|INF)")
_NAN: Final = re.compile(r"\.(?:nan|NaN|NAN)")


class _RefusedError(Exception):
    """A scalar that is not read (ambiguous or malformed for its tag); the message says why."""


def resolve_plain(text: str) -> Any:
    """A plain (unquoted, untagged) scalar as YAML 1.2's core schema reads it; raises _RefusedError for the forms whose
    YAML 1.1 reading differs and would silently change the value (a leading-zero integer)."""
    if text in _NULLS:
        return None
    if text in _BOOLS:
        return _BOOLS[text]
    first = text[0]
    if first not in "-+.0123456789":
        return text
    if _DECIMAL.fullmatch(text):
        if _LEADING_ZERO.fullmatch(text):
            raise _RefusedError(_leading_zero_message(text))
        return _int(text, 10)
    if _OCTAL.fullmatch(text):
        return _int(text[2:], 8)
    if _HEX.fullmatch(text):
        return _int(text[2:], 16)
    if _FLOAT_RE.fullmatch(text):
        return float(text)
    if _INF.fullmatch(text):
        return -math.inf if first == "-" else math.inf
    if _NAN.fullmatch(text):
        return math.nan
    return text


def _int(digits: str, base: int) -> int:
    """``int(digits, base)``; a number too long for Python to convert (4300 digits) is refused, not an escape."""
    try:
        return int(digits, base)
    except ValueError:
        raise _RefusedError(f"a number of {len(digits)} digits is too long") from None


def _leading_zero_message(text: str) -> str:
    sign = "-" if text.startswith("-") else ""
    digits = text.lstrip("+-")
    decimal = f"{sign}{int(digits)}"
    if set(digits) <= set("01234567"):
        octal = f"{sign}{int(digits, 8)}"
        return (
            f"{text!r} is ambiguous: YAML 1.1 reads it as the octal number {octal}, YAML 1.2 as {decimal}; write "
            f"{decimal} (or {sign}0o{digits.lstrip('0') or '0'} for octal), or quote it for text"
        )
    return (
        f"{text!r} has a leading zero (YAML 1.1 reads it as text, YAML 1.2 as {decimal}); write {decimal}, or quote it"
    )


def _tagged(tag: str, text: str) -> Any:
    """A scalar with an explicit standard tag (``!!int 20``)."""
    if tag == _STR:
        return text
    if tag == _INT:
        if _DECIMAL.fullmatch(text):
            return _int(text, 10)
        if _OCTAL.fullmatch(text):
            return _int(text[2:], 8)
        if _HEX.fullmatch(text):
            return _int(text[2:], 16)
        raise _RefusedError(f"{text!r} is not an integer (!!int)")
    if tag == _FLOAT:
        if _FLOAT_RE.fullmatch(text) or _DECIMAL.fullmatch(text):
            return float(text)
        if _INF.fullmatch(text):
            return -math.inf if text.startswith("-") else math.inf
        if _NAN.fullmatch(text):
            return math.nan
        raise _RefusedError(f"{text!r} is not a number (!!float)")
    if tag == _BOOL:
        if text in _BOOLS:
            return _BOOLS[text]
        raise _RefusedError(f"{text!r} is not true or false (!!bool)")
    if tag == _NULL:
        if text in _NULLS:
            return None
        raise _RefusedError(f"{text!r} is not null (!!null)")
    raise _RefusedError(_unknown_tag(tag))


def _unknown_tag(tag: str) -> str:
    shown = "!!" + tag[len(_TAG) :] if tag.startswith(_TAG) else tag
    return (
        f"unknown tag {shown!r}: spec files hold plain values only (standard tags !!str, !!int, !!float, !!bool, "
        "!!null, !!map, !!seq); remove the tag"
    )


def _event_parser(text: str) -> Any:
    """An event parser over ``text``: libyaml's when PyYAML was built with it, else the pure-Python one."""
    try:
        from yaml._yaml import CParser
    except ImportError:  # pragma: no cover - PyYAML without libyaml
        return _PyParser(text)
    return CParser(text)


class _PyParser(yaml.reader.Reader, yaml.scanner.Scanner, yaml.parser.Parser):
    """PyYAML's pure-Python reader, scanner and parser (events only: no composer, no constructor)."""

    def __init__(self, text: str) -> None:
        yaml.reader.Reader.__init__(self, text)
        yaml.scanner.Scanner.__init__(self)
        yaml.parser.Parser.__init__(self)


# --- the builder -----------------------------------------------------------------------------------------------
#: First characters of plain scalars that may be something other than text (null, bool, number).
_SPECIAL_FIRST: Final = frozenset("-+.0123456789~nNtTfF")

_NO_KEY: Final = object()  # a mapping waits for its next key
_MERGE: Final = object()  # the pending key is '<<'
_BAD: Final = object()  # the pending key was refused: its value is read and dropped


@dataclass(slots=True)
class _Frame:
    """A mapping or list being built."""

    path: Path
    value: dict[Any, Any] | list[Any]
    anchor: str | None
    mark: tuple[int, int]
    size: int = 1
    height: int = 1
    key: Any = _NO_KEY
    merges: list[tuple[Any, tuple[int, int]]] | None = None
    merge_line: int | None = None


def _mark(event: Any) -> tuple[int, int]:
    return event.start_mark.line + 1, event.start_mark.column + 1


def _copy(value: Any) -> Any:
    """A deep copy of nested dicts and lists, without recursion."""
    if not isinstance(value, dict | list):
        return value
    out: dict[Any, Any] | list[Any] = {} if isinstance(value, dict) else []
    todo: list[tuple[Any, Any]] = [(value, out)]
    while todo:
        src, dst = todo.pop()
        items = src.items() if isinstance(src, dict) else enumerate(src)
        for key, item in items:
            if isinstance(item, dict | list):
                copied: Any = {} if isinstance(item, dict) else []
                todo.append((item, copied))
            else:
                copied = item
            if isinstance(dst, dict):
                dst[key] = copied
            else:
                dst.append(copied)
    return out


class _Builder:
    """Builds one document from parser events into data and a :class:`SourceMap`, within ``limits``."""

    def __init__(self, source: str | None, limits: SpecLimits) -> None:
        self.source = source
        self.limits = limits
        self.map = SourceMap(source)
        self.issues: list[SpecIssue] = []
        self.anchors: dict[str, tuple[Any, int, int]] = {}  # name -> (value, values, height)
        self.open_anchors: set[str] = set()
        self.nodes = 0
        self.alias_nodes = 0

    # --- errors ---------------------------------------------------------------------------------------------
    def _issue(self, path: Path, message: str, mark: tuple[int, int]) -> None:
        self.issues.append(SpecIssue(path, message, self.source, mark[0], mark[1]))

    def _limit(self, path: Path, message: str, mark: tuple[int, int]) -> NoReturn:
        issue = SpecIssue(path, message, self.source, mark[0], mark[1])
        raise SpecLimitError(str(issue), issues=[issue])

    def _count(self, n: int, path: Path, mark: tuple[int, int]) -> None:
        self.nodes += n
        limit = self.limits.max_nodes
        if limit is not None and self.nodes > limit:
            self._limit(
                path,
                f"more than {limit:,} values in one spec file (aliases expanded); raise MDIO_CATALOG_SPEC_MAX_NODES "
                "if the file is meant to be this large",
                mark,
            )

    def _too_deep(self, path: Path, mark: tuple[int, int]) -> NoReturn:
        self._limit(
            path[:6],
            f"nesting deeper than {self.limits.max_depth} levels (aliases expanded); spec files need far fewer "
            "(raise MDIO_CATALOG_SPEC_MAX_DEPTH if this is meant)",
            mark,
        )

    # --- the document ---------------------------------------------------------------------------------------
    def document(self, parser: Any) -> Any:
        """Data of the only document of the stream (None for an empty stream)."""
        parser.get_event()  # StreamStartEvent
        if parser.check_event(StreamEndEvent):
            return None
        parser.get_event()  # DocumentStartEvent
        value = self._value(parser)
        parser.get_event()  # DocumentEndEvent
        if not parser.check_event(StreamEndEvent):
            event = parser.get_event()
            self._issue((), "a spec file holds one YAML document; another one starts here", _mark(event))
        return value

    @staticmethod
    def _path(stack: list[_Frame]) -> Path:
        """The path of the value about to be delivered to the innermost open mapping or list."""
        if not stack:
            return ()
        parent = stack[-1]
        if isinstance(parent.value, list):
            return (*parent.path, len(parent.value))
        key = parent.key
        return parent.path if key is _NO_KEY or key is _MERGE or key is _BAD else (*parent.path, key)

    def _value(self, parser: Any) -> Any:
        """Build one node from the parser's events, iteratively (this loop is the hot path: one pass per event)."""
        stack: list[_Frame] = []
        max_depth = self.limits.max_depth
        max_nodes = self.limits.max_nodes if self.limits.max_nodes is not None else sys.maxsize
        marks = self.map.marks
        get_event = parser.get_event
        nodes = self.nodes
        while True:
            event = get_event()
            kind = type(event)
            start = event.start_mark
            mark = (start.line + 1, start.column + 1)
            nodes += 1
            if nodes > max_nodes and kind is not MappingEndEvent and kind is not SequenceEndEvent:
                self.nodes = nodes
                self._count(0, self._path(stack), mark)
            parent = stack[-1] if stack else None
            if parent is None:
                marks.setdefault((), mark)
            elif type(parent.value) is list and kind is not MappingEndEvent and kind is not SequenceEndEvent:
                marks.setdefault((*parent.path, len(parent.value)), mark)
            is_merge_key = False
            if kind is ScalarEvent:
                text = event.value
                if event.tag is None and not event.style:  # plain: the common case
                    if text == "<<" and parent is not None and parent.key is _NO_KEY and type(parent.value) is dict:
                        is_merge_key = True
                        value: Any = text
                    elif text and text[0] not in _SPECIAL_FIRST:
                        value = text
                    else:
                        try:
                            value = resolve_plain(text)
                        except _RefusedError as exc:
                            self._issue(self._path(stack), str(exc), mark)
                            value = text
                else:
                    value = self._scalar(event, self._path(stack), mark)
                size, height = 1, 0
                if event.anchor is not None:
                    self.anchors[event.anchor] = (value, 1, 0)
            elif kind is MappingEndEvent or kind is SequenceEndEvent:
                nodes -= 1  # an end is not a value
                frame = stack.pop()
                value = self._finish(frame) if frame.merges else frame.value
                size, height, mark = frame.size, frame.height, frame.mark
                if frame.anchor is not None:
                    self.open_anchors.discard(frame.anchor)
                    self.anchors[frame.anchor] = (value, size, height)
                parent = stack[-1] if stack else None
            elif kind is MappingStartEvent or kind is SequenceStartEvent:
                path = self._path(stack)
                if len(stack) + 1 > max_depth:
                    self._too_deep(path, mark)
                mapping = kind is MappingStartEvent
                if event.tag not in (None, "!", _MAP if mapping else _SEQ):
                    self._issue(path, _unknown_tag(event.tag), mark)
                if event.anchor is not None:
                    self.open_anchors.add(event.anchor)
                stack.append(_Frame(path, {} if mapping else [], event.anchor, mark))
                continue
            elif kind is AliasEvent:
                self.nodes = nodes
                value, size, height = self._alias(str(event.anchor), self._path(stack), mark, len(stack))
                nodes = self.nodes
            else:  # pragma: no cover - the parser sends nothing else inside a document
                self._issue((), f"unexpected YAML event {kind.__name__}", mark)
                return None
            if parent is None:
                self.nodes = nodes
                return value
            # Deliver the value to the innermost open mapping or list.
            parent.size += size
            if height >= parent.height:
                parent.height = height + 1
            container = parent.value
            if type(container) is list:
                container.append(value)
            elif parent.key is _NO_KEY:
                if is_merge_key or type(value) is dict or type(value) is list or value in container:
                    self._key(parent, value, mark, is_merge_key)
                else:
                    parent.key = value
                    marks[(*parent.path, value)] = mark
            else:
                key = parent.key
                parent.key = _NO_KEY
                if key is _MERGE:
                    self._merge(parent, value, mark)
                elif key is not _BAD:
                    container[key] = value

    def _scalar(self, event: Any, path: Path, mark: tuple[int, int]) -> Any:
        tag = event.tag
        try:
            if tag is None:
                return resolve_plain(event.value) if not event.style else event.value  # plain: None or ''

            if tag == "!":
                return event.value
            return _tagged(tag, event.value)
        except _RefusedError as exc:
            self._issue(path, str(exc), mark)
            return event.value

    def _alias(self, name: str, path: Path, mark: tuple[int, int], depth: int) -> tuple[Any, int, int]:
        if name in self.open_anchors:
            self._issue(path, f"recursive YAML alias *{name} (it refers to a value that contains it)", mark)
            return None, 1, 0
        if name not in self.anchors:
            self._issue(path, f"undefined YAML alias *{name} (no &{name} before it)", mark)
            return None, 1, 0
        value, size, height = self.anchors[name]
        self.alias_nodes += size
        if self.alias_nodes > self.limits.max_alias_nodes:
            self._limit(
                path,
                f"YAML aliases expand to more than {self.limits.max_alias_nodes:,} values (a 'billion laughs' "
                "document?); raise MDIO_CATALOG_SPEC_MAX_ALIAS_NODES if this is meant",
                mark,
            )
        self._count(size - 1, path, mark)
        if depth + height > self.limits.max_depth:
            self._too_deep(path, mark)
        return _copy(value), size, height

    def _merge(self, parent: _Frame, value: Any, mark: tuple[int, int]) -> None:
        items = value if isinstance(value, list) else [value]
        if not all(isinstance(item, dict) for item in items):
            self._issue(parent.path, "a merge key '<<' takes a mapping or a list of mappings", mark)
            return
        if parent.merges is None:
            parent.merges = []
        parent.merges.extend((item, mark) for item in items)

    def _key(self, parent: _Frame, key: Any, mark: tuple[int, int], is_merge_key: bool) -> None:
        """A key that is not a new plain value: a merge key, a mapping or list, or a duplicate."""
        if is_merge_key:
            if parent.merge_line is not None:
                self._issue(
                    parent.path,
                    f"duplicate merge key '<<' (first on line {parent.merge_line}); merge several mappings with one "
                    "key: <<: [*a, *b]",
                    mark,
                )
                parent.key = _BAD
            else:
                parent.merge_line = mark[0]
                parent.key = _MERGE
            return
        if isinstance(key, dict | list):
            kind = "mapping" if isinstance(key, dict) else "list"
            self._issue(parent.path, f"keys must be plain values, not a {kind} (line {mark[0]})", mark)
            parent.key = _BAD
            return
        first = self.map.marks.get((*parent.path, key), mark)[0]
        self._issue((*parent.path, key), f"duplicate key {key!r} (first defined on line {first})", mark)
        parent.key = key  # the later value wins, as in the data; the mark stays on the first

    def _finish(self, frame: _Frame) -> Any:
        if not isinstance(frame.value, dict) or not frame.merges:
            return frame.value
        marks = self.map.marks
        out: dict[Any, Any] = {}
        for merged, mark in frame.merges:  # the first mapping named wins, the mapping's own keys win over all
            for key, value in merged.items():
                if key not in out and key not in frame.value:
                    out[key] = value
                    marks.setdefault((*frame.path, key), mark)
        out.update(frame.value)
        return out


# --- text in ------------------------------------------------------------------------------------------------------
def _position(text: str, index: int) -> tuple[int, int]:
    line = text.count("\n", 0, index) + 1
    return line, index - (text.rfind("\n", 0, index) + 1) + 1


def _non_printable_issue(text: str, source: str | None) -> SpecIssue | None:
    found = _NON_PRINTABLE.search(text)
    if found is None:
        return None
    char = found.group()
    line, column = _position(text, found.start())
    name = unicodedata.name(char, "a control character")
    return SpecIssue(
        (),
        f"character U+{ord(char):04X} ({name}) is not allowed in YAML text; delete it, or write it as an escape "
        f'("\\x{ord(char):02x}" for U+00{ord(char):02X}) inside a double-quoted string'
        if ord(char) < 0x100
        else f"character U+{ord(char):04X} ({name}) is not allowed in YAML text; delete it",
        source,
        line,
        column,
    )


def check_text_size(text: str, source: str | None, limits: SpecLimits) -> None:
    """Refuse text longer than ``limits.max_bytes`` (UTF-8) before any of it is parsed."""
    limit = limits.max_bytes
    if limit is None or len(text) * 4 <= limit:
        return
    size = len(text) if len(text) > limit else len(text.encode("utf-8", "surrogatepass"))
    if size > limit:
        raise size_error(size, source, limit)


def size_error(size: int | None, source: str | None, limit: int) -> SpecLimitError:
    """The error of a spec file larger than ``limit`` bytes (``size`` when known)."""
    how_big = f"{size:,} bytes" if size is not None else f"more than {limit:,} bytes"
    issue = SpecIssue(
        (),
        f"the file is {how_big}, more than the {human_bytes(limit)} a spec file may have; catalogs and templates "
        "are small (raise MDIO_CATALOG_SPEC_MAX_BYTES if this one is meant to be this large)",
        source,
    )
    return SpecLimitError(str(issue), issues=[issue])


def decode_text(data: bytes, source: str | None) -> str:
    """UTF-8 text of a spec file (a UTF-8 byte-order mark is dropped); other bytes are a located error."""
    if data.startswith(codecs.BOM_UTF8):
        data = data[len(codecs.BOM_UTF8) :]
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        start = data.rfind(b"\n", 0, exc.start) + 1
        column = len(data[start : exc.start].decode("utf-8", "replace")) + 1
        bad = data[exc.start : exc.end].hex(" ")
        hint = "it looks like UTF-16" if data[:2] in (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE) else "it is not UTF-8"
        issue = SpecIssue((), f"byte {bad} cannot be read: {hint}; save the file as UTF-8", source, line, column)
        raise issues_error([issue], source) from None


def _yaml_issue(exc: yaml.YAMLError, source: str | None, text: str) -> SpecIssue:
    if isinstance(exc, yaml.reader.ReaderError):  # libyaml's position is in bytes; ours come from the text
        issue = _non_printable_issue(text, source)
        if issue is not None:
            return issue
        return SpecIssue((), f"invalid YAML text: {exc.reason}", source)
    mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
    problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
    context = getattr(exc, "context", None)
    message = f"invalid YAML: {context + ', ' if context else ''}{problem}"
    if mark is None:
        return SpecIssue((), message, source)
    return SpecIssue((), message, source, mark.line + 1, mark.column + 1)


def read_yaml(text: str, source: str | None = None, limits: SpecLimits | None = None) -> tuple[Any, SourceMap]:
    """Data and :class:`SourceMap` of one YAML (or JSON) document, within ``limits`` (the settings in force when
    None). Every problem raises a located :class:`SpecValidationError`."""
    limits = limits or SpecLimits.current()
    check_text_size(text, source, limits)
    if text.startswith("\ufeff"):
        text = text[1:]
    issue = _non_printable_issue(text, source)
    if issue is not None:
        raise issues_error([issue], source)
    builder = _Builder(source, limits)
    parser = None
    try:
        parser = _event_parser(text)
        data = builder.document(parser)
    except SpecValidationError:
        raise
    except yaml.YAMLError as exc:
        issue = _yaml_issue(exc, source, text)
        if "maximum nesting depth" in issue.message:  # libyaml's own bound (1000 levels), met while scanning ahead
            limited = SpecIssue(
                (),
                f"nesting deeper than {min(limits.max_depth, 1000)} levels; spec files need far fewer "
                "(MDIO_CATALOG_SPEC_MAX_DEPTH, at most 1000 with libyaml)",
                source,
                issue.line,
                issue.column,
            )
            raise SpecLimitError(str(limited), issues=[limited]) from None
        raise issues_error([*builder.issues, issue], source) from None
    except RecursionError:  # a depth limit raised beyond what this interpreter's stack allows
        issue = SpecIssue((), "nesting too deep for this Python; lower MDIO_CATALOG_SPEC_MAX_DEPTH", source)
        raise SpecLimitError(str(issue), issues=[issue]) from None
    finally:
        if parser is not None and hasattr(parser, "dispose"):
            parser.dispose()
    if builder.issues:
        raise issues_error(builder.issues, source)
    return data, builder.map


def check_data_limits(data: Any, source: str | None, limits: SpecLimits) -> None:
    """Depth and value count of already-parsed data (the plain-JSON fallback), without recursion."""
    todo: list[tuple[Any, int]] = [(data, 0)]
    nodes = 0
    while todo:
        value, depth = todo.pop()
        nodes += 1
        if limits.max_nodes is not None and nodes > limits.max_nodes:
            issue = SpecIssue((), f"more than {limits.max_nodes:,} values (MDIO_CATALOG_SPEC_MAX_NODES)", source)
            raise SpecLimitError(str(issue), issues=[issue])
        if isinstance(value, dict | list):
            if depth + 1 > limits.max_depth:
                issue = SpecIssue(
                    (), f"nesting deeper than {limits.max_depth} levels (MDIO_CATALOG_SPEC_MAX_DEPTH)", source
                )
                raise SpecLimitError(str(issue), issues=[issue])
            todo.extend((item, depth + 1) for item in (value.values() if isinstance(value, dict) else value))
