"""The strict base model of every spec, and YAML/JSON text that remembers where each value came from.

Every spec is an immutable pydantic model that refuses unknown keys (with a did-you-mean) and loads from YAML,
JSON or Python objects. Text is parsed by a YAML loader (JSON is YAML) that records the line and column of every
key and item and refuses duplicate keys, so a validation error reads
``catalog.yaml:12:7: datasets.stack.source.index[0].type: 'int23' is not allowed, did you mean 'int32'?``.
Dumps are plain YAML/JSON that load back equal.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, ClassVar, Final, Self, get_args

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Discriminator,
    ModelWrapValidatorHandler,
    PrivateAttr,
    Tag,
    ValidationError,
    model_validator,
)
from pydantic_core import InitErrorDetails, PydanticCustomError
from pydantic_core.core_schema import ErrorType

from mdio_catalog.exceptions import SpecValidationError, did_you_mean
from mdio_catalog.specs.errors import (
    UNION_TAGS,
    PathPart,
    SourceMap,
    SpecIssue,
    issues_error,
    issues_from_validation_error,
)
from mdio_catalog.specs.errors import Path as SpecPath

#: The comment that tells editors (yaml-language-server) which JSON Schema a YAML file follows.
SCHEMA_COMMENT: Final = "# yaml-language-server: $schema={}"

_KNOWN_ERROR_TYPES: Final = frozenset(get_args(ErrorType))

#: Message templates of the custom error types raised by specs (rebuilt when an error passes a model boundary).
_CUSTOM_ERRORS: dict[str, str] = {
    "unknown_key": "unknown key '{key}'{hint} (allowed: {allowed})",
    "spec_error": "{message}",
}


def custom_error(kind: str, template: str, **context: Any) -> PydanticCustomError:
    """A pydantic error of a custom ``kind``; the template is remembered so it survives nested models."""
    _CUSTOM_ERRORS.setdefault(kind, template)
    return PydanticCustomError(kind, template, context or None)


def union_tag(name: str) -> Tag:
    """A ``Tag`` for a callable-discriminated union; the tag is dropped from error paths (it is not a key)."""
    UNION_TAGS.add(name)
    return Tag(name)


def key_discriminator(keys: Mapping[str, str], error: str) -> Discriminator:
    """A union discriminated by which one of ``keys`` (key -> tag) a mapping holds (models by their class)."""
    tags_by_class: dict[str, str] = {}

    def pick(value: Any) -> str | None:
        if isinstance(value, Mapping):
            present = [tag for key, tag in keys.items() if key in value]
            return present[0] if len(present) == 1 else None
        return tags_by_class.get(type(value).__name__)

    for tag in keys.values():
        tags_by_class[tag] = tag
    _CUSTOM_ERRORS.setdefault("missing_" + "_".join(keys), error)
    return Discriminator(pick, custom_error_type="missing_" + "_".join(keys), custom_error_message=error)


def located_errors(title: str, problems: Sequence[tuple[Sequence[PathPart], str]]) -> ValidationError:
    """A ValidationError with one error per ``(path, message)``; raised in a validator, the paths are relative
    to the model being validated (pydantic prefixes them with the model's own path)."""
    return ValidationError.from_exception_data(
        title,
        [
            InitErrorDetails(type=custom_error("spec_error", "{message}", message=msg), loc=tuple(loc), input=None)
            for loc, msg in problems
        ],
    )


def _rebuild(err: Mapping[str, Any]) -> InitErrorDetails:
    kind = err["type"]
    ctx = err.get("ctx")
    if kind in _KNOWN_ERROR_TYPES:
        if ctx:
            return InitErrorDetails(type=kind, loc=err["loc"], input=err["input"], ctx=ctx)
        return InitErrorDetails(type=kind, loc=err["loc"], input=err["input"])
    template = _CUSTOM_ERRORS.get(kind)
    if template is not None and (ctx or "{" not in template):
        return InitErrorDetails(type=PydanticCustomError(kind, template, ctx), loc=err["loc"], input=err["input"])
    return InitErrorDetails(type=PydanticCustomError(kind, str(err["msg"])), loc=err["loc"], input=err["input"])


class StrictModel(BaseModel):
    """Immutable, refuses unknown keys (naming the closest known one), loads from and dumps to YAML/JSON.

    Transformations return new models (``model_copy(update=...)``); equality compares fields only.
    """

    model_config = ConfigDict(extra="forbid", frozen=True, validate_assignment=True)

    #: File stem of the JSON Schema of this kind in ``schemas/`` (``catalog`` -> ``catalog.schema.json``).
    schema_name: ClassVar[str] = ""

    _source_map: SourceMap | None = PrivateAttr(default=None)

    # --- unknown keys --------------------------------------------------------------------------------------------
    @classmethod
    def allowed_keys(cls) -> list[str]:
        """The keys this model accepts, as written in files (aliases where a field has one)."""
        return [field.alias or name for name, field in cls.model_fields.items()]

    @classmethod
    def suggest_key(cls, key: str) -> str:
        """``", did you mean 'ChannelWrap'?"`` for a near miss (case-insensitive first, then by similarity)."""
        allowed = cls.allowed_keys()
        for candidate in allowed:
            if candidate.lower() == key.lower():
                return f", did you mean {candidate!r}?"
        hint = did_you_mean(key, allowed)
        if not hint and cls.model_config.get("populate_by_name"):
            hint = did_you_mean(key, list(cls.model_fields))
        return hint

    @model_validator(mode="wrap")
    @classmethod
    def _name_unknown_keys(cls, data: Any, handler: ModelWrapValidatorHandler[Self]) -> Self:
        try:
            return handler(data)
        except ValidationError as exc:
            errors = exc.errors()
            if not any(e["type"] == "extra_forbidden" and len(e["loc"]) == 1 for e in errors):
                raise
            allowed = cls.allowed_keys()
            details = []
            for err in errors:
                if err["type"] == "extra_forbidden" and len(err["loc"]) == 1:
                    key = str(err["loc"][0])
                    error = PydanticCustomError(
                        "unknown_key",
                        _CUSTOM_ERRORS["unknown_key"],
                        {"key": key, "hint": cls.suggest_key(key), "allowed": ", ".join(allowed)},
                    )
                    details.append(InitErrorDetails(type=error, loc=err["loc"], input=err["input"]))
                else:
                    details.append(_rebuild(err))
            raise ValidationError.from_exception_data(exc.title, details) from None

    # --- equality ignores where a model came from ----------------------------------------------------------------
    def __eq__(self, other: object) -> bool:
        if not isinstance(other, BaseModel):
            return NotImplemented
        return type(self) is type(other) and self.__dict__ == other.__dict__

    def __hash__(self) -> int:  # frozen models hash by their fields (TypeError when a field is a dict or list)
        return hash((type(self), *self.__dict__.values()))

    # --- loading -------------------------------------------------------------------------------------------------
    @classmethod
    def from_data(
        cls,
        data: Any,
        *,
        source: str | None = None,
        source_map: SourceMap | None = None,
        context: dict[str, Any] | None = None,
    ) -> Self:
        """Validate Python objects (dicts, lists, models); errors are a SpecValidationError naming every path."""
        if isinstance(data, cls):
            return data
        source_map = source_map or SourceMap(source)
        try:
            model = cls.model_validate(data, context=context)
        except ValidationError as exc:
            raise issues_error(
                issues_from_validation_error(exc, data, source_map), source_map.source or cls.__name__
            ) from None
        model._source_map = source_map
        return model

    @classmethod
    def from_yaml(cls, text: str, *, source: str | None = None, context: dict[str, Any] | None = None) -> Self:
        """Load from YAML text; ``source`` names the text in errors (a file name)."""
        data, source_map = parse_yaml(text, source)
        if data is None:
            issue = SpecIssue((), f"empty document: expected the keys of a {cls.__name__}", source)
            raise issues_error([issue], source)
        return cls.from_data(data, source_map=source_map, context=context)

    @classmethod
    def from_json(cls, text: str, *, source: str | None = None, context: dict[str, Any] | None = None) -> Self:
        """Load from JSON text (read by the YAML loader for line numbers, with a plain-JSON fallback)."""
        data, source_map = parse_json(text, source)
        return cls.from_data(data, source_map=source_map, context=context)

    @classmethod
    def from_file(cls, path: str | Path, *, context: dict[str, Any] | None = None) -> Self:
        """Load a local ``.yaml``/``.yml``/``.json`` file; errors name the file and line."""
        path = Path(path)
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as exc:
            issue = SpecIssue((), f"cannot read {cls.__name__} file: {exc.strerror or exc}", str(path))
            raise SpecValidationError(str(issue), issues=[issue]) from None
        loader = cls.from_json if path.suffix.lower() == ".json" else cls.from_yaml
        return loader(text, source=str(path), context=context)

    # --- where a loaded model came from --------------------------------------------------------------------------
    @property
    def source_map(self) -> SourceMap | None:
        """Lines and columns of the document this model was loaded from (None when built in Python)."""
        return self._source_map

    def issue(self, path: Sequence[PathPart], message: str) -> SpecIssue:
        """A problem at ``path`` of this model, placed at its file and line when the model was loaded from text."""
        return (self._source_map or SourceMap()).issue(path, message)

    # --- dumping -------------------------------------------------------------------------------------------------
    def to_data(self, *, exclude_defaults: bool = True) -> dict[str, Any]:
        """Plain JSON-compatible data with the keys written in files (aliases); defaults left out unless asked."""
        return self.model_dump(mode="json", by_alias=True, exclude_defaults=exclude_defaults)

    def to_yaml(self, *, schema: str | None = None, exclude_defaults: bool = True) -> str:
        """YAML text; ``schema`` adds the ``# yaml-language-server: $schema=...`` line editors read."""
        return dump_yaml(self.to_data(exclude_defaults=exclude_defaults), schema=schema)

    def to_json(self, *, indent: int | None = 2, exclude_defaults: bool = True) -> str:
        """JSON text."""
        return json.dumps(self.to_data(exclude_defaults=exclude_defaults), indent=indent, ensure_ascii=False) + "\n"

    def to_file(self, path: str | Path, *, schema: str | None = None) -> None:
        """Write YAML (or JSON for a ``.json`` name) to a local file."""
        path = Path(path)
        text = self.to_json() if path.suffix.lower() == ".json" else self.to_yaml(schema=schema)
        path.write_text(text, encoding="utf-8")


# --- YAML with line numbers --------------------------------------------------------------------------------------
class _Loader(yaml.SafeLoader):
    """Safe YAML, plus YAML 1.2 floats such as ``1e-05`` (JSON writes them; YAML 1.1 reads them as strings)."""


_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(r"^[-+]?[0-9][0-9_]*(?:\.[0-9_]*)?[eE][-+]?[0-9]+$"),
    list("-+0123456789"),
)

