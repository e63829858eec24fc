"""A planted secret in ``${VAR}`` credentials never shows, also when a build against S3 fails: not in the CLI's
output, not in log records, not in any file the build left (lock, staging, dataset metadata)."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
import s3fs
import yaml
from typer.testing import CliRunner

from mdio_catalog.cli.app import app
from tests.catalog import post_stack_segy
from tests.catalog.test_credentials import catalog_data
from tests.objectstores import BucketHandle, S3Auth

pytestmark = pytest.mark.objectstore

PLANTED = "PLANTED-s3cret-0d1e5f-never-print-me"


def _every_text(folder: Path) -> str:
    return "\n".join(p.read_bytes().decode("latin-1") for p in folder.rglob("*") if p.is_file())


def test_failed_s3_build_through_the_cli_shows_no_secret(
    s3_auth: S3Auth,
    s3_bucket: BucketHandle,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    fs = s3fs.S3FileSystem(**s3_auth.storage_options(), skip_instance_cache=True)
    src = post_stack_segy(tmp_path / "data" / "stack.sgy")
    fs.put_file(str(src.path), f"{s3_bucket.name}/raw/stack.sgy")
    data = catalog_data(s3_bucket.name, s3_auth.endpoint_url)
    del data["datasets"]["local"]
    (tmp_path / "catalog.yaml").write_text(yaml.safe_dump(data, sort_keys=False))
    monkeypatch.setenv("CAT_TEST_KEY_ID", s3_auth.key)
    monkeypatch.setenv("CAT_TEST_SECRET", PLANTED)  # wrong for moto's IAM: every request is refused
    caplog.set_level(logging.DEBUG)

    for argv in (["build"], ["status"], ["list", "--json"], ["show", "remote"]):
        result = CliRunner().invoke(app, [*argv, "-c", str(tmp_path / "catalog.yaml")])
        assert PLANTED not in result.stdout, argv
        assert PLANTED not in result.stderr, argv
        if argv == ["build"]:
            assert result.exit_code == 2
            assert result.stderr.count("\n") == 1, result.stderr
            assert "Traceback" not in result.stderr
            assert "Access denied" in result.stderr or "credentials" in result.stderr.lower(), result.stderr
    assert PLANTED not in caplog.text
    assert PLANTED not in _every_text(tmp_path)
    assert not fs.exists(f"{s3_bucket.name}/catalog/remote.mdio/.zgroup")
    for path in fs.find(s3_bucket.name):
        if path.rsplit("/", 1)[-1].startswith("."):
            assert PLANTED not in fs.cat_file(path).decode("latin-1"), path
