"""Region reads from object stores through our chunk fetcher: values against numpy on the moto S3 server and the GCS
emulator, one GET per chunk object (no HEAD), only the chunks a slice needs, and a cheap open."""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest

from mdio_catalog import MDIOReader, numpy_to_mdio
from mdio_catalog.core.chunkfetch import RemoteChunkObjects, s3_fast_store
from mdio_catalog.settings import get_settings
from tests.objectstores import BucketHandle, S3RequestLog

pytestmark = pytest.mark.objectstore

SHAPE = (21, 17, 70)
CHUNKS = (8, 8, 32)


def _volume() -> np.ndarray:
    array = np.random.default_rng(9).normal(size=SHAPE).astype("float32")
    array[:8, :8] = 0  # whole chunks of zeros are not stored: they must read back as zeros
    return array


def _write(bucket: BucketHandle) -> tuple[str, np.ndarray]:
    array = _volume()
    url = bucket.url("v.mdio")
    numpy_to_mdio(array, url, CHUNKS, storage_options=bucket.storage_options)
    return url, array


KEYS: list[Any] = [
    (slice(None), slice(None), slice(None)),
    (3, slice(None), slice(None)),
    (slice(None), 16, slice(None)),
    (slice(None), slice(None), 69),
    (slice(5, 19), slice(2, 13), slice(7, 40)),
    (0, 0, 0),
]


@pytest.fixture
def s3_client(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """Run a test with S3 chunk reads through obstore (the default) or through s3fs."""
    monkeypatch.setenv("MDIO_CATALOG_S3_CLIENT", request.param)
    get_settings.cache_clear()
    yield request.param
    monkeypatch.delenv("MDIO_CATALOG_S3_CLIENT")
    get_settings.cache_clear()


@pytest.mark.parametrize(
    ("store", "s3_client"), [("s3", "obstore"), ("s3", "s3fs"), ("gcs", "obstore")], indirect=["s3_client"]
)
def test_remote_regions_equal_numpy(store: str, s3_client: str, request: pytest.FixtureRequest) -> None:
    bucket: BucketHandle = request.getfixturevalue("s3_bucket" if store == "s3" else "gcs_bucket")
    url, array = _write(bucket)
    reader = MDIOReader(url, storage_options=bucket.storage_options, return_metadata=True)
    objects = reader._chunk_reader.objects  # type: ignore[union-attr]
    assert isinstance(objects, RemoteChunkObjects)
    assert (objects.fast_store is not None) == (store == "s3" and s3_client == "obstore")
    for key in KEYS:
        for parallel in (True, False):
            got = reader.read_region(key, parallel=parallel)
            np.testing.assert_array_equal(got, array[key])
    live, headers, traces = reader[2:11, 3]
    np.testing.assert_array_equal(traces, array[2:11, 3])
    via_zarr = MDIOReader(url, storage_options=bucket.storage_options, disk_cache=False)
    np.testing.assert_array_equal(live, np.asarray(via_zarr.live_mask_array[2:11, 3]))
    np.testing.assert_array_equal(headers, np.asarray(via_zarr.header_array[2:11, 3]))


@pytest.mark.parametrize("s3_client", ["obstore", "s3fs"], indirect=True)
def test_s3_reads_one_get_per_chunk_and_only_the_needed_chunks(
    s3_client: str, s3_bucket: BucketHandle, s3_requests: S3RequestLog
) -> None:
    url, array = _write(s3_bucket)
    s3_requests.clear()
    reader = MDIOReader(url, storage_options=s3_bucket.storage_options)
    opened = s3_requests.requests()
    assert len(opened) <= 5, opened
    assert all(method == "GET" for method, _ in opened), opened

    stored = {p.rsplit("v.mdio/", 1)[1] for p in s3_bucket.fs.find(url) if "/data/chunked_012/" in p}
    s3_requests.clear()
    np.testing.assert_array_equal(reader[3], array[3])
    got = s3_requests.requests()
    assert {m for m, _ in got} == {"GET"}, got  # no HEAD before each GET
    wanted = {f"data/chunked_012/0/{j}/{k}" for j in range(math.ceil(17 / 8)) for k in range(math.ceil(70 / 32))}
    # one request per chunk of inline 3 (those never stored are asked once and read as zeros), nothing else
    assert sorted(p.rsplit("v.mdio/", 1)[1] for _, p in got) == sorted(wanted)
    assert wanted & stored
    assert wanted - stored

    s3_requests.clear()
    np.testing.assert_array_equal(reader[:], array)
    total = math.prod(math.ceil(n / c) for n, c in zip(SHAPE, CHUNKS, strict=True))
    assert s3_requests.count("GET") == total
    assert s3_requests.count() == total


def test_missing_dataset_on_s3_is_a_clear_error(s3_bucket: BucketHandle) -> None:
    with pytest.raises(FileNotFoundError, match="No MDIO dataset"):
        MDIOReader(s3_bucket.url("nothing.mdio"), storage_options=s3_bucket.storage_options)


def test_options_obstore_cannot_honour_keep_s3fs() -> None:
    base = {"key": "k", "secret": "s", "client_kwargs": {"endpoint_url": "http://127.0.0.1:1", "region_name": "x"}}
    assert s3_fast_store("s3://bucket/ds.mdio", base) is not None
    assert s3_fast_store("s3://bucket/ds.mdio", {**base, "profile": "prod"}) is None  # named profiles: botocore
    assert s3_fast_store("s3://bucket/ds.mdio", {"client_kwargs": base["client_kwargs"]}) is None  # ambient chain
    assert s3_fast_store("gs://bucket/ds.mdio", base) is None
