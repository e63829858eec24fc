"""A catalog whose root (and a source) live on S3 (moto), with credentials from ${VAR} references: it builds,
and no secret value appears in catalog.lock, in the dataset attributes on the bucket, or in logs and output."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import s3fs
import yaml

from mdio_catalog.catalog import Catalog
from mdio_catalog.exceptions import MDIOError
from tests.catalog import lock_files, lock_text, post_stack_segy, read_lock, root_attrs, stack_entry, write_catalog
from tests.converters.segy_factory import expected_grid
from tests.objectstores import AWS_REGION, BucketHandle, S3Auth

pytestmark = pytest.mark.objectstore

SECRET = "Zq9-very-distinctive-S3CRET-value-7781"
KEY_ID = "AKIADISTINCTIVEKEYID42"


def catalog_data(bucket: str, endpoint: str) -> dict[str, Any]:
    return {
        "version": 1,
        "name": "s3-catalog",
        "root": f"s3://{bucket}/catalog",
        "root_storage": {"credentials": "lake"},
        "credentials": {
            "lake": {
                "key": "${CAT_TEST_KEY_ID}",
                "secret": "${CAT_TEST_SECRET}",
                "options": {"client_kwargs": {"endpoint_url": endpoint, "region_name": AWS_REGION}},
            }
        },
        "datasets": {
            "remote": {
                "template": "PostStack3DTime",
                "source": {
                    "segy": f"s3://{bucket}/raw/stack.sgy",
                    "credentials": "lake",
                    "storage_options": {"secret": "${CAT_TEST_SECRET}"},  # given twice: it must not show either
                },
                "chunks": [4, 4, 8],
                "access_patterns": {"fast_z": [6, 7, 2]},
            },
            "local": {
                "template": "PostStack3DTime",
                "source": {"segy": "data/stack.sgy"},
                "chunks": [6, 7, 12],
            },
        },
    }


def bucket_metadata(fs: s3fs.S3FileSystem, bucket: str) -> dict[str, str]:
    """Every metadata file (.zattrs, .zmetadata, .zgroup, .zarray) under the bucket, as text."""
    out = {}
    for path in fs.find(bucket):
        if path.rsplit("/", 1)[-1] in (".zattrs", ".zmetadata", ".zgroup", ".zarray"):
            out[path] = fs.cat_file(path).decode("utf-8")
    return out


def test_s3_catalog_with_env_credentials_leaks_no_secret(
    s3_bucket: BucketHandle,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("CAT_TEST_KEY_ID", KEY_ID)
    monkeypatch.setenv("CAT_TEST_SECRET", SECRET)
    caplog.set_level(logging.DEBUG)
    src = post_stack_segy(tmp_path / "data" / "stack.sgy")
    s3_bucket.fs.put_file(str(src.path), s3_bucket.url("raw/stack.sgy").removeprefix("s3://"))
    data = catalog_data(s3_bucket.name, s3_bucket.endpoint_url)
    (tmp_path / "catalog.yaml").write_text(yaml.safe_dump(data, sort_keys=False))

    catalog = Catalog.from_file(tmp_path / "catalog.yaml")
    assert catalog.output_url("remote") == s3_bucket.url("catalog/remote.mdio")
    report = catalog.build()
    assert sorted(r.dataset for r in report.built) == ["local", "remote"]
    assert {s.state for s in catalog.status()} == {"fresh"}

    # the datasets are on the bucket and hold the source's traces
    coords, cells = expected_grid([src.column(189), src.column(193)])
    for name in ("remote", "local"):
        reader = catalog.open(name)
        assert reader.shape == (coords[0].size, coords[1].size, src.n_samples)
        np.testing.assert_array_equal(reader[...][tuple(cells.T)], src.samples)
    assert s3_bucket.fs.exists(f"{s3_bucket.name}/catalog/remote.mdio/.zattrs")
    assert not any("partial" in p for p in s3_bucket.fs.find(f"{s3_bucket.name}/catalog"))

    # the S3 source's identity has its ETag
    lock = read_lock(tmp_path)
    assert lock["entries"]["remote"]["source"]["url"] == s3_bucket.url("raw/stack.sgy")
    assert lock["entries"]["remote"]["source"].get("etag")
    assert lock["entries"]["remote"]["source"]["size"] == src.path.stat().st_size

    # no secret anywhere: lock, dataset metadata on the bucket, logs, output
    text_of_lock = lock_text(tmp_path)
    metadata = bucket_metadata(s3_bucket.fs, s3_bucket.name)
    assert any("provenance" in text for text in metadata.values())
    out = capsys.readouterr()
    for value in (SECRET, KEY_ID):
        assert value not in text_of_lock
        for path, text in metadata.items():
            assert value not in text, path
        assert value not in out.out
        assert value not in out.err
    assert SECRET not in caplog.text
    # the library's own log records hold neither (third-party HTTP debug logs may show the access key id)
    assert not [r for r in caplog.records if r.name.startswith("mdio_catalog") and KEY_ID in r.getMessage()]
    # the catalog file keeps the references
    assert "${CAT_TEST_SECRET}" in (tmp_path / "catalog.yaml").read_text()


def test_s3_credentials_from_environment_are_the_ones_used(
    s3_auth: S3Auth, s3_bucket: BucketHandle, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With moto checking signatures, only the key pair from the environment works; a wrong secret fails
    without showing either secret."""
    fs = s3fs.S3FileSystem(**s3_auth.storage_options(), skip_instance_cache=True)
    src = post_stack_segy(tmp_path / "data" / "stack.sgy")
    fs.put_file(str(src.path), f"{s3_bucket.name}/raw/stack.sgy")
    data = catalog_data(s3_bucket.name, s3_auth.endpoint_url)
    del data["datasets"]["local"]
    (tmp_path / "catalog.yaml").write_text(yaml.safe_dump(data, sort_keys=False))

    wrong = "wrong-" + s3_auth.secret
    monkeypatch.setenv("CAT_TEST_KEY_ID", s3_auth.key)
    monkeypatch.setenv("CAT_TEST_SECRET", wrong)
    with pytest.raises(MDIOError) as info:
        Catalog.from_file(tmp_path / "catalog.yaml").build()
    assert wrong not in str(info.value)
    assert s3_auth.secret not in str(info.value)
    assert lock_files(tmp_path) == {}
    assert not fs.exists(f"{s3_bucket.name}/catalog/remote.mdio")

    monkeypatch.setenv("CAT_TEST_SECRET", s3_auth.secret)
    catalog = Catalog.from_file(tmp_path / "catalog.yaml")
    assert [r.dataset for r in catalog.build().built] == ["remote"]
    assert catalog.status()[0].state == "fresh"
    assert catalog.open("remote").trace_count == src.n_traces
    assert s3_auth.secret not in lock_text(tmp_path)
    for path, text in bucket_metadata(fs, s3_bucket.name).items():
        assert s3_auth.secret not in text, path


def test_literal_secrets_in_storage_options_stay_out_of_provenance(tmp_path: Path) -> None:
    """Secrets written literally into a source's storage options are redacted in the lock and the dataset."""
    post_stack_segy(tmp_path / "data" / "stack.sgy")
    literal = {"password": "lit-PASSWORD-8841", "token": "lit-TOKEN-5521"}
    write_catalog(
        tmp_path,
        {"stack": stack_entry(source={"segy": "data/stack.sgy", "storage_options": literal})},
    )
    Catalog.from_file(tmp_path / "catalog.yaml").build()
    text_of_lock = lock_text(tmp_path)
    stored = root_attrs(tmp_path / "out" / "stack.mdio")["mdio_catalog"]["provenance"]
    assert stored["spec"]["source"]["storage_options"] == {"password": "***", "token": "***"}
    for value in literal.values():
        assert value not in text_of_lock
        for path in (tmp_path / "out").rglob("*"):
            if path.is_file() and path.name.startswith(".z"):
                assert value not in path.read_text(), path
