"""get_serializer / get_deserializer / Serializer.validate_payload against the json and yaml modules."""

from __future__ import annotations

import json
from inspect import signature
from typing import Any

import pytest
import yaml

from mdio_catalog.core.serialization import Serializer, get_deserializer, get_serializer
from mdio_catalog.exceptions import MDIOError, PayloadKeyError, SerializationError

PAYLOAD = {"name": "inline", "coords": [1, 2, 3], "nested": {"a": 1.5, "b": [True, None, "s"]}}


def test_json_serializer_output_is_json():
    text = get_serializer("JSON")(PAYLOAD)
    assert isinstance(text, str)
    assert json.loads(text) == PAYLOAD


def test_yaml_serializer_output_is_yaml():
    text = get_serializer("YAML")(PAYLOAD)
    assert yaml.safe_load(text) == PAYLOAD
    # Keys keep the payload's order (the document reads name first, like the dict).
    assert text.index("name") < text.index("coords") < text.index("nested")


def test_json_deserializer_reads_json_text():
    assert get_deserializer("JSON")(json.dumps(PAYLOAD)) == PAYLOAD


def test_yaml_deserializer_reads_yaml_text():
    assert get_deserializer("YAML")(yaml.safe_dump(PAYLOAD)) == PAYLOAD


def test_yaml_deserializer_is_safe():
    # A python-object tag must not be constructed by the YAML deserializer.
    with pytest.raises(yaml.YAMLError):
        get_deserializer("YAML")("!!python/object/apply:os.getcwd []")


@pytest.mark.parametrize("fmt", ["XML", "", "JSONL", "yml"])
def test_unsupported_format_raises(fmt):
    for factory in (get_serializer, get_deserializer):
        with pytest.raises(SerializationError) as info:
            factory(fmt)
        assert isinstance(info.value, ValueError)
        assert isinstance(info.value, MDIOError)


def _constructor(coords: Any, name: str) -> None:
    """A stand-in constructor whose signature is the oracle for validate_payload."""


SIG = signature(_constructor)


def test_validate_payload_accepts_exact_keys():
    payload = {"coords": [1], "name": "x"}
    assert Serializer.validate_payload(payload, SIG) == {"coords": [1], "name": "x"}


@pytest.mark.parametrize(
    ("payload", "missing", "extra"),
    [
        ({"coords": [1]}, ["name"], []),
        ({"coords": [1], "name": "x", "unit": "m"}, [], ["unit"]),
        ({"name": "x", "unit": "m"}, ["coords"], ["unit"]),
        ({}, ["coords", "name"], []),
    ],
)
def test_validate_payload_names_missing_and_extra_keys(payload, missing, extra):
    with pytest.raises(PayloadKeyError) as info:
        Serializer.validate_payload(payload, SIG)
    message = str(info.value)
    assert isinstance(info.value, KeyError)
    for key in missing + extra:
        assert repr(key) in message
    assert ("missing" in message) == bool(missing)
    assert ("unexpected" in message) == bool(extra)


def test_payload_key_error_str_is_not_quoted():
    with pytest.raises(PayloadKeyError) as info:
        Serializer.validate_payload({}, SIG)
    assert str(info.value).startswith("Payload")


def test_serializer_is_abstract():
    with pytest.raises(TypeError):
        Serializer("JSON")  # type: ignore[abstract]


class _DictSerializer(Serializer):
    def serialize(self, payload: Any) -> str:
        return self.serialize_func(payload)

    def deserialize(self, stream: str) -> Any:
        return self.parse(stream)


@pytest.mark.parametrize("fmt", ["JSON", "YAML"])
def test_concrete_serializer_round_trip(fmt):
    serializer = _DictSerializer(fmt)
    assert serializer.format == fmt
    assert serializer.deserialize(serializer.serialize(PAYLOAD)) == PAYLOAD


def test_concrete_serializer_rejects_unknown_format():
    with pytest.raises(SerializationError):
        _DictSerializer("CSV")


@pytest.mark.parametrize(
    ("fmt", "text"), [("JSON", "{'single': 'quotes'}"), ("JSON", "[1, 2]"), ("YAML", "- a\n- b\n"), ("YAML", "{a: [")]
)
def test_parse_rejects_bad_or_non_mapping_text(fmt, text):
    with pytest.raises(SerializationError):
        _DictSerializer(fmt).deserialize(text)