_MERGE_TAG: Final = "tag:yaml.org,2002:merge"


def _mark(node: yaml.Node) -> tuple[int, int]:
    return node.start_mark.line + 1, node.start_mark.column + 1


class _Builder:
    """Walks a composed YAML node tree into Python data, recording marks and refusing duplicate keys."""

    def __init__(self, loader: _Loader, source: str | None) -> None:
        self.loader = loader
        self.map = SourceMap(source)
        self.issues: list[SpecIssue] = []
        self._active: set[int] = set()

    def build(self, node: yaml.Node, path: SpecPath) -> Any:
        self.map.marks.setdefault(path, _mark(node))
        if id(node) in self._active:
            self.issues.append(self.map.issue(path, "recursive YAML alias"))
            return None
        if isinstance(node, yaml.MappingNode):
            self._active.add(id(node))
            try:
                return self._mapping(node, path)
            finally:
                self._active.discard(id(node))
        if isinstance(node, yaml.SequenceNode):
            self._active.add(id(node))
            try:
                out = []
                for i, child in enumerate(node.value):
                    self.map.marks.setdefault((*path, i), _mark(child))
                    out.append(self.build(child, (*path, i)))
                return out
            finally:
                self._active.discard(id(node))
        return self.loader.construct_object(node, deep=True)

    def _key(self, node: yaml.Node, path: SpecPath) -> Any:
        if not isinstance(node, yaml.ScalarNode):
            self.issues.append(
                self.map.issue(path, f"keys must be plain values, not a {type(node).__name__} (line {_mark(node)[0]})")
            )
            return None
        return self.loader.construct_object(node, deep=True)

    def _mapping(self, node: yaml.MappingNode, path: SpecPath) -> dict[Any, Any]:
        first_seen: dict[Any, int] = {}
        for key_node, _ in node.value:
            if key_node.tag == _MERGE_TAG:
                continue
            key = self._key(key_node, path)
            if key is None and not isinstance(key_node, yaml.ScalarNode):
                continue
            line, column = _mark(key_node)
            if key in first_seen:
                self.issues.append(
                    SpecIssue(
                        (*path, key),
                        f"duplicate key {key!r} (first defined on line {first_seen[key]})",
                        self.map.source,
                        line,
                        column,
                    )
                )
            else:
                first_seen[key] = line
        try:
            self.loader.flatten_mapping(node)  # '<<' merge keys: merged pairs first, the node's own pairs last
        except yaml.MarkedYAMLError as exc:
            self.issues.append(_yaml_issue(exc, self.map.source))
            return {}
        out: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            key = self._key(key_node, path)
            if key is None and not isinstance(key_node, yaml.ScalarNode):
                continue
            self.map.marks[(*path, key)] = _mark(key_node)
            out[key] = self.build(value_node, (*path, key))
            self.map.marks[(*path, key)] = _mark(key_node)  # the key's line, even for a nested block value
        return out


