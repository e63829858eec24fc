"""Compressor, variable, dimension and create specs, and their round trips with the factory dataclasses."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from numcodecs import Blosc

from mdio_catalog.core.factory import MDIOCreateConfig, MDIOVariableConfig, create_empty
from mdio_catalog.core.grid import Grid
from mdio_catalog.core.headers import TRACE_HEADER_DTYPE
from mdio_catalog.exceptions import SpecValidationError
from mdio_catalog.specs.variables import (
    BloscSpec,
    CompressionSpec,
    CreateSpec,
    DimensionSpec,
    HeaderDtypeSpec,
    LosslessSpec,
    VariableSpec,
    ZfpSpec,
    compressor_from_codec,
)


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("lossless", LosslessSpec(id="lossless")),
        ({"lossless": True}, LosslessSpec(id="lossless")),
        ({"lossless": False, "tolerance": 0.5}, ZfpSpec(id="zfp", tolerance=0.5)),
        ({"lossless": False}, ZfpSpec(id="zfp", tolerance=0.01)),
        ({"id": "zfp", "tolerance": 1e-5}, ZfpSpec(id="zfp", tolerance=1e-5)),
        ("blosc", BloscSpec(id="blosc")),
        (
            {"id": "blosc", "cname": "lz4", "clevel": 3, "shuffle": "bitshuffle"},
            BloscSpec(id="blosc", cname="lz4", clevel=3, shuffle="bitshuffle"),
        ),
    ],
)
def test_compressor_forms(given, expected):
    spec = VariableSpec.from_data({"name": "chunked_012", "compressors": given})
    assert spec.compressors == expected
    assert VariableSpec.from_yaml(spec.to_yaml()) == spec


@pytest.mark.parametrize(
    ("given", "fragment"),
    [
        ({"id": "blsoc"}, "unknown id 'blsoc', did you mean 'blosc'?"),
        ({"id": "blosc", "clevel": 12}, "compressors.clevel: Input should be less than or equal to 9"),
        ({"id": "blosc", "cnam": "zstd"}, "compressors.cnam: unknown key 'cnam', did you mean 'cname'?"),
        ("lossy", "'lossy' needs a tolerance"),
        ({"id": "zfp"}, "compressors.tolerance: missing required key 'tolerance'"),
    ],
)
def test_compressor_errors(given, fragment):
    with pytest.raises(SpecValidationError, match="compressors") as info:
        VariableSpec.from_data({"name": "v", "compressors": given})
    assert fragment in str(info.value)


def test_compression_tolerance_only_when_lossy():
    assert CompressionSpec(lossless=False).compression_tolerance == 0.01
    assert CompressionSpec(lossless=False).explicit() == CompressionSpec(lossless=False, tolerance=0.01)
    with pytest.raises(SpecValidationError, match="tolerance: tolerance applies to lossy compression"):
        CompressionSpec.from_data({"lossless": True, "tolerance": 0.1})
    with pytest.raises(SpecValidationError, match="lossless: missing required key"):
        CompressionSpec.from_data({"tolerance": 0.1})


def test_codecs_and_back():
    blosc = BloscSpec(id="blosc", cname="zstd", clevel=5, shuffle="shuffle", blocksize=0)
    assert blosc.to_codec() == Blosc(cname="zstd", clevel=5, shuffle=Blosc.SHUFFLE, blocksize=0)
    assert compressor_from_codec(blosc.to_codec()) == blosc
    zfp = ZfpSpec(id="zfp", tolerance=0.25)
    assert compressor_from_codec(zfp.to_codec()) == zfp
    assert compressor_from_codec(None) is None
    assert compressor_from_codec([zfp.to_codec()]) == zfp


def test_variable_spec_to_config_and_back():
    header = np.dtype(
        {"names": ["inline", "crossline"], "formats": ["<i4", "<i4"], "offsets": [188, 192], "itemsize": 240}
    )
    config = MDIOVariableConfig("chunked_012", "float32", (8, 8, 16), Blosc(cname="zstd", clevel=5), header)
    spec = VariableSpec.from_config(config)
    assert spec.header_dtype is not None
    assert spec.header_dtype.fields[0].byte == 189
    back = spec.to_config()
    assert (back.name, back.dtype, back.chunks) == ("chunked_012", "float32", (8, 8, 16))
    assert back.compressors == config.compressors
    assert np.dtype(back.header_dtype) == header
    assert VariableSpec.from_config(back) == spec
    standard = VariableSpec.from_config(MDIOVariableConfig("chunked_01", "f4", None, None, TRACE_HEADER_DTYPE))
    assert standard.header_dtype is None
    assert standard.dtype == "float32"
    assert HeaderDtypeSpec.from_numpy(TRACE_HEADER_DTYPE).to_numpy() == TRACE_HEADER_DTYPE


@pytest.mark.parametrize(
    ("data", "fragment"),
    [
        ({"name": "a/b"}, "name: String should match pattern"),
        ({"name": "v", "dtype": "complex64"}, "dtype: 'complex64' is not a numeric type"),
        ({"name": "v", "dtype": "flaot32"}, "dtype: 'flaot32' is not a numeric type"),
        ({"name": "v", "chunks": [0, 4]}, "chunks[0]: Input should be greater than 0"),
        ({"name": "v", "chunks": ["8"]}, "chunks[0]: Input should be a valid integer"),
        (
            {
                "name": "v",
                "header_dtype": {"fields": [{"name": "a", "type": "int32", "byte": 1}, {"name": "b", "type": "int32"}]},
            },
            "give a byte for every header word",
        ),
    ],
)
def test_variable_errors(data, fragment):
    with pytest.raises(SpecValidationError) as info:
        VariableSpec.from_data(data)
    assert fragment in str(info.value)


def test_dimension_forms():
    assert DimensionSpec(name="il", start=10, count=3).values().tolist() == [10, 11, 12]
    assert DimensionSpec(name="t", start=0, step=2.5, count=3).values().tolist() == [0.0, 2.5, 5.0]
    assert DimensionSpec(name="x", coords=[1, 5, 6]).size == 3
    assert DimensionSpec.from_values("il", np.arange(5, 50, 5)) == DimensionSpec(name="il", start=5, step=5, count=9)
    assert DimensionSpec.from_values("x", [1, 5, 6]).coords == [1, 5, 6]
    with pytest.raises(SpecValidationError, match="coords: give coords or start/step/count, not both"):
        DimensionSpec.from_data({"name": "a", "coords": [1], "start": 1})
    with pytest.raises(SpecValidationError, match="count: dimension 'a' needs coords, or start and count"):
        DimensionSpec.from_data({"name": "a", "start": 1})


def test_create_spec_round_trips_through_the_factory(tmp_path: Path):
    spec = CreateSpec.from_yaml(
        f"""
