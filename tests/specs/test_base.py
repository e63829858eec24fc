"""StrictModel and the YAML/JSON loader: line numbers, duplicate keys, did-you-mean, dumps that load back equal."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import Field, ValidationError

from mdio_catalog.exceptions import MDIOError, SpecError, SpecValidationError
from mdio_catalog.specs.base import StrictModel, dump_yaml, parse_json, parse_yaml
from mdio_catalog.specs.errors import SpecIssue, clean_loc, format_path


class Inner(StrictModel):
    byte: int
    type: str = "int32"


class Outer(StrictModel):
    name: str
    items: list[Inner] = Field(default_factory=list)
    table: dict[str, Inner] = Field(default_factory=dict)


def test_parse_yaml_records_key_and_item_lines():
    text = "name: a\nitems:\n  - {byte: 1}\n  - byte: 5\n    type: int16\ntable:\n  x:\n    byte: 9\n"
    data, source_map = parse_yaml(text, "f.yaml")
    assert data == {"name": "a", "items": [{"byte": 1}, {"byte": 5, "type": "int16"}], "table": {"x": {"byte": 9}}}
    assert source_map.locate(("name",)) == (1, 1)
    assert source_map.locate(("items", 1, "type")) == (5, 5)
    assert source_map.locate(("table", "x")) == (7, 3)  # the key's line, not its block value's
    assert source_map.locate(("table", "x", "missing", "deeper")) == (7, 3)  # nearest ancestor
    assert source_map.locate(("items", 0, "byte"))[0] == 3


@pytest.mark.parametrize(
    ("text", "where", "path"),
    [
        ("name: a\nname: b\n", "f.yaml:2:1", "name"),
        ("name: a\ntable:\n  x: {byte: 1}\n  y: {byte: 2}\n  x: {byte: 3}\n", "f.yaml:5:3", "table.x"),
        ("name: a\nitems: [{byte: 1, byte: 2}]\n", "f.yaml:2:19", "items[0].byte"),
    ],
)
def test_duplicate_keys_are_errors_with_their_line(text, where, path):
    with pytest.raises(SpecValidationError, match="duplicate key") as info:
        parse_yaml(text, "f.yaml")
    assert str(info.value).startswith(f"{where}: {path}: duplicate key")
    assert "first defined on line" in str(info.value)


def test_merge_keys_may_override_without_being_duplicates():
    data, _ = parse_yaml("base: &b {byte: 1, type: int16}\nx:\n  <<: *b\n  byte: 2\n")
    assert data["x"] == {"byte": 2, "type": "int16"}


def test_yaml_syntax_errors_have_a_line():
    with pytest.raises(SpecValidationError, match=r"^f.yaml:\d+:\d+: invalid YAML: while parsing a flow sequence"):
        parse_yaml("name: a\nitems: [1, 2\n", "f.yaml")


def test_json_is_read_with_lines_and_yaml12_floats():
    data, source_map = parse_json('{\n  "name": "a",\n  "items": [{"byte": 1e-05}]\n}', "f.json")
    assert data["items"][0]["byte"] == 1e-05
    assert source_map.locate(("items", 0, "byte"))[0] == 3
    with pytest.raises(SpecValidationError, match="duplicate key 'name'"):
        parse_json('{"name": "a", "name": "b"}', "f.json")


def test_json_that_yaml_cannot_read_falls_back_to_json():
    data, _ = parse_json('{"name":\t"a\\/b"}')
    assert data == {"name": "a/b"}


def test_unknown_keys_name_the_closest_known_key_and_the_line():
    with pytest.raises(SpecValidationError) as info:
        Outer.from_yaml("name: a\nitems:\n  - {byte: 1, tpye: int16}\n", source="f.yaml")
    message = str(info.value)
    assert message.startswith("f.yaml:3:15: items[0].tpye: unknown key 'tpye', did you mean 'type'?")
    assert "allowed: byte, type" in message
    (issue,) = info.value.issues
    assert isinstance(issue, SpecIssue)
    assert (issue.source, issue.line, issue.path) == ("f.yaml", 3, ("items", 0, "tpye"))
    assert isinstance(info.value, SpecError)
    assert isinstance(info.value, MDIOError)
    assert isinstance(info.value, ValueError)


def test_every_problem_is_reported_once_with_its_place():
    with pytest.raises(SpecValidationError) as info:
        Outer.from_yaml("nme: a\nitems:\n  - {byte: x}\n", source="f.yaml")
    lines = str(info.value).splitlines()
    assert lines[0] == "3 problems in f.yaml:"
    assert any(line.strip().startswith("f.yaml:1:1: name: missing required key 'name'") for line in lines)
    assert any("f.yaml:1:1: nme: unknown key 'nme', did you mean 'name'?" in line for line in lines)
    assert any(line.strip().startswith("f.yaml:3:") and "items[0].byte" in line for line in lines)


def test_python_objects_validate_with_paths_but_no_lines():
    with pytest.raises(SpecValidationError) as info:
        Outer.from_data({"name": "a", "table": {"k": {"byte": "x"}}})
    assert str(info.value).startswith("table.k.byte: Input should be a valid integer")
    # Plain pydantic construction still raises pydantic's error (a ValueError too).
    with pytest.raises(ValidationError):
        Inner(byte="x")  # type: ignore[arg-type]


def test_models_are_frozen_and_compare_by_fields_only():
    loaded = Outer.from_yaml("name: a\nitems: [{byte: 1}]\n", source="f.yaml")
    built = Outer(name="a", items=[Inner(byte=1)])
    assert loaded == built
    assert loaded.source_map is not None
    assert built.source_map is None
    with pytest.raises(ValidationError):
        loaded.name = "b"  # type: ignore[misc]
    assert hash(Inner(byte=1)) == hash(Inner(byte=1))


def test_dumps_round_trip_and_look_like_handwritten_yaml(tmp_path: Path):
    model = Outer(name="a", items=[Inner(byte=1), Inner(byte=5, type="int16")], table={"x": Inner(byte=9)})
    text = model.to_yaml(schema="../schemas/x.schema.json")
    assert text.splitlines()[0] == "# yaml-language-server: $schema=../schemas/x.schema.json"
    assert "  - {byte: 5, type: int16}" in text
    assert Outer.from_yaml(text) == model
    assert Outer.from_json(model.to_json()) == model
    assert Outer.from_yaml(Outer.from_yaml(text).to_yaml(schema="../schemas/x.schema.json")) == model
    for name in ("m.yaml", "m.json"):
        model.to_file(tmp_path / name)
        assert Outer.from_file(tmp_path / name) == model


def test_missing_file_is_a_spec_error(tmp_path: Path):
    with pytest.raises(SpecValidationError, match="cannot read Outer file"):
        Outer.from_file(tmp_path / "nope.yaml")


def test_dump_yaml_styles():
    text = dump_yaml({"chunks": [128, 128], "names": ["a", "b"], "long": "x" * 120, "multi": "a\nb"})
    assert "chunks: [128, 128]" in text
    assert "names: [a, b]" in text
    assert parse_yaml(text)[0]["long"] == "x" * 120
    assert parse_yaml(text)[0]["multi"] == "a\nb"


def test_clean_loc_drops_union_labels_and_keeps_missing_keys():
    data = {"source": {"segy": "x", "index": [{"byte": 1}]}}
    assert clean_loc(("source", "SegySource", "index", 0, "name"), data, keep_missing_last=True) == (
        "source",
        "index",
        0,
        "name",
    )
    assert clean_loc(("chunks", "list[int]", 0), {"chunks": 5}) == ("chunks", 0)
    assert format_path(("datasets", "a b", "index", 0)) == "datasets['a b'].index[0]"