def _yaml_issue(exc: yaml.YAMLError, source: str | None) -> SpecIssue:
    mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
    problem = getattr(exc, "problem", None) or str(exc)
    context = getattr(exc, "context", None)
    message = f"invalid YAML: {context + ', ' if context else ''}{problem}"
    if mark is None:
        return SpecIssue((), message, source)
    return SpecIssue((), message, source, mark.line + 1, mark.column + 1)


def parse_yaml(text: str, source: str | None = None) -> tuple[Any, SourceMap]:
    """Parse one YAML (or JSON) document into Python data and a :class:`SourceMap` of its keys and items.

    Duplicate keys, recursive aliases and syntax errors raise a :class:`SpecValidationError` with their line.
    """
    loader = _Loader(text)
    try:
        try:
            node = loader.get_single_node()
        except yaml.YAMLError as exc:
            raise issues_error([_yaml_issue(exc, source)], source) from None
        builder = _Builder(loader, source)
        data = builder.build(node, ()) if node is not None else None
        if builder.issues:
            raise issues_error(builder.issues, source)
        return data, builder.map
    finally:
        loader.dispose()


def parse_json(text: str, source: str | None = None) -> tuple[Any, SourceMap]:
    """JSON through the YAML loader (line numbers, duplicate keys); plain ``json`` if YAML cannot read it."""
    try:
        return parse_yaml(text, source)
    except SpecValidationError:
        duplicates: list[SpecIssue] = []

        def pairs(items: list[tuple[str, Any]]) -> dict[str, Any]:
            out: dict[str, Any] = {}
            for key, value in items:
                if key in out:
                    duplicates.append(SpecIssue((key,), f"duplicate key {key!r}", source))
                out[key] = value
            return out

        try:
            data = json.loads(text, object_pairs_hook=pairs)
        except json.JSONDecodeError as exc:
            issue = SpecIssue((), f"invalid JSON: {exc.msg}", source, exc.lineno, exc.colno)
            raise issues_error([issue], source) from None
        if duplicates:
            raise issues_error(duplicates, source) from None
        return data, SourceMap(source)


