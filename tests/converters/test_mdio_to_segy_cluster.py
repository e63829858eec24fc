"""mdio_to_segy on a real dask cluster (two worker processes): the blocks are read and encoded on the workers (from
local disk and from the S3 server) and the file written here is byte for byte the local export."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from mdio_catalog.converters.mdio_to_segy import mdio_to_segy
from mdio_catalog.converters.segy import segy_to_mdio
from tests.cluster import assert_ran_on_workers
from tests.converters.segy_factory import grid_columns, random_samples, write_segy

INLINES, CROSSLINES, N_SAMPLES = list(range(10, 22)), list(range(200, 210)), 50


@pytest.fixture
def cube(tmp_path: Path) -> tuple[Path, Path, np.ndarray]:
    """An IBM 12 x 10 post-stack file in grid order with three missing traces, ingested in 4 x 4 chunks."""
    live = np.ones((len(INLINES), len(CROSSLINES)), dtype=bool)
    live[1, 4] = live[7, 0] = live[11, 9] = False
    cols, _ = grid_columns({189: INLINES, 193: CROSSLINES}, live)
    n = cols[189].size
    src = write_segy(tmp_path / "src.sgy", {**cols, 1: np.arange(1, n + 1)}, random_samples(n, N_SAMPLES, 1), fmt=1)
    mdio = tmp_path / "cube.mdio"
    segy_to_mdio(src.path, mdio, (189, 193), ("inline", "crossline"), chunksize=(4, 4, N_SAMPLES))
    return src.path, mdio, live


def test_export_on_the_cluster_equals_the_local_export(
    cube: tuple[Path, Path, np.ndarray], tmp_path: Path, dask_client: Any
) -> None:
    src, mdio, live = cube
    mdio_to_segy(mdio, tmp_path / "cluster.sgy", client=dask_client)
    assert_ran_on_workers(dask_client, "export_block")
    assert (tmp_path / "cluster.sgy").read_bytes() == src.read_bytes()  # == the local export (its own tests)

    mask = np.random.default_rng(3).random(live.shape) > 0.4
    options: dict[str, Any] = {"selection_mask": mask, "new_chunks": (3, 5, N_SAMPLES), "endian": "little"}
    mdio_to_segy(mdio, tmp_path / "local-sel.sgy", **options)
    mdio_to_segy(mdio, tmp_path / "cluster-sel.sgy", client=dask_client, **options)
    assert (tmp_path / "cluster-sel.sgy").read_bytes() == (tmp_path / "local-sel.sgy").read_bytes()
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "cluster-sel.sgy", "cluster.sgy", "cube.mdio", "local-sel.sgy", "src.sgy"
    ]  # fmt: skip


@pytest.mark.objectstore
def test_export_on_the_cluster_from_s3_equals_the_local_export(
    cube: tuple[Path, Path, np.ndarray], tmp_path: Path, dask_client: Any, s3_bucket: Any
) -> None:
    src, mdio, _ = cube
    url = s3_bucket.url("cube.mdio")
    s3_bucket.fs.put(str(mdio), url, recursive=True)
    mdio_to_segy(url, tmp_path / "from-s3.sgy", storage_options=s3_bucket.storage_options, client=dask_client)
    assert_ran_on_workers(dask_client, "export_block")
    assert (tmp_path / "from-s3.sgy").read_bytes() == src.read_bytes()
