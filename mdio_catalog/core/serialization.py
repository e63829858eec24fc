"""(De)serialisation of small payloads to JSON and YAML.

A serializer turns a plain dict into text and back; ``validate_payload`` checks a payload carries exactly the
keys a constructor expects, so a malformed document fails with the missing or extra keys named.
"""

from __future__ import annotations

import json
from abc import ABC, abstractmethod
from collections.abc import Callable
from functools import partial
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


def get_serializer(stream_format: str) -> Callable[[Any], str]:
    """Return the function that turns a payload into text in ``stream_format`` ("JSON" or "YAML")."""
    if _normalise_format(stream_format) == "JSON":
        return partial(json.dumps, indent=4)

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
