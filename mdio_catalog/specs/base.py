"""The strict base model of every spec, and YAML/JSON text that remembers where each value came from.

Every spec is an immutable pydantic model that refuses unknown keys (with a did-you-mean) and loads from YAML,
JSON or Python objects. Text is parsed by a YAML loader (JSON is YAML) that records the line and column of every
key and item and refuses duplicate keys, so a validation error reads
``catalog.yaml:12:7: datasets.stack.source.index[0].type: 'int23' is not allowed, did you mean 'int32'?``.
Dumps are plain YAML/JSON that load back equal.
"""

from __future__ import annotations

import json
import os
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

from mdio_catalog.exceptions import (
    MDIONotFoundError,
    NotRegularFileError,
    SpecLimitError,
    SpecValidationError,
    StorageError,
    did_you_mean,
)
from mdio_catalog.localfile import open_regular_file
from mdio_catalog.specs.errors import (
    UNION_TAGS,
    PathPart,
    SourceMap,
    SpecIssue,
    issues_error,
    issues_from_validation_error,
)
from mdio_catalog.specs.limits import SpecLimits
from mdio_catalog.specs.yamlread import check_data_limits, decode_text, read_yaml, size_error

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
    #: Whether files of this kind are bounded in size and value count (``MDIO_CATALOG_SPEC_MAX_BYTES``/``_NODES``);
    #: depth and alias expansion are bounded for every kind.
    size_bounded: ClassVar[bool] = True

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
    def input_limits(cls) -> SpecLimits:
        """The limits on text this kind is loaded from (files this package writes set ``size_bounded = False``)."""
        limits = SpecLimits.current()
        return limits if cls.size_bounded else limits.without_size_bounds()

    @classmethod
    def from_yaml(cls, text: str, *, source: str | None = None, context: dict[str, Any] | None = None) -> Self:
        """Load from YAML text; ``source`` names the text in errors (a file name)."""
        data, source_map = parse_yaml(text, source, limits=cls.input_limits())
        if data is None:
            issue = SpecIssue((), f"empty document: expected the keys of a {cls.__name__}", source)
            raise issues_error([issue], source)
        return cls.from_data(data, source_map=source_map, context=context)

    @classmethod
    def from_json(cls, text: str, *, source: str | None = None, context: dict[str, Any] | None = None) -> Self:
        """Load from JSON text (read by the YAML loader for line numbers, with a plain-JSON fallback)."""
        data, source_map = parse_json(text, source, limits=cls.input_limits())
        return cls.from_data(data, source_map=source_map, context=context)

    @classmethod
    def from_file(cls, path: str | Path, *, context: dict[str, Any] | None = None) -> Self:
        """Load a local ``.yaml``/``.yml``/``.json`` file; errors name the file and line."""
        path = Path(path)
        text = read_spec_file(path, cls.__name__, cls.input_limits())
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
def parse_yaml(text: str, source: str | None = None, *, limits: SpecLimits | None = None) -> tuple[Any, SourceMap]:
    """Parse one YAML (or JSON) document into Python data and a :class:`SourceMap` of its keys and items.

    YAML 1.2 values; duplicate keys, unknown tags, ambiguous numbers, recursive aliases and syntax errors raise a
    :class:`SpecValidationError` with their line; the size, nesting and alias limits (``limits``, else the
    ``MDIO_CATALOG_SPEC_*`` settings) a :class:`~mdio_catalog.exceptions.SpecLimitError`. See
    :mod:`mdio_catalog.specs.yamlread`.
    """
    return read_yaml(text, source, limits)


def parse_json(text: str, source: str | None = None, *, limits: SpecLimits | None = None) -> tuple[Any, SourceMap]:
    """JSON through the YAML loader (line numbers, duplicate keys); plain ``json`` if YAML cannot read it."""
    limits = limits or SpecLimits.current()
    try:
        return parse_yaml(text, source, limits=limits)
    except SpecLimitError:
        raise
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
        except ValueError as exc:  # a number too long to convert
            issue = SpecIssue((), f"invalid JSON: {exc}", source)
            raise issues_error([issue], source) from None
        except RecursionError:
            issue = SpecIssue(
                (), f"nesting deeper than {limits.max_depth} levels (MDIO_CATALOG_SPEC_MAX_DEPTH)", source
            )
            raise SpecLimitError(str(issue), issues=[issue]) from None
        if duplicates:
            raise issues_error(duplicates, source) from None
        check_data_limits(data, source, limits)
        return data, SourceMap(source)


def _read_limited(path: str, what: str, max_bytes: int | None) -> tuple[bytes, int]:
    """Up to ``max_bytes + 1`` bytes of a regular file and its size; a missing or unreadable file is a
    SpecValidationError naming it (a FIFO, device or symlink loop: NotRegularFileError, before it is opened)."""
    try:
        fd = open_regular_file(path, f"{what} file")
        with os.fdopen(fd, "rb") as handle:
            data = handle.read() if max_bytes is None else handle.read(max_bytes + 1)
            return data, os.fstat(handle.fileno()).st_size
    except (MDIONotFoundError, StorageError, OSError) as exc:
        if isinstance(exc, NotRegularFileError):
            raise
        reason = "No such file or directory" if isinstance(exc, FileNotFoundError) else getattr(exc, "strerror", None)
        issue = SpecIssue((), f"cannot read {what} file: {reason or exc}", path)
        raise SpecValidationError(str(issue), issues=[issue]) from None


def read_spec_file(path: str | Path, what: str, limits: SpecLimits) -> str:
    """The UTF-8 text of a local spec file, read only up to ``limits.max_bytes`` (plus one byte to notice more).

    A FIFO, device or symlink loop is refused before it is opened (:class:`NotRegularFileError`); a file that
    cannot be read is a :class:`SpecValidationError` naming it; bytes that are not UTF-8 a located one.
    """
    data, size = _read_limited(str(path), what, limits.max_bytes)
    if limits.max_bytes is not None and len(data) > limits.max_bytes:
        raise size_error(size, str(path), limits.max_bytes)
    return decode_text(data, str(path))


# --- dumping ------------------------------------------------------------------------------------------------------
class _Dumper(yaml.SafeDumper):
    """Block mappings, indented block lists, short lists of plain values in flow style ([128, 128, 128])."""

    def increase_indent(self, flow: bool = False, indentless: bool = False) -> None:
        super().increase_indent(flow, False)


# Strings that YAML 1.2 reads as numbers but YAML 1.1 (the dumper's resolver) would write plain are quoted, so a
# dump loads back equal: "0o17", "1e5", "+.5", and leading-zero digits such as "089" (which the loader refuses plain).
for _tag, _pattern, _first in (
    ("tag:yaml.org,2002:int", re.compile(r"^(?:[-+]?0[0-9]+|0o[0-7]+)$"), list("-+0")),
    (
        "tag:yaml.org,2002:float",
        re.compile(r"^[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?$"),
        list("-+.0123456789"),
    ),
):
    _Dumper.add_implicit_resolver(_tag, _pattern, _first)


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
