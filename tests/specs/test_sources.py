"""Source specs: SEG-Y index fields, overrides against index names, NumPy and empty sources, telling them apart."""

from __future__ import annotations

import pytest
from pydantic import BaseModel

from mdio_catalog.core import layout
from mdio_catalog.exceptions import SpecValidationError
from mdio_catalog.segy.formats import SAMPLE_FORMATS
from mdio_catalog.segy.trace_headers import HEADER_TYPES
from mdio_catalog.specs.base import StrictModel
from mdio_catalog.specs.grid_overrides import GridOverrides
from mdio_catalog.specs.sources import (
    HEADER_TYPE_SIZES,
    SAMPLE_DIM,
    SAMPLE_FORMAT_CODES,
    TRACE_DIM,
    EmptySource,
    IndexField,
    NumpySource,
    SegySource,
    Source,
)


class Holder(StrictModel):
    source: Source


def test_tables_agree_with_the_segy_and_core_layers():
    # specs sit below segy/ and core/ and keep their own copies; these must not drift.
    assert set(HEADER_TYPE_SIZES) == set(HEADER_TYPES)
    assert set(SAMPLE_FORMAT_CODES.values()) == set(SAMPLE_FORMATS)
    assert {v: k for k, v in SAMPLE_FORMAT_CODES.items()} == {c: f.name for c, f in SAMPLE_FORMATS.items()}
    assert (SAMPLE_DIM, TRACE_DIM) == (layout.SAMPLE_DIM, layout.TRACE_DIM)


@pytest.mark.parametrize(
    ("data", "fragment"),
    [
        ({"name": "inline", "byte": 239, "type": "int32"}, "bytes 239..242 (int32) fall outside the 240-byte"),
        ({"name": "inline", "byte": 0}, "byte: Input should be greater than or equal to 1"),
        ({"name": "inline", "byte": "189"}, "byte: Input should be a valid integer"),
        ({"name": "inline", "byte": 189, "type": "int23"}, "type: 'int23' is not allowed, did you mean 'int32'?"),
        ({"name": "in line", "byte": 189}, "name: String should match pattern"),
        ({"name": "inline"}, "byte: missing required key 'byte'"),
    ],
)
def test_index_field_errors(data, fragment):
    with pytest.raises(SpecValidationError) as info:
        IndexField.from_data(data)
    assert fragment in str(info.value)


def test_segy_source_round_trip_with_overrides_by_alias():
    text = """segy: raw/shots.sgy
index:
  - {name: shot, byte: 17}
  - {name: cable, byte: null, type: int16}
  - {name: channel, byte: 13}
grid_overrides: {ChannelWrap: true, ChannelsPerCable: 800, CalculateCable: true}
endian: little
sample_format: ibm32
storage_options: {anon: true}
"""
    source = SegySource.from_yaml(text)
    assert source.grid_overrides == GridOverrides.parse(
        {"ChannelWrap": True, "ChannelsPerCable": 800, "CalculateCable": True}
    )
    assert source.sample_format == 1
    dumped = source.to_yaml()
    assert "grid_overrides: {ChannelWrap: true, ChannelsPerCable: 800, CalculateCable: true}" in dumped
    assert SegySource.from_yaml(dumped) == source
    assert SegySource.from_json(source.to_json()) == source


@pytest.mark.parametrize(
    ("data", "fragment"),
    [
        (
            {
                "segy": "a.sgy",
                "index": [{"name": "shot", "byte": 17}, {"name": "channel", "byte": 13}],
                "grid_overrides": {"ChannelWrap": True, "ChannelsPerCable": 8},
            },
            "grid_overrides: Grid overrides ChannelWrap need the index names 'cable'",
        ),
        (
            {
                "segy": "a.sgy",
                "index": [{"name": "cdp", "byte": 21}, {"name": "trace", "byte": 37}],
                "grid_overrides": {"NonBinned": True, "chunksize": 8},
            },
            "do not name an index 'trace'",
        ),
        (
            {"segy": "a.sgy", "index": [{"name": "cable", "byte": None}], "grid_overrides": {}},
            "index[0].byte: index 'cable' has no byte; only 'cable' with CalculateCable can",
        ),
        (
            {"segy": "a.sgy", "index": [{"name": "il", "byte": 189}, {"name": "il", "byte": 193}]},
            "index[1].name: index 'il' is named twice",
        ),
        (
            {"segy": "a.sgy", "grid_overrides": {"ChanelWrap": True}},
            "grid_overrides.ChanelWrap: unknown key 'ChanelWrap', did you mean 'ChannelWrap'?",
        ),
        (
            {"segy": "a.sgy", "grid_overrides": {"ChannelWrap": True}},
            "ChannelWrap needs the parameter ChannelsPerCable",
        ),
        (
            {"segy": "${DATA}/a.sgy"},
            "segy: environment references are only expanded in credentials and storage_options",
        ),
        ({"segy": "a.sgy", "storage_options": {"key": "${1BAD}"}}, "invalid environment reference"),
        ({"segy": "a.sgy", "sample_format": 4}, "sample_format:"),
        ({"segy": "a.sgy", "sample_format": "ibm"}, "unknown sample format 'ibm'"),
        ({"segy": ""}, "segy: String should have at least 1 character"),
    ],
)
def test_segy_source_errors(data, fragment):
    with pytest.raises(SpecValidationError) as info:
        SegySource.from_data(data)
    assert fragment in str(info.value)


