"""Catalog.build(client=...) on a real dask cluster (two worker processes) builds what a local build builds: the
example catalog (SEG-Y 3-D with an extra access pattern, 4-D gathers, shots with grid overrides, NumPy, empty)
gives the same arrays, attributes and lock entries (timings aside), and the work ran on the workers."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from mdio_catalog.catalog import Catalog
from tests.catalog import EXAMPLES, leftovers
from tests.catalog.compare import assert_same_contents, built_contents, lock_without_timings
from tests.cluster import assert_ran_on_workers, worker_task_counts

NAMES = ["stack", "gathers", "shots", "velocity", "processed"]


@pytest.fixture
def example(tmp_path: Path) -> Path:
    """examples/catalog.yaml with freshly generated sources, in tmp_path/example."""
    import importlib.util

    folder = tmp_path / "example"
    folder.mkdir()
    shutil.copy(EXAMPLES / "catalog.yaml", folder / "catalog.yaml")
    spec = importlib.util.spec_from_file_location("example_make_data", EXAMPLES / "make_data.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.make(folder / "data")
    return folder


def test_build_on_the_cluster_equals_the_local_build(example: Path, dask_client: Any) -> None:
    catalog = Catalog.from_file(example / "catalog.yaml")
    assert [r.dataset for r in catalog.build(NAMES).built] == NAMES
    root = example / "out" / "catalog"
    local, local_lock = built_contents(root, NAMES), lock_without_timings(example)

    report = catalog.build(NAMES, force=True, client=dask_client)
    assert [r.dataset for r in report.built] == NAMES
    assert lock_without_timings(example) == local_lock
    for name, contents in built_contents(root, NAMES).items():
        assert_same_contents(contents, local[name], name)
    assert leftovers(root) == []
    assert_ran_on_workers(dask_client, "write_unit")  # the ingestions: many tasks, spread over both workers
    assert_ran_on_workers(dask_client, "rechunk_block", every_worker=False)  # the stack's fast_z: a few blocks
    ran = {name for counts in worker_task_counts(dask_client).values() for name in counts}
    assert ran - {"rechunk_block"}, ran  # SEG-Y ingestion ran there too
    assert {s.state for s in catalog.status(NAMES)} == {"fresh"}

    # the derived products (a crop, a browse copy by SNR, a SEG-Y delivery) on the cluster too
    derived = ["stack_crop", "stack_browse", "stack_delivery"]
    assert [r.dataset for r in catalog.build(derived, client=dask_client).built] == derived
    assert_ran_on_workers(dask_client, "derive_block", every_worker=False)
    stack = catalog.open("stack")[...]
    np.testing.assert_array_equal(catalog.open("stack_crop")[...], stack[10:30, 10:40, 0:101:2])
    assert {s.state for s in catalog.status()} == {"fresh"}
