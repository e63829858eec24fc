"""Dimension: construction, min/max/size, equality, dict and JSON/YAML round trips, payload validation."""

from __future__ import annotations

import json

import numpy as np
import pytest
import yaml

from mdio_catalog.core.dimension import Dimension, DimensionSerializer
from mdio_catalog.exceptions import MDIOError, PayloadKeyError, SerializationError, ShapeError


@pytest.fixture
def inline() -> Dimension:
    return Dimension(coords=np.arange(10, 50, 4, dtype=np.int32), name="inline")


@pytest.mark.parametrize(
    "coords",
    [[5, 3, 9, 1], (5, 3, 9, 1), np.array([5, 3, 9, 1], dtype=np.int16), range(5, 13, 2), [0.5, -2.25, 7.0]],
)
def test_size_min_max_match_numpy(coords):
    dim = Dimension(coords, "d")
    expected = np.asarray(list(coords))
    assert dim.size == expected.size == len(dim)
    assert dim.min() == expected.min()
    assert dim.max() == expected.max()
    np.testing.assert_array_equal(dim.values, expected)
    assert dim.name == "d"


def test_indexing_reads_coordinates(inline):
    assert inline[0] == 10
    assert inline[-1] == 46
    np.testing.assert_array_equal(inline[1:3], [14, 18])


@pytest.mark.parametrize("coords", [np.zeros((2, 3)), [[1, 2], [3, 4]], 5, np.float32(1.5)])
def test_non_vector_coords_raise_shape_error(coords):
    with pytest.raises(ShapeError, match="vector") as info:
        Dimension(coords, "bad")
    assert isinstance(info.value, ValueError)
    assert isinstance(info.value, MDIOError)


def test_equality_uses_name_and_coords(inline):
    same = Dimension(list(range(10, 50, 4)), "inline")
    assert inline == same
    assert inline != Dimension(list(range(10, 50, 4)), "crossline")
    assert inline != Dimension(list(range(10, 54, 4)), "inline")
    assert inline != Dimension(list(range(11, 51, 4)), "inline")
    assert inline != "inline"
    assert (inline == object()) is False


def test_equal_dimensions_hash_equal():
    # Python's data model: a == b implies hash(a) == hash(b), whatever the dtype of the coordinate vectors.
    as_int64 = Dimension(np.array([1, 2, 3], dtype=np.int64), "x")
    as_int32 = Dimension(np.array([1, 2, 3], dtype=np.int32), "x")
    as_float = Dimension([1.0, 2.0, 3.0], "x")
    assert as_int64 == as_int32 == as_float
    assert hash(as_int64) == hash(as_int32) == hash(as_float)
    assert len({as_int64, as_int32, as_float}) == 1


def test_to_dict_is_plain_json(inline):
    payload = inline.to_dict()
    assert set(payload) == {"name", "coords"}
    assert payload["name"] == "inline"
    assert payload["coords"] == list(range(10, 50, 4))
    assert all(type(c) is int for c in payload["coords"])
    # json refuses numpy scalars, so this fails if any leaked through.
    assert json.loads(json.dumps(payload)) == {"name": "inline", "coords": list(range(10, 50, 4))}


def test_to_dict_float_coords_are_python_floats():
    coords = np.array([0.0, 0.5, 1.25], dtype=np.float32)
    payload = Dimension(coords, "sample").to_dict()
    assert all(type(c) is float for c in payload["coords"])
    assert payload["coords"] == [0.0, 0.5, 1.25]


def test_from_dict_round_trip(inline):
    rebuilt = Dimension.from_dict({"name": "inline", "coords": list(range(10, 50, 4))})
    assert rebuilt == inline
    assert Dimension.from_dict(inline.to_dict()) == inline


@pytest.mark.parametrize(
    ("payload", "named"),
    [
        ({"name": "x", "coords": [1], "units": "m"}, "units"),
        ({"name": "x"}, "coords"),
        ({"coords": [1, 2]}, "name"),
        ({}, "coords"),
    ],
)
def test_from_dict_wrong_keys_raise_payload_key_error(payload, named):
    with pytest.raises(PayloadKeyError) as info:
        Dimension.from_dict(payload)
    err = info.value
    assert isinstance(err, KeyError)
    assert isinstance(err, SerializationError)
    assert isinstance(err, MDIOError)
    assert named in str(err)


def test_serialize_json_parses_with_json_module(inline):
    text = inline.serialize("JSON")
    assert json.loads(text) == {"name": "inline", "coords": list(range(10, 50, 4))}


def test_serialize_yaml_parses_with_yaml_module(inline):
    text = inline.serialize("YAML")
    assert yaml.safe_load(text) == {"name": "inline", "coords": list(range(10, 50, 4))}


@pytest.mark.parametrize("fmt", ["JSON", "YAML"])
@pytest.mark.parametrize(
    "coords", [np.arange(5, dtype=np.int64), np.linspace(0.0, 2.0, 5), np.array([-3, 7, 100], dtype=np.int16)]
)
def test_serialize_deserialize_round_trip(fmt, coords):
    dim = Dimension(coords, "offset")
    back = Dimension.deserialize(dim.serialize(fmt), fmt)
    assert back == dim
    np.testing.assert_array_equal(back.values, coords)


def test_deserialize_foreign_text():
    json_text = json.dumps({"name": "crossline", "coords": [1, 2, 3]})
    yaml_text = yaml.safe_dump({"coords": [4.5, 5.5], "name": "sample"})
    assert Dimension.deserialize(json_text, "JSON") == Dimension([1, 2, 3], "crossline")
    assert Dimension.deserialize(yaml_text, "YAML") == Dimension([4.5, 5.5], "sample")


@pytest.mark.parametrize("fmt", ["JSON", "YAML"])
def test_deserialize_extra_key_raises(fmt):
    text = json.dumps({"name": "x", "coords": [1], "extra": 1})  # JSON is valid YAML too
    with pytest.raises(PayloadKeyError, match="extra"):
        Dimension.deserialize(text, fmt)


@pytest.mark.parametrize(("text", "fmt"), [("{not json", "JSON"), ("[1, 2]", "JSON"), ("a: [1, 2", "YAML")])
def test_deserialize_bad_text_raises_serialization_error(text, fmt):
    with pytest.raises(SerializationError):
        Dimension.deserialize(text, fmt)


def test_unsupported_format_raises(inline):
    with pytest.raises(SerializationError, match="XML"):
        inline.serialize("XML")
    with pytest.raises(SerializationError):
        DimensionSerializer("TOML")


def test_dimension_serializer_rejects_non_dimension():
    with pytest.raises(SerializationError, match="Dimension"):
        DimensionSerializer("JSON").serialize({"name": "x", "coords": [1]})  # type: ignore[arg-type]


def test_dimension_serializer_object_round_trip(inline):
    serializer = DimensionSerializer("YAML")
    assert serializer.format == "YAML"
    assert serializer.deserialize(serializer.serialize(inline)) == inline