def test_overrides_left_to_the_template_do_not_judge_computed_bytes():
    # cable without byte is fine as long as the overrides (from a template) are unknown here.
    source = SegySource(segy="a.sgy", index=[IndexField(name="cable", byte=None)])
    assert source.grid_overrides is None


def test_numpy_source():
    source = NumpySource.from_yaml(
        "numpy: arrays/a.npz\nkey: data\nindex_names: [inline, crossline, sample]\n"
        "index_coords: {inline: [1, 2, 3], sample: {start: 0, step: 4}}\n"
    )
    assert NumpySource.from_yaml(source.to_yaml()) == source
    for data, fragment in [
        ({"numpy": "a.txt"}, "is not a .npy or .npz file"),
        ({"numpy": "a.npy", "key": "x"}, "key: key selects an array of a .npz file"),
        (
            {"numpy": "a.npy", "index_names": ["a", "b"], "index_coords": {"c": [1]}},
            "index_coords.c: 'c' is not one of",
        ),
        ({"numpy": "a.npy", "index_coords": {"c": [1]}}, "index_coords: index_coords needs index_names"),
        ({"numpy": "a.npy", "index_coords": {"c": {"step": 0}}}, "step must not be 0"),
    ]:
        with pytest.raises(SpecValidationError) as info:
            NumpySource.from_data(data)
        assert fragment in str(info.value)


def test_empty_source():
    source = EmptySource.from_yaml(
        "empty:\n  - {name: il, start: 1, count: 3}\n  - {name: sample, coords: [0, 2]}\ndtype: f4\n"
    )
    assert source.dtype == "float32"
    assert EmptySource.from_yaml(source.to_yaml()) == source
    with pytest.raises(SpecValidationError, match=r"empty\[1\].name: dimension 'il' is defined twice"):
        EmptySource.from_data({"empty": [{"name": "il", "coords": [1]}, {"name": "il", "coords": [1]}]})
    with pytest.raises(SpecValidationError, match="empty: List should have at least 2 items"):
        EmptySource.from_data({"empty": [{"name": "il", "coords": [1]}]})


@pytest.mark.parametrize(
    ("source", "kind"),
    [
        ({"segy": "a.sgy"}, SegySource),
        ({"numpy": "a.npy"}, NumpySource),
        ({"empty": [{"name": "a", "coords": [1]}, {"name": "b", "coords": [1]}]}, EmptySource),
    ],
)
def test_sources_are_told_apart_by_their_key(source, kind):
    holder = Holder.from_data({"source": source})
    assert isinstance(holder.source, kind)
    assert Holder.from_yaml(holder.to_yaml()) == holder
    assert Holder.from_data({"source": holder.source}) == holder  # model instances too


@pytest.mark.parametrize(
    "source", [{}, {"segy": "a.sgy", "numpy": "b.npy"}, {"sgy": "a.sgy"}, "a.sgy"], ids=["none", "two", "typo", "str"]
)
def test_missing_or_ambiguous_source(source):
    with pytest.raises(SpecValidationError, match="source: a source needs exactly one of the keys 'segy'"):
        Holder.from_data({"source": source})


def test_errors_inside_a_source_have_plain_paths():
    with pytest.raises(SpecValidationError) as info:
        Holder.from_yaml("source:\n  segy: a.sgy\n  index: [{name: il, byte: 189, tpye: int32}]\n", source="c.yaml")
    assert str(info.value).startswith("c.yaml:3:33: source.index[0].tpye: unknown key 'tpye', did you mean 'type'?")
    assert issubclass(SegySource, BaseModel)
