"""The object-store fixtures themselves, and what zarr 3 + fsspec do against them.

Checks that zarr-python 3 writes and reads a Zarr v2 group (Blosc/zstd, "/" chunk keys, consolidated
metadata) on S3 (moto server) and GCS (gcp-storage-emulator) over HTTP, that ``simplecache::`` chaining
works for reads, and which exceptions s3fs/gcsfs/zarr raise for the usual failures.
"""

from __future__ import annotations

import json
import socket
from pathlib import Path
from typing import Any

import botocore.exceptions
import gcsfs
import gcsfs.retry
import numcodecs
import numpy as np
import pytest
import s3fs
import zarr
import zarr.errors
import zarr.storage

from tests.objectstores import (
    BucketHandle,
    S3Auth,
    gcs_storage_options,
    s3_storage_options,
    unused_local_port,
)

pytestmark = pytest.mark.objectstore

BLOSC_ZSTD = numcodecs.Blosc(cname="zstd", clevel=5, shuffle=numcodecs.Blosc.SHUFFLE)


@pytest.fixture(params=["s3", "gcs"])
def bucket(request: pytest.FixtureRequest) -> BucketHandle:
    fixture = "s3_bucket" if request.param == "s3" else "gcs_bucket"
    handle: BucketHandle = request.getfixturevalue(fixture)
    return handle


def _error_text(exc: BaseException | None, depth: int = 0) -> str:
    """Messages of an exception and of what it wraps (cause, context, botocore's ``kwargs["error"]``)."""
    if exc is None or depth > 10:
        return ""
    inner = getattr(exc, "kwargs", {}).get("error") if isinstance(getattr(exc, "kwargs", None), dict) else None
    parts = [str(exc)] + [_error_text(e, depth + 1) for e in (exc.__cause__, exc.__context__, inner)]
    return " | ".join(p for p in parts if p)


def _sample_arrays() -> dict[str, np.ndarray]:
    rng = np.random.default_rng(1234)
    return {
        "amplitude": rng.standard_normal((12, 10, 50)).astype("float32"),
        "trace_mask": rng.random((12, 10)) > 0.2,
        "headers": rng.integers(-(2**31), 2**31 - 1, size=(12, 10), dtype="int32"),
    }


def _write_v2_group(store_or_url: Any, storage_options: dict[str, Any] | None = None) -> zarr.Group:
    """A Zarr format 2 group like MDIO v0 writes: "/" chunk keys, Blosc zstd, attributes, consolidated."""
    kwargs: dict[str, Any] = {} if storage_options is None else {"storage_options": storage_options}
    root = zarr.open_group(store_or_url, mode="w", zarr_format=2, **kwargs)
    root.attrs.update({"api_version": "0.9.3", "name": "objectstore-test"})
    data = root.create_group("data")
    for name, values in _sample_arrays().items():
        array = data.create_array(
            name,
            shape=values.shape,
            chunks=(7, 6, 30)[: values.ndim],  # partial edge chunks on every axis
            dtype=values.dtype,
            compressors=BLOSC_ZSTD,
            chunk_key_encoding={"name": "v2", "separator": "/"},
            fill_value=0,
        )
        array[...] = values
        array.attrs["units"] = "test"
    zarr.consolidate_metadata(root.store)
    return root


def _assert_v2_group_reads_back(root: zarr.Group) -> None:
    assert root.metadata.zarr_format == 2
    assert root.attrs["api_version"] == "0.9.3"
    assert root.metadata.consolidated_metadata is not None
    for name, expected in _sample_arrays().items():
        array = root[f"data/{name}"]
        assert isinstance(array, zarr.Array)
        assert array.metadata.zarr_format == 2
        assert array.metadata.dimension_separator == "/"
        assert array.metadata.compressor == BLOSC_ZSTD
        assert array.attrs["units"] == "test"
        np.testing.assert_array_equal(array[...], expected)
        np.testing.assert_array_equal(array[3:9, 1:7], expected[3:9, 1:7])


# --------------------------------------------------------------------------------------------------------
# Fixtures and zarr round trips
# --------------------------------------------------------------------------------------------------------


def test_bucket_fixture_is_empty_and_unique(bucket: BucketHandle) -> None:
    assert bucket.fs.ls(bucket.name) == []
    assert bucket.url("a/b.zarr") == f"{bucket.protocol}://{bucket.name}/a/b.zarr"
    bucket.fs.pipe(f"{bucket.name}/hello.txt", b"hello")
    assert bucket.fs.cat(bucket.url("hello.txt")) == b"hello"
    # storage_options is a copy: mutating it cannot affect later uses
    bucket.storage_options.clear()
    assert bucket.storage_options


