"""--scheduler / --cluster (and $MDIO_CATALOG_SCHEDULER) on build, segy ingest, export, copy and rechunk: the work
runs on the dask workers with the same result as a local run; bad values and unreachable schedulers are one-line
errors with exit code 2 (typer's runner, and one real subprocess)."""

from __future__ import annotations

import importlib.util
import os
import shutil
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from typer.testing import CliRunner

from mdio_catalog import MDIOReader, copy_mdio, numpy_to_mdio, rechunk_batch
from mdio_catalog.api.accessor import MDIOWriter
from mdio_catalog.cli.app import app
from mdio_catalog.converters.mdio_to_segy import mdio_to_segy
from mdio_catalog.converters.segy import segy_to_mdio
from mdio_catalog.settings import get_settings
from tests.catalog.compare import assert_same_contents, built_contents, lock_without_timings
from tests.cluster import assert_ran_on_workers
from tests.converters.segy_factory import grid_columns, random_samples, write_segy

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
NAMES = ["stack", "shots"]
runner = CliRunner()


def run(*args: str, code: int = 0) -> Any:
    result = runner.invoke(app, list(args))
    assert result.exit_code == code, (args, result.exit_code, result.output)
    return result


@pytest.fixture(autouse=True)
def _fresh_settings(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Settings re-read from the environment this test sets (and the progress bars off)."""
    monkeypatch.setenv("MDIO_CATALOG_PROGRESS", "false")
    monkeypatch.delenv("MDIO_CATALOG_SCHEDULER", raising=False)
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


@pytest.fixture
def example(tmp_path: Path) -> Path:
    """examples/catalog.yaml with freshly generated sources; returns the catalog file."""
    folder = tmp_path / "example"
    folder.mkdir()
    shutil.copy(EXAMPLES / "catalog.yaml", folder / "catalog.yaml")
    spec = importlib.util.spec_from_file_location("example_make_data", EXAMPLES / "make_data.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.make(folder / "data")
    return folder / "catalog.yaml"


@pytest.fixture
def segy(tmp_path: Path) -> Path:
    """A small post-stack SEG-Y (12 x 10 grid, two dead traces, IBM samples)."""
    live = np.ones((12, 10), dtype=bool)
    live[2, 3] = live[9, 0] = False
    cols, _ = grid_columns({189: range(1, 13), 193: range(100, 110)}, live)
    n = cols[189].size
    return write_segy(tmp_path / "in.sgy", cols, random_samples(n, 40, 1, seed=5), fmt=1).path


@pytest.fixture
def dataset(tmp_path: Path) -> Path:
    """A 3-D MDIO dataset with dead traces (from numpy), 4 x 4 x 16 chunks."""
    values = np.random.default_rng(2).normal(size=(12, 10, 40)).astype("float32")
    values[3:5, 2:6] = 0
    path = tmp_path / "cube.mdio"
    numpy_to_mdio(values, str(path), (4, 4, 16), index_names=["inline", "crossline", "sample"])
    writer = MDIOWriter(str(path))
    writer.live_mask = np.any(values != 0, axis=-1)
    return path


@pytest.fixture
def small_catalog(tmp_path: Path) -> Path:
    """A valid catalog file whose one source is never read (errors come before any build)."""
    path = tmp_path / "small" / "catalog.yaml"
    path.parent.mkdir()
    path.write_text(
        "version: 1\nname: small\nroot: ./out\ndatasets:\n"
        "  cube: {source: {numpy: data/cube.npy, index_names: [inline, crossline, sample]}, chunks: [4, 4, 16]}\n",
        encoding="utf-8",
    )
    return path


def objects(path: Path) -> dict[str, bytes]:
    return {p.relative_to(path).as_posix(): p.read_bytes() for p in sorted(path.rglob("*")) if p.is_file()}


def free_port() -> int:
    """A loopback port nothing listens on (bound and released)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# --- the catalog on a local cluster --------------------------------------------------------------------------------
def test_build_with_a_local_cluster_equals_the_local_build(example: Path) -> None:
    """The SEG-Y datasets (3-D with an extra access pattern, 4-D shots with grid overrides); the whole example
    catalog on a cluster is tests/catalog/test_build_cluster.py."""
    c = str(example)
    run("build", "-c", c, *NAMES, "--quiet")
    root = example.parent / "out" / "catalog"
    local, local_lock = built_contents(root, NAMES), lock_without_timings(example.parent)

    result = run("build", "-c", c, *NAMES, "--force", "--cluster", "local:2")
    assert "dask: 2 workers, 4 threads at a local cluster (local:2)" in result.stderr
    assert "built 2," in result.stdout
    assert lock_without_timings(example.parent) == local_lock
    for name, contents in built_contents(root, NAMES).items():
        assert_same_contents(contents, local[name], name)
    assert "--cluster" in run("build", "--help").stdout


# --- every command on a running scheduler ----------------------------------------------------------------------------
def test_build_on_the_scheduler_from_the_setting(
    example: Path, dask_client: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    c = str(example)
    run("build", "-c", c, "stack", "--quiet")
    root = example.parent / "out" / "catalog"
    local, local_lock = built_contents(root, ["stack"]), lock_without_timings(example.parent)
    monkeypatch.setenv("MDIO_CATALOG_SCHEDULER", dask_client.scheduler.address)  # no flag: the setting
    get_settings.cache_clear()
    result = run("build", "-c", c, "stack", "--force")
    assert f"at {dask_client.scheduler.address}" in result.stderr
    assert_ran_on_workers(dask_client, "rechunk_block")
    assert_ran_on_workers(dask_client, "write_unit")
    assert lock_without_timings(example.parent) == local_lock
    assert_same_contents(built_contents(root, ["stack"])["stack"], local["stack"], "stack")


def test_segy_ingest_on_the_scheduler(segy: Path, tmp_path: Path, dask_client: Any) -> None:
    segy_to_mdio(segy, tmp_path / "local.mdio", (189, 193), ("inline", "crossline"), chunksize=(4, 4, 40))
    address = dask_client.scheduler.address
    run("segy", "ingest", str(segy), str(tmp_path / "cluster.mdio"), "-i", "inline:189", "-i", "crossline:193",
        "--chunks", "4,4,40", "--scheduler", address, "--quiet")  # fmt: skip
    assert_ran_on_workers(dask_client, "write_unit")
    for name in ("012",):
        got = MDIOReader(str(tmp_path / "cluster.mdio"), access_pattern=name, return_metadata=True)[...]
        expected = MDIOReader(str(tmp_path / "local.mdio"), access_pattern=name, return_metadata=True)[...]
        for a, b in zip(got, expected, strict=True):
            np.testing.assert_array_equal(a, b)
    assert MDIOReader(str(tmp_path / "cluster.mdio")).stats == MDIOReader(str(tmp_path / "local.mdio")).stats


def test_export_on_the_scheduler(segy: Path, tmp_path: Path, dask_client: Any) -> None:
    mdio = tmp_path / "in.mdio"
    segy_to_mdio(segy, mdio, (189, 193), ("inline", "crossline"), chunksize=(4, 4, 40))
    mdio_to_segy(mdio, tmp_path / "local.sgy")
    run("export", str(mdio), str(tmp_path / "cluster.sgy"), "--scheduler", dask_client.scheduler.address, "-q")
    assert_ran_on_workers(dask_client, "export_block")
    assert (tmp_path / "cluster.sgy").read_bytes() == (tmp_path / "local.sgy").read_bytes() == segy.read_bytes()


def test_copy_and_rechunk_on_the_scheduler(dataset: Path, tmp_path: Path, dask_client: Any) -> None:
    address = dask_client.scheduler.address
    copy_mdio(str(dataset), str(tmp_path / "local.mdio"), copy_traces=True, copy_headers=True)
    run("copy", str(dataset), str(tmp_path / "cluster.mdio"), "--scheduler", address, "--quiet")
    assert_ran_on_workers(dask_client, "copy_objects")
    assert objects(tmp_path / "cluster.mdio") == objects(tmp_path / "local.mdio")

    # blocks of (4, 10, 40): three tasks
    rechunk_batch(MDIOWriter(str(tmp_path / "local.mdio")), [(2, 10, 40), (4, 2, 40)], ["fast_il", "fast_xl"])
    run("rechunk", str(tmp_path / "cluster.mdio"), "--chunks", "2,10,40", "--suffix", "fast_il",
        "--chunks", "4,2,40", "--suffix", "fast_xl", "--scheduler", address, "--quiet")  # fmt: skip
    assert_ran_on_workers(dask_client, "rechunk_block")
    assert objects(tmp_path / "cluster.mdio") == objects(tmp_path / "local.mdio")


# --- errors ---------------------------------------------------------------------------------------------------------
def command_lines(catalog: Path, segy: Path, dataset: Path, tmp_path: Path) -> dict[str, list[str]]:
    return {
        "build": ["build", "-c", str(catalog)],
        "segy ingest": ["segy", "ingest", str(segy), str(tmp_path / "x.mdio"), "-i", "inline:189", "-i", "xl:193"],
        "export": ["export", str(dataset), str(tmp_path / "x.sgy")],
        "copy": ["copy", str(dataset), str(tmp_path / "copy.mdio")],
        "rechunk": ["rechunk", str(dataset), "--chunks", "1,10,40", "--suffix", "fast_il"],
    }


def assert_one_line_error(result: Any, fragment: str) -> None:
    assert result.exit_code == 2, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: "), lines
    assert fragment in lines[0], lines
    assert "Traceback" not in result.output


def assert_nothing_written(catalog: Path, dataset: Path, before: dict[str, bytes], tmp_path: Path) -> None:
    assert objects(dataset) == before
    assert not any((tmp_path / name).exists() for name in ("x.mdio", "x.sgy", "copy.mdio"))
    assert not (catalog.parent / "out").exists()


@pytest.mark.parametrize("value", ["local:0", "local:x", "local", "remote:2", "local:-1", "2", "local:2:3"])
def test_bad_cluster_values_are_one_line_errors(value: str, dataset: Path, tmp_path: Path) -> None:
    result = runner.invoke(app, ["copy", str(dataset), str(tmp_path / "copy.mdio"), "--cluster", value])
    assert_one_line_error(result, f"Invalid cluster '{value}': use local:N with N ≥ 1 worker processes")
    assert not (tmp_path / "copy.mdio").exists()


def test_every_command_refuses_a_bad_cluster_before_writing(
    small_catalog: Path, segy: Path, dataset: Path, tmp_path: Path
) -> None:
    before = objects(dataset)
    for command, args in command_lines(small_catalog, segy, dataset, tmp_path).items():
        result = runner.invoke(app, [*args, "--cluster", "local:0"])
        assert_one_line_error(result, "Invalid cluster 'local:0'")
        assert "--cluster" in runner.invoke(app, [*command.split(), "--help"]).stdout
    assert_nothing_written(small_catalog, dataset, before, tmp_path)


def test_unreachable_and_invalid_schedulers_are_one_line_errors(
    small_catalog: Path, segy: Path, dataset: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MDIO_CATALOG_SCHEDULER_TIMEOUT", "0.5")
    get_settings.cache_clear()
    before = objects(dataset)
    lines = command_lines(small_catalog, segy, dataset, tmp_path)
    address = f"tcp://127.0.0.1:{free_port()}"
    for args in lines.values():
        result = runner.invoke(app, [*args, "--scheduler", address])
        assert_one_line_error(result, f"Cannot reach the dask scheduler at {address}")
    result = runner.invoke(app, [*lines["copy"], "--scheduler", "nohost"])
    assert_one_line_error(result, "Invalid dask scheduler address 'nohost'")
    result = runner.invoke(app, [*lines["copy"], "--scheduler", address, "--cluster", "local:2"])
    assert_one_line_error(result, "not both")
    monkeypatch.setenv("MDIO_CATALOG_SCHEDULER", "local:zero")  # a bad setting is reported the same way
    get_settings.cache_clear()
    assert_one_line_error(runner.invoke(app, lines["copy"]), "Invalid cluster 'local:zero'")
    assert_nothing_written(small_catalog, dataset, before, tmp_path)


def test_unreachable_scheduler_in_a_real_subprocess(dataset: Path, tmp_path: Path) -> None:
    script = Path(sys.executable).with_name("mdio-catalog")
    env = {**os.environ, "MDIO_CATALOG_PROGRESS": "false", "MDIO_CATALOG_SCHEDULER_TIMEOUT": "0.5"}
    address = f"tcp://127.0.0.1:{free_port()}"
    done = subprocess.run([str(script), "copy", str(dataset), str(tmp_path / "c.mdio"), "--scheduler", address],
                          capture_output=True, text=True, env=env, timeout=120, check=False)  # fmt: skip
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1
    assert done.stderr.startswith(f"error: Cannot reach the dask scheduler at {address}: ")
    assert not (tmp_path / "c.mdio").exists()
