"""Catalogs built in Python: round trips through YAML, and Catalog.from_model building into base_dir."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import yaml

from mdio_catalog import MDIOReader
from mdio_catalog.catalog import Catalog
from mdio_catalog.specs.catalog import CatalogSpec, DatasetSpec
from mdio_catalog.specs.resolve import spec_hash
from mdio_catalog.specs.sources import EmptySource, IndexField, NumpySource, RangeSpec, SegySource
from mdio_catalog.specs.variables import CompressionSpec, DimensionSpec
from tests.catalog import lock_files, post_stack_segy, read_lock
from tests.converters.segy_factory import expected_grid


def python_spec() -> CatalogSpec:
    return CatalogSpec(
        version=1,
        name="from-python",
        description="Built in Python, not read from a file.",
        root="built/mdio",
        datasets={
            "stack": DatasetSpec(
                template="PostStack3DTime",
                source=SegySource(segy="raw/stack.sgy"),
                chunks=(4, 4, 8),
                access_patterns={"fast_z": (6, 7, 2)},
                description="the stack",
            ),
            "plain": DatasetSpec(
                source=SegySource(
                    segy="raw/stack.sgy",
                    index=[IndexField(name="il", byte=189, type="int32"), IndexField(name="xl", byte=193)],
                ),
                chunks=(2, 7, 12),
                compression=CompressionSpec(lossless=True),
            ),
            "velocity": DatasetSpec(
                source=NumpySource(
                    numpy="raw/velocity.npy",
                    index_names=["inline", "crossline", "depth"],
                    index_coords={"inline": RangeSpec(start=10), "depth": RangeSpec(start=0, step=5)},
                ),
                chunks=(3, 7, 12),
            ),
            "empty": DatasetSpec(
                source=EmptySource(
                    empty=[
                        DimensionSpec(name="inline", start=1, count=3),
                        DimensionSpec(name="sample", start=0, step=4, count=6),
                    ]
                ),
                chunks=(3, 6),
            ),
        },
    )


def test_model_yaml_model_round_trip() -> None:
    spec = python_spec()
    text = spec.to_yaml()
    again = CatalogSpec.from_yaml(text)
    assert again == spec
    # YAML -> model -> YAML gives the same text, and plain YAML reads the same data
    assert again.to_yaml() == text
    assert yaml.safe_load(text) == spec.to_data()
    assert CatalogSpec.from_json(spec.to_json()) == spec
    assert CatalogSpec.from_yaml(spec.to_yaml(exclude_defaults=False)) == spec


def test_yaml_model_yaml_round_trip(tmp_path: Path) -> None:
    text = """\
version: 1
name: hand-written
root: ./out
defaults:
  chunks: [[4, 4, 8]]
datasets:
  stack:
    template: PostStack3DTime
    source: {segy: data/stack.sgy, grid_overrides: {}}
    access_patterns: {fast_z: null, fast_il: [1, 7, 12]}
    description: Hand written.
  grid:
    source:
      empty:
        - {name: inline, start: 1, count: 3}
        - {name: sample, coords: [0, 4, 8]}
      dtype: float64
"""
    (tmp_path / "catalog.yaml").write_text(text)
    model = CatalogSpec.from_file(tmp_path / "catalog.yaml")
    dumped = model.to_yaml()
    assert yaml.safe_load(dumped) == yaml.safe_load(text)
    assert CatalogSpec.from_yaml(dumped) == model
    assert CatalogSpec.from_yaml(dumped).to_yaml() == dumped


def test_from_model_builds_into_base_dir(tmp_path: Path) -> None:
    base = tmp_path / "project"
    src = post_stack_segy(base / "raw" / "stack.sgy")
    velocity = np.arange(6 * 7 * 12, dtype=np.float32).reshape(6, 7, 12)
    np.save(base / "raw" / "velocity.npy", velocity)
    spec = python_spec()

    catalog = Catalog.from_model(spec, base_dir=base)
    assert {s.state for s in catalog.status()} == {"never built"}
    report = catalog.build()
    assert sorted(r.dataset for r in report.built) == ["empty", "plain", "stack", "velocity"]
    assert {s.state for s in catalog.status()} == {"fresh"}

    out = base / "built" / "mdio"
    assert sorted(p.name for p in out.iterdir()) == ["empty.mdio", "plain.mdio", "stack.mdio", "velocity.mdio"]
    assert (base / "catalog.lock.d").is_dir()
    assert lock_files(tmp_path) == {}
    lock = read_lock(base)
    assert lock["catalog"] == "from-python"
    assert Path(lock["entries"]["stack"]["source"]["url"]).resolve() == (base / "raw" / "stack.sgy").resolve()

    _, cells = expected_grid([src.column(189), src.column(193)])
    stack = catalog.open("stack")
    np.testing.assert_array_equal(stack[...][tuple(cells.T)], src.samples)
    plain = MDIOReader(str(out / "plain.mdio"), access_pattern="012", return_metadata=True)
    assert plain.grid.dim_names == ("il", "xl", "sample")
    assert plain.chunks == (2, 7, 12)
    vel = catalog.open("velocity", return_metadata=True)
    assert vel.grid.dim_names == ("inline", "crossline", "depth")
    np.testing.assert_array_equal(vel.grid.select_dim("inline").coords, np.arange(10, 16))
    np.testing.assert_array_equal(vel.grid.select_dim("depth").coords, np.arange(12) * 5)
    np.testing.assert_array_equal(vel[...][2], velocity)
    assert catalog.open("empty").shape == (3, 6)

    # the same catalog written to YAML in base_dir and loaded from the file has the same spec hashes: it is fresh
    spec.to_file(base / "catalog.yaml")
    from_file = Catalog.from_file(base / "catalog.yaml")
    for name in spec.datasets:
        assert spec_hash(from_file.get(name)) == spec_hash(catalog.get(name))
    assert {s.state for s in from_file.status()} == {"fresh"}
    assert from_file.build().built == []
