"""(De)serialisation of small payloads to JSON and YAML.

A serializer turns a plain dict into text and back; ``validate_payload`` checks a payload carries exactly the
keys a constructor expects, so a malformed document fails with the missing or extra keys named.

Every JSON text this package writes is strict JSON (RFC 8259: no ``NaN``, ``Infinity``), which every parser
reads. Two deliberate policies: reports meant for people and scripts (the CLI's ``--json``) show a non-finite
number as ``null`` (:func:`strict_json_value`, :func:`dumps_strict`); stored documents (Zarr attributes,
serialised dimensions) refuse one with a :class:`SerializationError` (:func:`require_strict_json`), since a
stored value silently turned into ``null`` would read back as something else.
"""

from __future__ import annotations

import json
import math
from abc import ABC, abstractmethod
from collections.abc import Callable
from inspect import Signature
from typing import Any

import yaml

from mdio_catalog.exceptions import PayloadKeyError, SerializationError

SUPPORTED_FORMATS = ("JSON", "YAML")


def _normalise_format(stream_format: str) -> str:
    fmt = str(stream_format).upper()
    if fmt not in SUPPORTED_FORMATS:
        raise SerializationError(f"Unsupported stream format {stream_format!r}; use one of {SUPPORTED_FORMATS}.")
    return fmt


def strict_json_value(value: Any) -> Any:
    """``value`` with every non-finite float (NaN, +-inf) replaced by None and numpy scalars made Python
    numbers, so ``json.dumps(..., allow_nan=False)`` accepts it (other types are left to the encoder)."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: strict_json_value(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [strict_json_value(v) for v in value]
    item = getattr(value, "item", None)
    if callable(item) and getattr(value, "shape", None) == ():  # a numpy scalar or 0-d array
        return strict_json_value(item())
    return value


def dumps_strict(value: Any, *, indent: int | None = 2, default: Callable[[Any], Any] | None = None) -> str:
    """Strict JSON text of a report: non-finite numbers become ``null`` (see the module docstring)."""
    if default is None:
        return json.dumps(strict_json_value(value), indent=indent, allow_nan=False)
    return json.dumps(
        strict_json_value(value), indent=indent, allow_nan=False, default=lambda v: strict_json_value(default(v))
    )


def _nonfinite_at(value: Any, path: str = "") -> str | None:
    """Where the first non-finite number of ``value`` is (``path[2].key``), None when there is none."""
    if isinstance(value, dict):
        found = (_nonfinite_at(v, f"{path}.{k}" if path else str(k)) for k, v in value.items())
    elif isinstance(value, list | tuple):
        found = (_nonfinite_at(v, f"{path}[{i}]") for i, v in enumerate(value))
    else:
        number = strict_json_value(value) if getattr(value, "shape", None) == () else value
        is_bad = isinstance(number, float) and not math.isfinite(number)
        return (path or "the value") if is_bad or (number is None and value is not None) else None
    return next((where for where in found if where is not None), None)


def require_strict_json(value: Any, what: str) -> None:
    """Raise :class:`SerializationError` when ``value`` holds a non-finite number (stored documents)."""
    where = _nonfinite_at(value)
    if where is not None:
        raise SerializationError(
            f"{what} holds a non-finite number (NaN or infinity) at {where}, which strict JSON cannot store; "
            "store null, a string, or a finite value instead."
        )


def _dumps_stored(payload: Any) -> str:
    require_strict_json(payload, "The payload")
    return json.dumps(payload, indent=4, allow_nan=False)


def get_serializer(stream_format: str) -> Callable[[Any], str]:
    """Return the function that turns a payload into text in ``stream_format`` ("JSON" or "YAML")."""
    if _normalise_format(stream_format) == "JSON":
        return _dumps_stored

    def dump_yaml(payload: Any) -> str:
        return str(yaml.safe_dump(payload, sort_keys=False))

    return dump_yaml


def get_deserializer(stream_format: str) -> Callable[[str], Any]:
    """Return the function that parses text in ``stream_format`` ("JSON" or "YAML") into a payload."""
    if _normalise_format(stream_format) == "JSON":
        return json.loads
    return yaml.safe_load


class Serializer(ABC):
    """Interface of every serializer: a stream format and a pair of serialize/deserialize methods."""

    def __init__(self, stream_format: str) -> None:
        self.format = _normalise_format(stream_format)
        self.serialize_func = get_serializer(self.format)
        self.deserialize_func = get_deserializer(self.format)

    @abstractmethod
    def serialize(self, payload: Any) -> str:
        """Serialise ``payload`` to text."""

    @abstractmethod
    def deserialize(self, stream: str) -> Any:
        """Parse ``stream`` back into the object."""

    def parse(self, stream: str) -> dict[str, Any]:
        """Parse text into a dict, turning syntax errors into :class:`SerializationError`."""
        try:
            payload = self.deserialize_func(stream)
        except (ValueError, yaml.YAMLError) as exc:
            raise SerializationError(f"Cannot parse {self.format} stream: {exc}") from exc
        if not isinstance(payload, dict):
            raise SerializationError(f"Expected a {self.format} mapping, got {type(payload).__name__}.")
        return payload

    @staticmethod
    def validate_payload(payload: dict[str, Any], signature: Signature) -> dict[str, Any]:
        """Check that ``payload`` has exactly the parameters of ``signature``; return it unchanged."""
        expected = set(signature.parameters)
        observed = set(payload)
        if expected != observed:
            missing = sorted(expected - observed)
            extra = sorted(observed - expected)
            parts = []
            if missing:
                parts.append(f"missing keys {missing}")
            if extra:
                parts.append(f"unexpected keys {extra}")
            raise PayloadKeyError(f"Payload does not match {sorted(expected)}: {'; '.join(parts)}.")
        return payload
