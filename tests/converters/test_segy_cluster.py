"""segy_to_mdio on a real dask cluster (two worker processes): the same dataset as a local run, made by the workers.

Files are generated with segyio (tests/converters/segy_factory.py); sources are local files or objects on the moto
S3 server, targets a local folder, the moto S3 server or the GCS emulator. The oracle is the local run (no client)
of the same source to the same kind of store: every stored object byte for byte, attributes equal except the
creation time. A worker killed in the middle of the write phase either fails the ingestion (nothing published,
the previous dataset intact) or is retried by dask (the same result as the local run).
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import fsspec
import numpy as np
import pytest

from mdio_catalog import MDIOReader
from mdio_catalog.converters.segy import segy_to_mdio
from mdio_catalog.core.cluster import task_counts
from mdio_catalog.exceptions import ClusterError
from tests.cluster import assert_ran_on_workers, worker_task_counts
from tests.converters.segy_factory import grid_columns, random_samples, read_with_segyio, write_segy

pytestmark = pytest.mark.objectstore

#: Attributes that record when a dataset was made, not what it holds.
TIMINGS = ("created",)


# --- inputs ---------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Case:
    """A generated SEG-Y file and how to ingest it."""

    path: Path
    index_bytes: tuple[int, ...]
    index_names: tuple[str, ...]
    chunks: tuple[int, ...]
    live: np.ndarray


def make_3d(folder: Path) -> Case:
    """12 inlines x 10 crosslines (a few cells dead) x 40 IBM samples, chunks 4 x 4 x 16."""
    live = np.ones((12, 10), dtype=bool)
    live[0, :3] = live[7, 4] = live[11, 9] = False
    cols, index = grid_columns({189: range(100, 112), 193: range(20, 30)}, live)
    samples = random_samples(int(live.sum()), 40, 1, seed=3, zero_fraction=0.05)
    samples[index[:, 1] < 4, 16:32] = 0  # empty chunks in the first crossline block only: not stored
    write_segy(folder / "stack.sgy", cols, samples, fmt=1)
    return Case(folder / "stack.sgy", (189, 193), ("inline", "crossline"), (4, 4, 16), live)


def make_4d(folder: Path) -> Case:
    """4 inlines x 5 crosslines x 6 offsets (one gather half dead) x 24 IEEE samples, chunks 2 x 2 x 4 x 8."""
    live = np.ones((4, 5, 6), dtype=bool)
    live[2, 3, 3:] = False
    cols, _ = grid_columns({189: range(1, 5), 193: range(10, 15), 37: range(100, 700, 100)}, live)
    samples = random_samples(int(live.sum()), 24, 5, seed=4)
    write_segy(folder / "gathers.sgy", cols, samples, fmt=5)
    return Case(folder / "gathers.sgy", (189, 193, 37), ("inline", "crossline", "offset"), (2, 2, 4, 8), live)


MAKERS: dict[str, Callable[[Path], Case]] = {"3d": make_3d, "4d": make_4d}


@dataclass(frozen=True)
class Place:
    """Where a file or dataset lives: a URL or path, its storage options and the filesystem to list it."""

    url: str
    options: dict[str, Any]
    fs: Any

    def child(self, name: str) -> Place:
        return Place(f"{self.url.rstrip('/')}/{name}", self.options, self.fs)

    @property
    def path(self) -> str:
        return self.url.split("://", 1)[-1]


def place(kind: str, request: pytest.FixtureRequest, tmp_path: Path) -> Place:
    if kind == "local":
        folder = tmp_path / "store"
        folder.mkdir(exist_ok=True)
        return Place(str(folder), {}, fsspec.filesystem("file"))
    bucket = request.getfixturevalue("s3_bucket" if kind == "s3" else "gcs_bucket")
    return Place(bucket.url("data"), bucket.storage_options, bucket.fs)


def stored_objects(where: Place) -> dict[str, bytes]:
    """Every object of a dataset by relative path; JSON metadata parsed, creation times dropped."""
    where.fs.invalidate_cache()
    files = [f for f in where.fs.find(where.path) if not f.endswith("/")]
    contents = where.fs.cat(files)
    out: dict[str, Any] = {}
    for name, blob in contents.items():
        relative = name[len(where.path.rstrip("/")) :].lstrip("/")
        if relative.rsplit("/", 1)[-1] in (".zattrs", ".zmetadata"):
            out[relative] = _without_timings(json.loads(blob))
        else:
            out[relative] = bytes(blob)
    return out


def _without_timings(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _without_timings(v) for k, v in value.items() if k not in TIMINGS}
    if isinstance(value, list):
        return [_without_timings(v) for v in value]
    return value


def ingest(case: Case, source: Place, target: Place, **kwargs: Any) -> None:
    segy_to_mdio(
        source.url,
        target.url,
        case.index_bytes,
        case.index_names,
        chunksize=case.chunks,
        storage_options_input=source.options or None,
        storage_options_output=target.options or None,
        **kwargs,
    )


def source_of(case: Case, kind: str, request: pytest.FixtureRequest, tmp_path: Path) -> Place:
    if kind == "local":
        return Place(str(case.path), {}, fsspec.filesystem("file"))
    remote = place(kind, request, tmp_path).child(case.path.name)
    remote.fs.put_file(str(case.path), remote.path)
    return remote


# --- same result as the local run, work done on the workers ---------------------------------------------------
@pytest.mark.parametrize("target_kind", ["local", "s3", "gcs"])
@pytest.mark.parametrize("source_kind", ["local", "s3"])
@pytest.mark.parametrize("dims", ["3d", "4d"])
def test_cluster_ingest_equals_local_run(
    dims: str, source_kind: str, target_kind: str, dask_client: Any, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    case = MAKERS[dims](tmp_path)
    source = source_of(case, source_kind, request, tmp_path)
    root = place(target_kind, request, tmp_path)
    local, cluster = root.child("local.mdio"), root.child("cluster.mdio")

    ingest(case, source, local)
    ingest(case, source, cluster, client=dask_client)

    assert_ran_on_workers(dask_client, "read_header_span")
    assert_ran_on_workers(dask_client, "write_unit")
    expected, got = stored_objects(local), stored_objects(cluster)
    assert sorted(got) == sorted(expected)
    # The checksum record (entries the workers took as they wrote) is among the objects compared.
    assert any(name.startswith("checksums/data__chunked_") and name[-1].isdigit() for name in got)
    different = [name for name in expected if got[name] != expected[name]]
    assert not different, different
    # Nothing else beside the two datasets (no staged copies left behind).
    root.fs.invalidate_cache()
    names = {p.rstrip("/").rsplit("/", 1)[-1] for p in root.fs.ls(root.path)}
    assert names - {case.path.name} == {"local.mdio", "cluster.mdio"}

    # And the dataset is right, not only equal: the live mask and the traces against segyio.
    pattern = "".join(str(axis) for axis in range(len(case.chunks)))
    reader = MDIOReader(cluster.url, access_pattern=pattern, storage_options=cluster.options or None)
    np.testing.assert_array_equal(reader.live_mask[:], case.live)
    view = read_with_segyio(case.path)
    assert np.array_equal(np.asarray(reader[:])[case.live], view.traces)


def test_cluster_ingest_of_a_remote_file_reads_whole_rows(dask_client: Any, s3_bucket: Any, tmp_path: Path) -> None:
    """A SEG-Y on S3 is written in units of whole grid rows (long runs of consecutive traces): fewer tasks than
    chunk blocks; a local SEG-Y one task per chunk block."""
    case = make_3d(tmp_path)
    remote = Place(s3_bucket.url("stack.sgy"), s3_bucket.storage_options, s3_bucket.fs)
    s3_bucket.fs.put_file(str(case.path), remote.path)
    out = Place(str(tmp_path / "out"), {}, fsspec.filesystem("file"))

    ingest(case, remote, out.child("remote.mdio"), client=dask_client)
    units = sum(per.get("write_unit", 0) for per in worker_task_counts(dask_client).values())
    assert units == 3  # 12 inlines / 4, each unit all 10 crosslines (3 chunks wide)

    dask_client.run(_reset_counts)
    ingest(case, Place(str(case.path), {}, out.fs), out.child("local.mdio"), client=dask_client)
    units = sum(per.get("write_unit", 0) for per in worker_task_counts(dask_client).values())
    assert units == 3 * 3
    assert not task_counts()

    # Wide units store the same chunks, bytes and statistics as one-chunk units; only the source URL differs.
    from_s3, from_disk = stored_objects(out.child("remote.mdio")), stored_objects(out.child("local.mdio"))
    assert "data/chunked_012/0/0/1" not in from_disk  # the empty chunk is not stored
    assert _without_source(from_s3) == _without_source(from_disk)


def _without_source(objects: dict[str, Any]) -> dict[str, Any]:
    def strip(value: Any) -> Any:
        if isinstance(value, dict):
            return {k: strip(v) for k, v in value.items() if k != "source"}
        return value

    return {name: strip(value) for name, value in objects.items()}


def _reset_counts() -> None:
    from mdio_catalog.core.cluster import reset_task_counts

    reset_task_counts()


# --- a worker killed mid-ingest -------------------------------------------------------------------------------
class KillOnce:
    """Worker plugin: the first worker process to start its second write task dies at once (``os._exit``), once
    per marker file, whatever worker processes come and go."""

    name = "kill-once-mid-ingest"

    def __init__(self, marker: str) -> None:
        self.marker = marker
        self.started = 0

    def setup(self, worker: Any) -> None:
        self.started = 0

    def teardown(self, worker: Any) -> None:
        pass

    def transition(self, key: Any, start: str, finish: str, **kwargs: Any) -> None:
        if finish != "executing" or not str(key).startswith("write_unit-"):
            return
        self.started += 1
        if self.started < 2:
            return
        try:
            os.close(os.open(self.marker, os.O_CREAT | os.O_EXCL | os.O_WRONLY))
        except FileExistsError:
            return
        os._exit(1)


@pytest.fixture
def kill_once(dask_client: Any, tmp_path: Path) -> Any:
    from distributed.diagnostics.plugin import WorkerPlugin

    plugin_type = type("KillOncePlugin", (KillOnce, WorkerPlugin), {})
    marker = tmp_path / "killed"
    plugin = plugin_type(str(marker))
    dask_client.register_plugin(plugin, name=KillOnce.name)
    try:
        yield marker
    finally:
        dask_client.unregister_worker_plugin(KillOnce.name)
        dask_client.wait_for_workers(2, timeout=60)


def test_killed_worker_fails_the_ingest_and_publishes_nothing(
    dask_client: Any, kill_once: Path, tmp_path: Path
) -> None:
    """With no retries allowed, a worker dying mid-write fails the ingestion with ClusterError; the previous
    dataset stays as it was and no staged copy is left."""
    case = make_3d(tmp_path)
    out = tmp_path / "out"
    out.mkdir()
    target = out / "stack.mdio"
    segy_to_mdio(case.path, target, case.index_bytes, case.index_names, chunksize=(12, 10, 40))
    before = {p.relative_to(target): p.read_bytes() for p in sorted(target.rglob("*")) if p.is_file()}

    scheduler = dask_client.cluster.scheduler
    allowed = scheduler.allowed_failures
    scheduler.allowed_failures = 0  # the first lost task is final (dask's default retries it three times)
    try:
        with pytest.raises(ClusterError, match="lost"):
            segy_to_mdio(
                case.path,
                target,
                case.index_bytes,
                case.index_names,
                chunksize=(2, 2, 16),
                overwrite=True,
                client=dask_client,
            )
    finally:
        scheduler.allowed_failures = allowed
    assert kill_once.exists()  # a worker really died
    after = {p.relative_to(target): p.read_bytes() for p in sorted(target.rglob("*")) if p.is_file()}
    assert after == before
    assert sorted(p.name for p in out.iterdir()) == ["stack.mdio"]


def test_killed_worker_is_retried_and_the_result_is_the_local_one(
    dask_client: Any, kill_once: Path, tmp_path: Path
) -> None:
    """With dask's default retries the lost write task runs again elsewhere; the dataset equals the local run."""
    case = make_3d(tmp_path)
    root = Place(str(tmp_path / "out"), {}, fsspec.filesystem("file"))
    Path(root.url).mkdir()
    kwargs = {"index_bytes": case.index_bytes, "index_names": case.index_names, "chunksize": (2, 2, 16)}
    segy_to_mdio(case.path, root.child("local.mdio").url, **kwargs)  # type: ignore[arg-type]
    segy_to_mdio(case.path, root.child("cluster.mdio").url, client=dask_client, **kwargs)  # type: ignore[arg-type]

    assert kill_once.exists()
    assert stored_objects(root.child("cluster.mdio")) == stored_objects(root.child("local.mdio"))
    assert sorted(p.name for p in Path(root.url).iterdir()) == ["cluster.mdio", "local.mdio"]