def test_fresh_bucket_after_previous_test(bucket: BucketHandle) -> None:
    # the previous test wrote hello.txt into its bucket; servers are reset between tests
    assert bucket.fs.ls(bucket.name) == []
    assert [b.rstrip("/") for b in bucket.fs.ls("", refresh=True)] == [bucket.name]


def test_zarr_v2_roundtrip_via_fsspecstore_from_url(bucket: BucketHandle) -> None:
    url = bucket.url("survey.zarr")
    store = zarr.storage.FsspecStore.from_url(url, storage_options=bucket.storage_options)
    _write_v2_group(store)

    keys = sorted(bucket.fs.find(bucket.url("survey.zarr")))
    prefix = f"{bucket.name}/survey.zarr/"
    assert f"{prefix}.zmetadata" in keys
    assert f"{prefix}.zgroup" in keys
    assert f"{prefix}data/amplitude/.zarray" in keys
    assert f"{prefix}data/amplitude/1/1/1" in keys  # "/" dimension separator: nested chunk keys
    assert not any(k.endswith("zarr.json") for k in keys)
    zarray = json.loads(bucket.fs.cat(f"{prefix}data/amplitude/.zarray"))
    assert zarray["dimension_separator"] == "/"
    assert zarray["compressor"] == {
        "id": "blosc",
        "cname": "zstd",
        "clevel": 5,
        "shuffle": 1,
        "blocksize": 0,
    }
    assert set(json.loads(bucket.fs.cat(f"{prefix}.zmetadata"))["metadata"]) >= {
        ".zgroup",
        ".zattrs",
        "data/amplitude/.zarray",
    }

    read_store = zarr.storage.FsspecStore.from_url(url, storage_options=bucket.storage_options, read_only=True)
    _assert_v2_group_reads_back(zarr.open_consolidated(read_store, zarr_format=2, mode="r"))


def test_zarr_v2_roundtrip_via_open_group_url(bucket: BucketHandle) -> None:
    url = bucket.url("nested/dir/survey.zarr")
    _write_v2_group(url, bucket.storage_options)
    root = zarr.open_group(url, mode="r", storage_options=bucket.storage_options)
    assert isinstance(root.store, zarr.storage.FsspecStore)
    _assert_v2_group_reads_back(root)


def test_simplecache_chained_url_reads(bucket: BucketHandle, tmp_path: Path) -> None:
    _write_v2_group(bucket.url("survey.zarr"), bucket.storage_options)
    # a synchronous filesystem with the very same options has been used in this process (bucket.fs);
    # the nested "asynchronous": True keeps the cache layer from reusing it (see tests/objectstores.py)
    assert bucket.fs.exists(bucket.url("survey.zarr/.zmetadata"))
    cache = tmp_path / "cache"
    url = bucket.simplecache_url("survey.zarr")
    options = bucket.simplecache_storage_options(cache)
    assert options == {
        "simplecache": {"cache_storage": str(cache)},
        bucket.protocol: {**bucket.storage_options, "asynchronous": True},
    }

    root = zarr.open_group(url, mode="r", storage_options=options)
    _assert_v2_group_reads_back(root)
    cached = sorted(cache.iterdir())
    # root .zgroup, .zattrs and .zmetadata plus every chunk; array metadata came from .zmetadata
    assert len(cached) == 3 + 8 + 4 + 4

    # second read is served from the local cache: it works with the objects deleted on the server
    bucket.fs.rm(bucket.url("survey.zarr"), recursive=True)
    assert not bucket.fs.exists(bucket.url("survey.zarr/.zmetadata"))
    again = zarr.open_group(url, mode="r", storage_options=options)
    amplitude = again["data/amplitude"]
    assert isinstance(amplitude, zarr.Array)
    np.testing.assert_array_equal(amplitude[...], _sample_arrays()["amplitude"])
    assert sorted(cache.iterdir()) == cached


@pytest.mark.filterwarnings("ignore:fs .* was not created with `asynchronous=True`")
def test_simplecache_also_works_via_fsspecstore_and_skip_instance_cache(bucket: BucketHandle, tmp_path: Path) -> None:
    _write_v2_group(bucket.url("survey.zarr"), bucket.storage_options)
    bucket.fs.ls(bucket.name)
    options = {
        "simplecache": {"cache_storage": str(tmp_path)},
        bucket.protocol: {**bucket.storage_options, "skip_instance_cache": True},
    }
    store = zarr.storage.FsspecStore.from_url(
        bucket.simplecache_url("survey.zarr"), storage_options=options, read_only=True
    )
    _assert_v2_group_reads_back(zarr.open_group(store, mode="r"))