# --- dumping ------------------------------------------------------------------------------------------------------
class _Dumper(yaml.SafeDumper):
    """Block mappings, indented block lists, short lists of plain values in flow style ([128, 128, 128])."""

    def increase_indent(self, flow: bool = False, indentless: bool = False) -> None:
        super().increase_indent(flow, False)


def _represent_list(dumper: yaml.SafeDumper, data: list[Any]) -> yaml.Node:
    flow = len(data) <= 12 and all(_short_scalar(v) for v in data) and sum(len(str(v)) + 2 for v in data) <= 80
    return dumper.represent_sequence("tag:yaml.org,2002:seq", data, flow_style=flow)


def _short_scalar(value: Any) -> bool:
    if isinstance(value, str):
        return len(value) <= 40 and "\n" not in value
    return value is None or isinstance(value, int | float | bool)


def _represent_dict(dumper: yaml.SafeDumper, data: dict[Any, Any]) -> yaml.Node:
    flow = 0 < len(data) <= 5 and all(_short_scalar(v) for v in data.values())
    return dumper.represent_mapping("tag:yaml.org,2002:map", data, flow_style=flow)


class _Root(dict[Any, Any]):
    """The top-level mapping: always block style."""


def _represent_root(dumper: yaml.SafeDumper, data: dict[Any, Any]) -> yaml.Node:
    return dumper.represent_mapping("tag:yaml.org,2002:map", data, flow_style=False)


def _represent_str(dumper: yaml.SafeDumper, data: str) -> yaml.Node:
    style = "|" if "\n" in data else (">" if len(data) > 100 else None)
    return dumper.represent_scalar("tag:yaml.org,2002:str", data, style=style)


for _type, _representer in (
    (list, _represent_list),
    (tuple, _represent_list),
    (dict, _represent_dict),
    (_Root, _represent_root),
    (str, _represent_str),
):
    _Dumper.add_representer(_type, _representer)  # type: ignore[arg-type]


def dump_yaml(data: Any, *, schema: str | None = None) -> str:
    """YAML text of plain data, keys in insertion order, optionally headed by the schema comment.

    Short lists of numbers and small mappings of short values are written in flow style (``[128, 128, 128]``,
    ``{name: inline, byte: 189}``), everything else in block style.
    """
    if isinstance(data, dict):
        data = _Root(data)
    text = yaml.dump(data, Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=120, default_flow_style=False)
    return (SCHEMA_COMMENT.format(schema) + "\n" if schema else "") + text