path: {tmp_path / "empty.mdio"}
dimensions:
  - {{name: inline, start: 1, count: 4}}
  - {{name: crossline, coords: [10, 20, 40]}}
  - {{name: sample, start: 0, step: 4, count: 8}}
variables:
  - {{name: chunked_012, chunks: [2, 3, 8], compressors: {{lossless: false, tolerance: 0.5}}}}
  - {{name: chunked_fast, chunks: [4, 3, 1]}}
"""
    )
    config = spec.to_config()
    assert isinstance(config, MDIOCreateConfig)
    assert config.grid == Grid.from_coords(
        ["inline", "crossline", "sample"], [[1, 2, 3, 4], [10, 20, 40], range(0, 32, 4)]
    )
    assert CreateSpec.from_config(config) == spec
    root = create_empty(config)
    assert root["data/chunked_012"].chunks == (2, 3, 8)
    assert root["data/chunked_fast"].shape == (4, 3, 8)


@pytest.mark.parametrize(
    ("variables", "fragment"),
    [
        ([{"name": "a", "chunks": [1, 2]}], "variables[0].chunks: 2 chunk sizes for 3 dimensions"),
        ([{"name": "a"}, {"name": "a"}], "variables[1].name: variable 'a' is defined twice"),
    ],
)
def test_create_spec_errors(variables, fragment):
    dims = [{"name": "a", "start": 0, "count": 2}, {"name": "b", "start": 0, "count": 2}, {"name": "c", "coords": [0]}]
    with pytest.raises(SpecValidationError) as info:
        CreateSpec.from_data({"path": "x", "dimensions": dims, "variables": variables})
    assert fragment in str(info.value)