@pytest.mark.filterwarnings("ignore:fs .* was not created with `asynchronous=True`")
def test_flat_options_with_chained_url_are_not_given_to_s3(
    s3_bucket: BucketHandle, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Pitfall: un-nested options go to the outermost layer (simplecache), which ignores them; the inner
    # s3fs then uses its defaults, i.e. real AWS. The network guard makes that fail at once.
    # (gcsfs does the same with storage.googleapis.com, but its retries take minutes, so only S3 here.)
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "1")
    with pytest.raises(botocore.exceptions.EndpointConnectionError, match=r"amazonaws\.com") as info:
        zarr.open_group(
            s3_bucket.simplecache_url("survey.zarr"),
            mode="r",
            storage_options={**s3_bucket.storage_options, "cache_storage": str(tmp_path)},
        )
    assert "network guard" in _error_text(info.value)


# --------------------------------------------------------------------------------------------------------
# Isolation
# --------------------------------------------------------------------------------------------------------


def test_environment_has_only_fake_cloud_credentials() -> None:
    import os

    assert os.environ["AWS_ACCESS_KEY_ID"] == "testing"
    assert os.environ["AWS_SECRET_ACCESS_KEY"] == "testing"
    assert os.environ["AWS_EC2_METADATA_DISABLED"] == "true"
    assert not Path(os.environ["AWS_SHARED_CREDENTIALS_FILE"]).exists()
    assert "AWS_PROFILE" not in os.environ
    assert "AWS_SESSION_TOKEN" not in os.environ
    assert "GOOGLE_APPLICATION_CREDENTIALS" not in os.environ
    assert os.environ["GCSFS_EXPERIMENTAL_ZB_HNS_SUPPORT"] == "false"
    assert type(gcsfs.GCSFileSystem(token="anon", skip_instance_cache=True)).__name__ == "GCSFileSystem"


def test_network_guard_blocks_the_internet() -> None:
    with pytest.raises(socket.gaierror, match="network guard"):
        socket.getaddrinfo("s3.amazonaws.com", 443)
    with pytest.raises(OSError, match="network guard"):
        socket.create_connection(("93.184.215.14", 80), timeout=1)
    # s3fs without endpoint_url would talk to AWS: it fails at once instead
    fs = s3fs.S3FileSystem(skip_instance_cache=True, config_kwargs={"retries": {"total_max_attempts": 1}})
    with pytest.raises(botocore.exceptions.EndpointConnectionError) as info:
        fs.ls("some-real-looking-bucket")
    assert "network guard" in _error_text(info.value)


def test_network_guard_allows_loopback(s3_server: str) -> None:
    host, port = s3_server.removeprefix("http://").split(":")
    socket.create_connection((host, int(port)), timeout=1).close()


# --------------------------------------------------------------------------------------------------------
# Error behaviour
# --------------------------------------------------------------------------------------------------------


def test_missing_bucket_and_key_raise_file_not_found(bucket: BucketHandle) -> None:
    fs = bucket.fs
    with pytest.raises(FileNotFoundError):
        fs.cat("no-such-bucket-0000/key")
    with pytest.raises(FileNotFoundError):
        fs.ls("no-such-bucket-0000")
    with pytest.raises(FileNotFoundError):
        fs.pipe("no-such-bucket-0000/key", b"x")
    assert fs.exists("no-such-bucket-0000/key") is False
    with pytest.raises(FileNotFoundError):
        fs.cat(bucket.url("missing-key"))
    with pytest.raises(FileNotFoundError):
        fs.info(bucket.url("missing-key"))
    with pytest.raises(FileNotFoundError):
        fs.open(bucket.url("missing-key"), "rb")
    # zarr's own exception; it subclasses both ValueError and FileNotFoundError
    for url in (bucket.url("missing.zarr"), f"{bucket.protocol}://no-such-bucket-0000/x.zarr"):
        with pytest.raises(zarr.errors.GroupNotFoundError) as info:
            zarr.open_group(url, mode="r", storage_options=bucket.storage_options)
        assert isinstance(info.value, FileNotFoundError)


