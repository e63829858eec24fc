"""The format core over HTTP: datasets written to and read from local S3 (moto) and GCS (emulator) servers,
with disk caching, bad credentials and unreachable endpoints. Oracle: numpy."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from mdio_catalog import MDIOReader, MDIOWriter, create_empty, numpy_to_mdio, segy_to_mdio
from mdio_catalog.core.factory import MDIOCreateConfig, MDIOVariableConfig
from mdio_catalog.core.grid import Grid
from mdio_catalog.exceptions import CredentialsError, MDIOAlreadyExistsError, MDIONotFoundError, StorageError
from mdio_catalog.settings import get_settings

pytestmark = pytest.mark.objectstore


@pytest.fixture(params=["s3", "gcs"])
def bucket(request: pytest.FixtureRequest) -> Any:
    return request.getfixturevalue(f"{request.param}_bucket")


def test_numpy_to_mdio_and_read_back_over_http(bucket: Any) -> None:
    array = np.random.default_rng(2).normal(size=(9, 8, 40)).astype("float32")
    url = bucket.url("survey/stack.mdio")
    numpy_to_mdio(array, url, (4, 4, 16), index_names=["inline", "crossline", "sample"],
                  storage_options=bucket.storage_options)  # fmt: skip
    assert bucket.fs.exists(url + "/.zmetadata")
    assert not [p for p in bucket.fs.find(bucket.url("survey")) if ".partial-" in p]  # staging cleaned up
    reader = MDIOReader(url, storage_options=bucket.storage_options, return_metadata=True)
    live, _, traces = reader[2:5, [1, 6]]
    np.testing.assert_array_equal(traces, array[2:5][:, [1, 6]])
    assert live.all()
    assert reader.trace_count == 72
    np.testing.assert_array_equal(
        MDIOReader(url, storage_options=bucket.storage_options, backend="dask")[..., 7].compute(), array[..., 7]
    )


def test_overwrite_false_refuses_remote_dataset(bucket: Any) -> None:
    url = bucket.url("a.mdio")
    numpy_to_mdio(np.ones((3, 3, 4), "float32"), url, (3, 3, 4), storage_options=bucket.storage_options)
    before = sorted(bucket.fs.find(url))
    with pytest.raises(MDIOAlreadyExistsError):
        numpy_to_mdio(np.zeros((3, 3, 4), "float32"), url, (3, 3, 4), storage_options=bucket.storage_options)
    bucket.fs.invalidate_cache()
    assert sorted(bucket.fs.find(url)) == before
    numpy_to_mdio(
        np.full((3, 3, 4), 2, "float32"), url, (3, 3, 4), storage_options=bucket.storage_options, overwrite=True
    )
    np.testing.assert_array_equal(MDIOReader(url, storage_options=bucket.storage_options)[:], 2)


def test_disk_cache_serves_chunks_after_the_store_is_gone(
    bucket: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MDIO_CATALOG_CACHE_DIR", str(tmp_path / "cache"))
    get_settings.cache_clear()
    try:
        array = np.arange(4 * 5 * 6, dtype="float32").reshape(4, 5, 6)
        url = bucket.url("cached.mdio")
        numpy_to_mdio(array, url, (2, 5, 6), storage_options=bucket.storage_options)
        cached = MDIOReader(url, storage_options=bucket.storage_options, disk_cache=True)
        np.testing.assert_array_equal(cached[:], array)
        assert any((tmp_path / "cache").rglob("*"))
        bucket.fs.rm(url + "/data", recursive=True)  # chunks gone from the server...
        np.testing.assert_array_equal(cached[:], array)  # ...still served from the local cache
        # Without the cache the chunks are gone: zarr reads missing chunks as the fill value.
        assert not MDIOReader(url, storage_options=bucket.storage_options)[:].any()
    finally:
        get_settings.cache_clear()


def test_writer_and_create_empty_on_object_store(bucket: Any) -> None:
    grid = Grid.from_coords(["inline", "crossline", "sample"], [np.arange(4), np.arange(3), np.arange(10) * 2])
    url = bucket.url("empty.mdio")
    create_empty(MDIOCreateConfig(url, grid, [MDIOVariableConfig("chunked_012", "float32", (2, 3, 5))]),
                 storage_options=bucket.storage_options)  # fmt: skip
    writer = MDIOWriter(url, storage_options=bucket.storage_options)
    writer[1] = np.ones((3, 10), "float32")
    writer.trace_count = 3
    reader = MDIOReader(url, storage_options=bucket.storage_options)
    assert reader.trace_count == 3
    np.testing.assert_array_equal(reader[1], 1)
    assert not reader[0].any()


def test_segy_from_s3_to_gcs(s3_bucket: Any, gcs_bucket: Any, tmp_path: Path) -> None:
    import segyio

    local = tmp_path / "in.sgy"
    spec = segyio.spec()
    spec.format, spec.samples, spec.tracecount = 5, list(range(12)), 6
    data = np.random.default_rng(3).normal(size=(6, 12)).astype("float32")
    with segyio.create(str(local), spec) as f:
        for i in range(6):
            f.header[i] = {segyio.TraceField.INLINE_3D: 10 + i // 3, segyio.TraceField.CROSSLINE_3D: 20 + i % 3}
            f.trace[i] = data[i]
    s3_bucket.fs.put_file(str(local), s3_bucket.url("raw/in.sgy"))
    out = gcs_bucket.url("stack.mdio")
    segy_to_mdio(
        s3_bucket.url("raw/in.sgy"),
        out,
        (189, 193),
        ("inline", "crossline"),
        storage_options_input=s3_bucket.storage_options,
        storage_options_output=gcs_bucket.storage_options,
    )
    reader = MDIOReader(out, storage_options=gcs_bucket.storage_options)
    np.testing.assert_array_equal(reader[:].reshape(6, 12), data)
    np.testing.assert_array_equal(reader.grid.select_dim("crossline").coords, [20, 21, 22])


def test_bad_credentials_give_a_credentials_error(s3_bucket: Any, s3_auth: Any) -> None:
    url = s3_bucket.url("secure.mdio")
    numpy_to_mdio(np.ones((2, 2, 3), "float32"), url, (2, 2, 3), storage_options=s3_auth.storage_options())
    np.testing.assert_array_equal(MDIOReader(url, storage_options=s3_auth.storage_options())[:], 1)
    with pytest.raises(CredentialsError, match=r"secure\.mdio"):
        MDIOReader(url, storage_options=s3_auth.unknown_key_options)
    with pytest.raises(CredentialsError):
        MDIOReader(url, storage_options=s3_auth.storage_options(secret="wrong-secret"))
    with pytest.raises(CredentialsError):
        numpy_to_mdio(np.ones((2, 2, 3), "float32"), s3_bucket.url("other.mdio"), (2, 2, 3),
                      storage_options=s3_auth.unknown_key_options)  # fmt: skip


def test_missing_remote_dataset_and_unreachable_endpoint(s3_bucket: Any) -> None:
    from tests.objectstores import s3_storage_options, unused_local_port

    with pytest.raises(MDIONotFoundError, match="No MDIO dataset"):
        MDIOReader(s3_bucket.url("nothing.mdio"), storage_options=s3_bucket.storage_options)
    dead = s3_storage_options(f"http://127.0.0.1:{unused_local_port()}")
    dead["config_kwargs"] = {"retries": {"total_max_attempts": 1}}
    with pytest.raises(StorageError, match=r"nothing\.mdio"):
        MDIOReader(s3_bucket.url("nothing.mdio"), storage_options=dead)
