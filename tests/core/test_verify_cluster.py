"""verify on a real two-process dask cluster: the objects are fetched and checked on the workers, and the damage
planted here (a flipped byte, a deleted object) is named exactly as a local verify names it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from mdio_catalog.converters.numpy import numpy_to_mdio
from mdio_catalog.core import verify
from mdio_catalog.core.verify import verify_dataset
from tests.cluster import assert_ran_on_workers


def test_verify_on_a_cluster_names_the_damage_like_a_local_run(
    tmp_path: Path, dask_client: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    values = np.random.default_rng(3).normal(size=(16, 16, 64)).astype(np.float32)
    dataset = tmp_path / "a.mdio"
    numpy_to_mdio(values, str(dataset), (4, 4, 16))  # 64 trace chunks
    monkeypatch.setattr(verify, "CLUSTER_BATCH", 8)  # several tasks, so both workers get some
    clean = verify_dataset(str(dataset), client=dask_client)
    assert clean.ok
    assert clean.objects_read == verify_dataset(str(dataset)).objects_read
    assert_ran_on_workers(dask_client, "fetch_entries", every_worker=False)

    chunk = dataset / "data" / "chunked_012" / "1" / "2" / "3"
    data = bytearray(chunk.read_bytes())
    data[-1] ^= 0xFF
    chunk.write_bytes(bytes(data))
    (dataset / "data" / "chunked_012" / "0" / "0" / "0").unlink()
    on_cluster, here = verify_dataset(str(dataset), client=dask_client), verify_dataset(str(dataset))
    (traces,) = [a for a in on_cluster.arrays if a.path == "data/chunked_012"]
    assert traces.differing == ["data/chunked_012/1/2/3"]
    assert traces.missing == ["data/chunked_012/0/0/0"]
    assert [a.__dict__ for a in on_cluster.arrays] == [a.__dict__ for a in here.arrays]