def test_s3_unreachable_endpoint_raises_endpoint_connection_error() -> None:
    endpoint = f"http://127.0.0.1:{unused_local_port()}"
    options = {
        **s3_storage_options(endpoint),
        # botocore's default (legacy, 5 attempts with back-off) takes ~5-13 s to give up
        "config_kwargs": {"retries": {"total_max_attempts": 1}},
        "skip_instance_cache": True,
    }
    fs = s3fs.S3FileSystem(**options)
    with pytest.raises(botocore.exceptions.EndpointConnectionError, match="Could not connect"):
        fs.ls("any-bucket")
    assert not issubclass(botocore.exceptions.EndpointConnectionError, OSError)  # a BotoCoreError
    with pytest.raises(botocore.exceptions.EndpointConnectionError):
        zarr.open_group("s3://any-bucket/x.zarr", mode="r", storage_options=options)


def test_gcs_unreachable_endpoint_raises_client_connector_error(monkeypatch: pytest.MonkeyPatch) -> None:
    import asyncio

    import aiohttp

    real_sleep = asyncio.sleep

    class _NoBackoff:
        # gcsfs retries connection errors 6 times with 1+2+4+8+16 s of back-off (~33 s); skip the waits
        def __getattr__(self, name: str) -> Any:
            return getattr(asyncio, name)

        @staticmethod
        async def sleep(_delay: float, *args: Any, **kwargs: Any) -> Any:
            return await real_sleep(0)

    monkeypatch.setattr(gcsfs.retry, "asyncio", _NoBackoff())
    endpoint = f"http://127.0.0.1:{unused_local_port()}"
    fs = gcsfs.GCSFileSystem(**gcs_storage_options(endpoint), skip_instance_cache=True)
    with pytest.raises(aiohttp.ClientConnectorError) as info:
        fs.cat("any-bucket/key")
    assert isinstance(info.value, OSError)
    assert isinstance(info.value.__cause__, ConnectionRefusedError)


def test_moto_accepts_any_credentials_by_default(s3_bucket: BucketHandle) -> None:
    options = s3_bucket.storage_options
    options.update(key="AKIAANYTHINGATALL000", secret="whatever", skip_instance_cache=True)
    fs = s3fs.S3FileSystem(**options)
    fs.pipe(s3_bucket.url("k"), b"v")
    assert fs.cat(s3_bucket.url("k")) == b"v"


def test_moto_enforced_auth_rejects_bad_credentials(s3_bucket: BucketHandle, s3_auth: S3Auth) -> None:
    good = s3fs.S3FileSystem(**s3_auth.storage_options(), skip_instance_cache=True)
    good.pipe(s3_bucket.url("k"), b"v")
    assert good.cat(s3_bucket.url("k")) == b"v"
    _write_v2_group(s3_bucket.url("auth.zarr"), s3_auth.storage_options())
    _assert_v2_group_reads_back(
        zarr.open_group(s3_bucket.url("auth.zarr"), storage_options=s3_auth.storage_options(), mode="r")
    )

    unknown = s3fs.S3FileSystem(**s3_auth.unknown_key_options, skip_instance_cache=True)
    with pytest.raises(PermissionError, match="Access Key Id you provided does not exist"):
        unknown.ls(s3_bucket.name)
    with pytest.raises(PermissionError, match="Access Key Id you provided does not exist"):
        unknown.pipe(s3_bucket.url("k2"), b"x")
    with pytest.raises(PermissionError, match="Forbidden"):  # HEAD responses carry no error body
        unknown.cat(s3_bucket.url("k"))
    with pytest.raises(PermissionError, match="Forbidden"):  # exists() raises rather than saying False
        unknown.exists(s3_bucket.url("k"))

    wrong_secret = s3fs.S3FileSystem(**s3_auth.wrong_secret_options, skip_instance_cache=True)
    with pytest.raises(PermissionError, match="signature we calculated does not match"):
        wrong_secret.ls(s3_bucket.name)

    # zarr lets the PermissionError through (only FileNotFoundError & co. mean "key absent" to zarr)
    with pytest.raises(PermissionError):
        zarr.open_group(s3_bucket.url("auth.zarr"), storage_options=s3_auth.unknown_key_options, mode="r")
    # the fixture's default fake credentials are rejected too while auth is on
    with pytest.raises(PermissionError):
        s3_bucket.fs.ls(s3_bucket.name, refresh=True)


def test_moto_auth_is_off_again_after_s3_auth(s3_bucket: BucketHandle) -> None:
    s3_bucket.fs.pipe(s3_bucket.url("k"), b"v")
    assert s3_bucket.fs.cat(s3_bucket.url("k")) == b"v"
