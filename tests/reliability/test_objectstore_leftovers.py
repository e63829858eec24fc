"""Leftovers on an object store (moto S3 server): no locks there, so an owner marker says pid, host and start
time; gc deletes what a dead process of this host left, or what nobody touched for ``--min-age`` seconds."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from typing import Any

import numpy as np
import pytest
from typer.testing import CliRunner

from mdio_catalog import numpy_to_mdio
from mdio_catalog.cli.app import app
from mdio_catalog.core.publish import MARKER_KEY

pytestmark = pytest.mark.objectstore
runner = CliRunner()


def dead_pid() -> int:
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    return process.pid


def marker(pid: int) -> bytes:
    import socket

    return json.dumps({MARKER_KEY: 1, "pid": pid, "host": socket.gethostname(), "started": "2026-01-01"}).encode()


def test_gc_on_s3(s3_bucket: Any) -> None:
    fs = s3_bucket.fs
    root = s3_bucket.url("cat")
    options = json.dumps(s3_bucket.storage_options)
    dead, alive = "0123456789ab", "ba9876543210"
    fs.pipe_file(f"{root}/.stack.mdio.partial-{dead}/data/0", b"x" * 500)
    fs.pipe_file(f"{root}/.stack.mdio.owner-{dead}", marker(dead_pid()))
    fs.pipe_file(f"{root}/.other.mdio.partial-{alive}/data/0", b"y" * 300)
    fs.pipe_file(f"{root}/.other.mdio.owner-{alive}", marker(os.getpid()))
    fs.pipe_file(f"{root}/.legacy.mdio.partial-aaaaaaaaaaaa/data/0", b"z" * 100)  # no marker, just written

    result = runner.invoke(app, ["gc", root, "--storage-options", options, "--json", "--dry-run"])
    assert result.exit_code == 0, result.output
    listed = {item["path"].rsplit("/", 1)[-1]: item for item in json.loads(result.stdout)["leftovers"]}
    assert listed[f".stack.mdio.partial-{dead}"]["dead"]
    assert listed[f".stack.mdio.partial-{dead}"]["size_bytes"] == 500
    assert not listed[f".other.mdio.partial-{alive}"]["dead"]
    assert not listed[".legacy.mdio.partial-aaaaaaaaaaaa"]["dead"]

    result = runner.invoke(app, ["gc", root, "--storage-options", options, "--json"])
    assert result.exit_code == 0, result.output
    fs.invalidate_cache()
    names = sorted(p.rsplit("/", 1)[-1] for p in fs.ls(root))
    assert names == [".legacy.mdio.partial-aaaaaaaaaaaa", f".other.mdio.owner-{alive}", f".other.mdio.partial-{alive}"]

    result = runner.invoke(app, ["gc", root, "--storage-options", options, "--json", "--min-age", "0"])
    fs.invalidate_cache()
    names = sorted(p.rsplit("/", 1)[-1] for p in fs.ls(root))
    assert names == [f".other.mdio.owner-{alive}", f".other.mdio.partial-{alive}"]  # a live writer stays


def test_a_write_to_s3_leaves_no_marker(s3_bucket: Any) -> None:
    url = s3_bucket.url("cat/stack.mdio")
    numpy_to_mdio(np.ones((3, 4, 5), "float32"), url, (3, 4, 5), storage_options=s3_bucket.storage_options)
    s3_bucket.fs.invalidate_cache()
    assert sorted(p.rsplit("/", 1)[-1] for p in s3_bucket.fs.ls(s3_bucket.url("cat"))) == ["stack.mdio"]
