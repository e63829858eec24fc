"""Turning pydantic validation errors into readable problems that name the file, the line and the path."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, NoReturn

from pydantic import BaseModel, ValidationError

from mdio_catalog.exceptions import SpecValidationError, did_you_mean

#: One step of a path inside a spec: a mapping key or a list index.
PathPart = str | int
Path = tuple[PathPart, ...]

#: Loc elements that pydantic adds for tagged unions (``Tag("SegySource")``); they are not keys of the input.
UNION_TAGS: set[str] = set()


def format_validation_error(exc: ValidationError) -> str:
    """``path.to.field: message; other.field: message`` without pydantic's boilerplate."""
    parts = []
    for err in exc.errors():
        where = ".".join(str(p) for p in err["loc"])
        message = err["msg"].removeprefix("Value error, ")
        parts.append(f"{where}: {message}" if where else message)
    return "; ".join(parts)


def format_path(path: Sequence[PathPart]) -> str:
    """``datasets.stack.source.index[0].type``; keys that are not plain words are quoted: ``datasets['a b']``."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        elif re.fullmatch(r"[A-Za-z0-9_\-]+", part):
            out += f".{part}" if out else part
        else:
            out += f"[{part!r}]"
    return out


@dataclass(frozen=True)
class SpecIssue:
    """One problem in a spec: where (file, line, column, path inside the spec) and what."""

    path: Path
    message: str
    source: str | None = None
    line: int | None = None
    column: int | None = None

    @property
    def where(self) -> str:
        """``catalog.yaml:12:5`` (or just the file, or nothing when the spec came from Python objects)."""
        if self.line is not None:
            return f"{self.source or '<string>'}:{self.line}:{self.column or 1}"
        return self.source or ""

    def __str__(self) -> str:
        prefix = f"{self.where}: " if self.where else ""
        path = format_path(self.path)
        return f"{prefix}{path}: {self.message}" if path else f"{prefix}{self.message}"


class SourceMap:
    """Where each value of a parsed document came from: path inside the document -> (line, column), 1-based.

    A path that is not in the map (a missing key, a value pydantic invented) is placed at its nearest ancestor.
    """

    def __init__(self, source: str | None = None, marks: Mapping[Path, tuple[int, int]] | None = None) -> None:
        self.source = source
        self.marks: dict[Path, tuple[int, int]] = dict(marks or {})

    def locate(self, path: Sequence[PathPart]) -> tuple[int, int] | None:
        path = tuple(path)
        for end in range(len(path), -1, -1):
            mark = self.marks.get(path[:end])
            if mark is not None:
                return mark
        return None

    def issue(self, path: Sequence[PathPart], message: str) -> SpecIssue:
        """A :class:`SpecIssue` placed at ``path`` in this document."""
        mark = self.locate(path)
        return SpecIssue(tuple(path), message, self.source, mark[0] if mark else None, mark[1] if mark else None)


def _child(value: Any, part: PathPart) -> tuple[bool, Any]:
    if isinstance(value, Mapping):
        return (True, value[part]) if part in value else (False, None)
    if isinstance(value, list | tuple) and isinstance(part, int) and -len(value) <= part < len(value):
        return True, value[part]
    if isinstance(value, BaseModel) and isinstance(part, str) and part in type(value).model_fields:
        return True, getattr(value, part)
    return False, None


def clean_loc(loc: Sequence[PathPart], data: Any, keep_missing_last: bool = False) -> Path:
    """Drop what pydantic adds to a loc that is not a path in the input: union tags, branch labels, '[key]'."""
    out: list[PathPart] = []
    current: Any = data
    following = True  # still walking the input alongside the loc
    last = len(loc) - 1
    for i, part in enumerate(loc):
        if part == "[key]" or (isinstance(part, str) and part in UNION_TAGS):
            continue
        if following:
            found, child = _child(current, part)
            if found:
                current = child
            elif isinstance(part, str) and not (i == last and keep_missing_last):
                continue  # a union branch label ('int', 'list[int]', a discriminator value): not in the input
            else:
                following = False
        out.append(part)
    return tuple(out)


_QUOTED = re.compile(r"'([^']*)'")


def _message(err: Mapping[str, Any], path: Path) -> str:
    kind = err["type"]
    message = str(err["msg"])
    ctx = err.get("ctx") or {}
    if kind == "missing" and path:
        return f"missing required key {path[-1]!r}"
    if kind == "literal_error" and isinstance(err.get("input"), str):
        hint = did_you_mean(err["input"], _QUOTED.findall(str(ctx.get("expected", ""))))
        return f"{err['input']!r} is not allowed{hint} (expected {ctx.get('expected', '')})"
    if kind == "union_tag_invalid":
        tags = _QUOTED.findall(str(ctx.get("expected_tags", "")))
        key = str(ctx.get("discriminator", "kind")).strip("'")
        tag = str(ctx.get("tag"))
        return f"unknown {key} {tag!r}{did_you_mean(tag, tags)} (expected one of: {', '.join(tags)})"
    if kind == "extra_forbidden":
        return "unknown key"
    for prefix in ("Value error, ", "Assertion failed, "):
        message = message.removeprefix(prefix)
    return message


def issues_from_validation_error(
    exc: ValidationError, data: Any = None, source_map: SourceMap | None = None, prefix: Path = ()
) -> list[SpecIssue]:
    """Every error of ``exc`` as a :class:`SpecIssue`: cleaned path, plain message, file and line if known."""
    issues = []
    for err in exc.errors():
        # A key missing from the input stays in the path when it is the point of the error (a missing key, or a
        # problem a validator placed on a field left at its default); elsewhere it is a union branch label.
        keep = err["type"] in ("missing", "spec_error")
        path = prefix + clean_loc(err["loc"], data, keep_missing_last=keep)
        message = _message(err, path)
        if err["type"] == "missing" and path:
            issue = (source_map or SourceMap()).issue(path[:-1], message)
            issues.append(SpecIssue(path, message, issue.source, issue.line, issue.column))
        else:
            issues.append((source_map or SourceMap()).issue(path, message))
    return _unique(issues)


def _unique(issues: Iterable[SpecIssue]) -> list[SpecIssue]:
    seen: set[SpecIssue] = set()
    out = []
    for issue in issues:
        if issue not in seen:
            seen.add(issue)
            out.append(issue)
    return out


def issues_error(issues: Sequence[SpecIssue], what: str | None = None) -> SpecValidationError:
    """One :class:`SpecValidationError` for all ``issues``: one line per problem."""
    issues = _unique(issues)
    lines = [str(issue) for issue in issues]
    if len(lines) == 1:
        message = lines[0]
    else:
        head = f"{len(lines)} problems" + (f" in {what}" if what else "") + ":"
        message = "\n".join([head, *(f"  {line}" for line in lines)])
    return SpecValidationError(message, issues=issues)


def raise_issues(issues: Sequence[SpecIssue], what: str | None = None) -> NoReturn:
    """Raise :func:`issues_error` (callers check that there is at least one issue)."""
    raise issues_error(issues, what)
