"""The arguments resolved specs hand to the converters really drive them (small real files, real stores)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from mdio_catalog import MDIOReader, create_empty, numpy_to_mdio, segy_to_mdio
from mdio_catalog.exceptions import SpecValidationError
from mdio_catalog.specs import CatalogSpec, SegyIngestSpec, resolve_all
from tests.converters.segy_factory import grid_columns, ramp_samples, write_segy

CATALOG = """\
version: 1
name: small
root: out
datasets:
  stack:
    template: PostStack3DTime
    source: {segy: raw/stack.sgy}
    chunks: [4, 4, 8]
    compression: {lossless: true}
  synth:
    source: {numpy: arrays/synth.npy, index_names: [inline, crossline, sample], index_coords: {inline: {start: 10}}}
    chunks: [2, 3, 4]
  grid:
    template: PostStack3DTime
    source:
      empty:
        - {name: inline, start: 1, count: 3}
        - {name: crossline, start: 1, count: 4}
        - {name: sample, start: 0, step: 4, count: 5}
    chunks: [2, 2, 5]
    access_patterns: {fast_z: [3, 4, 1]}
"""


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "raw").mkdir()
    (tmp_path / "arrays").mkdir()
    cols, index = grid_columns({189: [100, 101, 102], 193: [5, 6, 7, 8, 9]})
    write_segy(tmp_path / "raw" / "stack.sgy", cols, ramp_samples(index, 10))
    np.save(tmp_path / "arrays" / "synth.npy", np.arange(3 * 4 * 6, dtype=np.float32).reshape(3, 4, 6))
    (tmp_path / "catalog.yaml").write_text(CATALOG)
    return tmp_path


def test_resolved_datasets_build_with_the_converters(project: Path):
    catalog = CatalogSpec.from_file(project / "catalog.yaml")
    resolved = resolve_all(catalog)

    stack = resolved["stack"]
    segy_to_mdio(**stack.segy_to_mdio_kwargs(catalog.source_url("stack") or "", catalog.output_url("stack")))
    reader = MDIOReader(catalog.output_url("stack"))
    assert reader.shape == (3, 5, 10)
    assert reader.grid.dim_names == stack.dimensions
    assert reader.chunks == (4, 4, 8)
    assert reader.grid.select_dim("inline").values.tolist() == [100, 101, 102]

    synth = resolved["synth"]
    array = np.load(project / "arrays" / "synth.npy")
    numpy_to_mdio(array, **synth.numpy_to_mdio_kwargs(catalog.output_url("synth"), array.shape))
    reader = MDIOReader(catalog.output_url("synth"))
    assert reader.grid.select_dim("inline").values.tolist() == [10, 11, 12]
    np.testing.assert_array_equal(reader[:], array)
    assert reader.chunks == (2, 3, 4)

    grid = resolved["grid"]
    root = create_empty(grid.create_spec(catalog.output_url("grid")).to_config())
    assert root["data/chunked_012"].chunks == (2, 2, 5)
    assert root["data/chunked_fast_z"].chunks == (3, 4, 1)


def test_standalone_ingest_spec(project: Path):
    spec = SegyIngestSpec.from_yaml(
        f"""
segy: {project / "raw" / "stack.sgy"}
output: {project / "alone.mdio"}
index: [{{name: inline, byte: 189}}, {{name: crossline, byte: 193}}]
chunks: [2, 2, 10]
compression: {{lossless: false, tolerance: 0.001}}
storage_options: {{}}
"""
    )
    assert SegyIngestSpec.from_yaml(spec.to_yaml()) == spec
    kwargs = spec.to_kwargs(env={})
    assert kwargs["compression_tolerance"] == 0.001
    segy_to_mdio(**kwargs)
    assert MDIOReader(str(project / "alone.mdio")).shape == (3, 5, 10)
    with pytest.raises(SpecValidationError, match="credentials: named credentials need a catalog"):
        SegyIngestSpec.from_data({**spec.to_data(), "credentials": "lake"})
    with pytest.raises(SpecValidationError, match=r"chunks: 2 chunk sizes; 2 index dimensions plus the sample axis"):
        SegyIngestSpec.from_data({**spec.to_data(), "chunks": [2, 2]})
    with pytest.raises(SpecValidationError, match=r"output_storage_options\.key: environment variable 'NOPE'"):
        SegyIngestSpec.from_data({**spec.to_data(), "output_storage_options": {"key": "${NOPE}"}}).to_kwargs(env={})
