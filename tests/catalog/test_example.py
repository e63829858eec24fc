"""The example catalog (examples/catalog.yaml), copied elsewhere, builds end to end there."""

from __future__ import annotations

import importlib.util
import shutil
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import numpy as np
import pytest
import segyio

from mdio_catalog import MDIOReader
from mdio_catalog.catalog import Catalog
from tests.catalog import EXAMPLES, leftovers, lock_text, read_lock
from tests.converters.segy_factory import correct_segyio_ibm, expected_grid, ibm_words, read_with_segyio

EXPECTED_SHAPES = {
    "stack": (40, 50, 200),
    "gathers": (8, 10, 6, 150),
    "shots": (5, 2, 24, 150),
    "velocity": (40, 50, 200),
    "processed": (40, 50, 200),
    "stack_crop": (20, 30, 51),  # inline 110..129, crossline 310..339, samples 0..400 ms every other one
    "stack_browse": (40, 50, 200),
}


def make_data_module() -> ModuleType:
    spec = importlib.util.spec_from_file_location("example_make_data", EXAMPLES / "make_data.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def example(tmp_path: Path) -> Path:
    """The examples folder copied to tmp_path/somewhere/else, without built output, lock or data."""
    target = tmp_path / "somewhere" / "else"
    ignored = shutil.ignore_patterns("out", "data", "catalog.lock", "catalog.lock.d", "__pycache__")
    shutil.copytree(EXAMPLES, target, ignore=ignored)
    make_data_module().make(target / "data")
    return target


def test_example_catalog_builds_where_it_was_copied(example: Path) -> None:
    catalog = Catalog.from_file(example / "catalog.yaml")
    assert catalog.list() == list(EXPECTED_SHAPES)
    assert {s.state for s in catalog.status()} == {"never built"}

    report = catalog.build()
    assert [r.dataset for r in report.built] == [*EXPECTED_SHAPES, "stack_delivery"]
    assert {s.state for s in catalog.status()} == {"fresh"}

    # everything was written inside the copy, relative to the catalog file
    root = example / "out" / "catalog"
    assert sorted(p.name for p in root.iterdir()) == sorted([*(f"{n}.mdio" for n in EXPECTED_SHAPES), "deliveries"])
    assert leftovers(root) == []
    lock = read_lock(example)
    assert lock["catalog"] == "example-survey"
    for name, entry in lock["entries"].items():
        if name == "stack_delivery":  # an export: a SEG-Y file inside the root, recorded with size and SHA-256
            assert Path(entry["output"]).resolve() == (root / "deliveries" / "stack_crop.sgy").resolve()
            assert entry["parameters"]["export"]["size"] == (root / "deliveries" / "stack_crop.sgy").stat().st_size
            continue
        assert Path(entry["output"]).resolve() == (root / f"{name}.mdio").resolve()
        if name.startswith("stack_"):  # derived: read from the stack as built, recorded with its build
            assert Path(entry["source"]["url"]).resolve() == (root / "stack.mdio").resolve()
            assert entry["derived_from"]["spec_hash"] == lock["entries"]["stack"]["spec_hash"]
        elif name != "processed":
            assert Path(entry["source"]["url"]).resolve().parent == (example / "data").resolve()
    assert str(EXAMPLES) not in lock_text(example)

    for name, shape in EXPECTED_SHAPES.items():
        reader = catalog.open(name)
        assert isinstance(reader, MDIOReader)
        assert reader.shape == shape, name
        assert lock["entries"][name]["shape"] == list(shape)

    # the values: stack against segyio (IBM floats, segyio's tiny-value decoding corrected exactly), velocity
    # against numpy, processed empty
    view = read_with_segyio(example / "data" / "stack.sgy", [189, 193])
    traces = correct_segyio_ibm(view.traces, ibm_words(example / "data" / "stack.sgy", 200))
    coords, cells = expected_grid([view.words[189], view.words[193]])
    stack = catalog.open("stack", return_metadata=True)
    live, _, data = stack[...]
    np.testing.assert_array_equal(data[tuple(cells.T)], traces)
    assert int(live.sum()) == traces.shape[0] == stack.trace_count
    np.testing.assert_array_equal(stack.grid.select_dim("inline").coords, coords[0])
    assert set(stack.access_patterns) == {"012", "fast_z"}
    np.testing.assert_array_equal(catalog.open("stack", access_pattern="fast_z")[...], data)
    np.testing.assert_array_equal(catalog.open("velocity")[...], np.load(example / "data" / "velocity.npy"))
    processed = catalog.open("processed", return_metadata=True)
    assert not processed[...][0].any()
    assert processed.grid.select_dim("crossline").coords[0] == 300

    # the shots' channels are wrapped per cable by the template's AutoChannelWrap
    shots = catalog.open("shots", return_metadata=True)
    np.testing.assert_array_equal(shots.grid.select_dim("channel").coords, np.arange(1, 25))
    with segyio.open(str(example / "data" / "shots.sgy"), ignore_geometry=True) as f:
        assert shots.trace_count == f.tracecount

    # a second build has nothing to do
    assert Catalog.from_file(example / "catalog.yaml").build().built == []


def test_example_demo_script_runs_on_the_copy(example: Path) -> None:
    result = subprocess.run(
        [sys.executable, str(example / "catalog_demo.py"), str(example / "catalog.yaml")],
        capture_output=True,
        text=True,
        cwd=example.parent,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "Built 8, already fresh 0" in result.stdout
    assert (example / "catalog.lock.d").is_dir()
    assert (example / "out" / "catalog" / "stack.mdio").is_dir()
    assert str(EXAMPLES) not in lock_text(example)
