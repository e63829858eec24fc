"""Locations and stores on local disk and on fsspec's in-memory filesystem (memory://)."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import fsspec
import pytest

from mdio_catalog.core.store import (
    Location,
    exists,
    is_mdio,
    open_root,
    refuse_existing,
    remove,
    staged_write,
)
from mdio_catalog.exceptions import MDIOAlreadyExistsError, MDIOError, MDIONotFoundError


class BoomError(Exception):
    pass


def failing_local_write(loc: Location, error: type[BaseException], overwrite: bool) -> None:
    with staged_write(loc, overwrite=overwrite) as staging:
        write_dataset(Path(staging.url), b"partial")
        raise error()


def failing_memory_write(loc: Location, error: type[BaseException]) -> None:
    fs, _ = loc.filesystem()
    with staged_write(loc, overwrite=True) as staging:
        write_memory_dataset(fs, staging.filesystem()[1], b"partial")
        raise error()


def snapshot(root: Path) -> dict[str, bytes | None]:
    """Every file and folder under ``root`` (folders map to None) with the file contents."""
    out: dict[str, bytes | None] = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for d in dirnames:
            out[os.path.relpath(os.path.join(dirpath, d), root)] = None
        for f in filenames:
            full = os.path.join(dirpath, f)
            out[os.path.relpath(full, root)] = Path(full).read_bytes()
    return out


def write_dataset(path: Path, marker: bytes) -> None:
    (path / "data" / "chunked_012" / "0").mkdir(parents=True)
    (path / ".zgroup").write_bytes(b'{"zarr_format": 2}')
    (path / "data" / "chunked_012" / "0" / "0").write_bytes(marker)


# --- Location -------------------------------------------------------------------------------------------------
def test_location_of_relative_local_path(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    loc = Location.of("sub/survey.mdio")
    assert loc.url == str(tmp_path.resolve() / "sub" / "survey.mdio")
    assert loc.is_local
    assert loc.protocol == "file"
    assert loc.name == "survey.mdio"
    assert str(loc) == loc.url


def test_location_of_file_url_and_pathlike(tmp_path):
    target = tmp_path / "a.mdio"
    assert Location.of(f"file://{target}").url == str(target.resolve())
    assert Location.of(target).url == str(target.resolve())


def test_location_of_home(monkeypatch, tmp_path):
    monkeypatch.setenv("HOME", str(tmp_path))
    assert Location.of("~/x.mdio").url == str(tmp_path.resolve() / "x.mdio")


@pytest.mark.parametrize(
    ("url", "protocol", "name"),
    [("s3://bucket/prefix/ds.mdio/", "s3", "ds.mdio"), ("gs://b/ds", "gs", "ds"), ("memory://x/y", "memory", "y")],
)
def test_location_of_url(url, protocol, name):
    options = {"anon": True}
    loc = Location.of(url, options)
    assert loc.url == url.rstrip("/")
    assert not loc.is_local
    assert loc.protocol == protocol
    assert loc.name == name
    assert dict(loc.storage_options) == options
    assert loc.storage_options is not options  # copied, the caller's dict is not shared


def test_sibling_keeps_folder_and_options():
    loc = Location.of("s3://bucket/prefix/ds.mdio", {"anon": True})
    sib = loc.sibling(".ds.partial")
    assert sib.url == "s3://bucket/prefix/.ds.partial"
    assert dict(sib.storage_options) == {"anon": True}


# --- exists / is_mdio / remove (local) ---------------------------------------------------------------------------
def test_local_exists_is_mdio_remove(tmp_path):
    path = tmp_path / "ds.mdio"
    loc = Location.of(path)
    assert not exists(loc)
    assert not is_mdio(loc)
    path.mkdir()
    assert not exists(loc)  # an empty folder holds nothing
    (path / "junk.txt").write_text("x")
    assert exists(loc)
    assert not is_mdio(loc)
    write_dataset(path, b"1")
    assert is_mdio(loc)
    remove(loc)
    assert not path.exists()
    remove(loc)  # nothing there: no error


def test_remove_local_file(tmp_path):
    path = tmp_path / "file.bin"
    path.write_bytes(b"x")
    remove(Location.of(path))
    assert not path.exists()


def test_refuse_existing(tmp_path):
    path = tmp_path / "ds.mdio"
    write_dataset(path, b"old")
    before = snapshot(tmp_path)
    with pytest.raises(MDIOAlreadyExistsError) as info:
        refuse_existing(Location.of(path), overwrite=False)
    assert isinstance(info.value, FileExistsError)
    assert isinstance(info.value, MDIOError)
    assert "overwrite" in str(info.value)
    assert snapshot(tmp_path) == before
    refuse_existing(Location.of(path), overwrite=True)  # allowed
    refuse_existing(Location.of(tmp_path / "free.mdio"), overwrite=False)  # free
    assert snapshot(tmp_path) == before


def test_open_root_missing_dataset(tmp_path):
    with pytest.raises(MDIONotFoundError) as info:
        open_root(Location.of(tmp_path / "nothing.mdio"))
    assert isinstance(info.value, FileNotFoundError)


# --- staged_write (local) -----------------------------------------------------------------------------------
def test_staged_write_success_promotes(tmp_path):
    target = tmp_path / "ds.mdio"
    loc = Location.of(target)
    with staged_write(loc, overwrite=False) as staging:
        assert staging.is_local
        assert staging.url != loc.url
        assert Path(staging.url).parent == tmp_path
        write_dataset(Path(staging.url), b"new")
        assert not target.exists()  # nothing visible before completion
    assert (target / "data" / "chunked_012" / "0" / "0").read_bytes() == b"new"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ds.mdio"]  # no staging leftovers


@pytest.mark.parametrize("error", [BoomError, KeyboardInterrupt])
def test_staged_write_failure_leaves_nothing(tmp_path, error):
    loc = Location.of(tmp_path / "ds.mdio")
    with pytest.raises(error):
        failing_local_write(loc, error, overwrite=False)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("error", [BoomError, KeyboardInterrupt])
def test_staged_write_failure_keeps_previous_dataset(tmp_path, error):
    target = tmp_path / "ds.mdio"
    write_dataset(target, b"old")
    before = snapshot(tmp_path)
    with pytest.raises(error):
        failing_local_write(Location.of(target), error, overwrite=True)
    assert snapshot(tmp_path) == before


def test_staged_write_overwrite_replaces(tmp_path):
    target = tmp_path / "ds.mdio"
    write_dataset(target, b"old")
    (target / "stale.txt").write_text("from the old dataset")
    with staged_write(Location.of(target), overwrite=True) as staging:
        write_dataset(Path(staging.url), b"new")
    assert (target / "data" / "chunked_012" / "0" / "0").read_bytes() == b"new"
    assert not (target / "stale.txt").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ds.mdio"]


def test_staged_write_refuses_existing_before_running_body(tmp_path):
    target = tmp_path / "ds.mdio"
    write_dataset(target, b"old")
    before = snapshot(tmp_path)
    ran = False
    with pytest.raises(MDIOAlreadyExistsError), staged_write(Location.of(target), overwrite=False):
        ran = True
    assert not ran
    assert snapshot(tmp_path) == before


def test_staged_write_with_nothing_written_keeps_previous_dataset(tmp_path):
    # The body "succeeds" without writing: promotion must not discard the old dataset for nothing.
    target = tmp_path / "ds.mdio"
    write_dataset(target, b"old")
    before = snapshot(tmp_path)
    with pytest.raises(MDIOError), staged_write(Location.of(target), overwrite=True):
        pass
    assert snapshot(tmp_path) == before


# --- memory:// -----------------------------------------------------------------------------------------------
@pytest.fixture
def memory_prefix() -> Iterator[tuple[fsspec.AbstractFileSystem, str]]:
    """A private folder in fsspec's process-wide in-memory filesystem, removed afterwards."""
    fs = fsspec.filesystem("memory")
    prefix = f"/test-{uuid.uuid4().hex}"
    fs.mkdir(prefix)
    yield fs, prefix
    if fs.exists(prefix):
        fs.rm(prefix, recursive=True)


def memory_files(fs: fsspec.AbstractFileSystem, prefix: str) -> dict[str, bytes]:
    return {p: fs.cat_file(p) for p in fs.find(prefix)}


def write_memory_dataset(fs: fsspec.AbstractFileSystem, path: str, marker: bytes) -> None:
    fs.pipe_file(f"{path}/.zgroup", b'{"zarr_format": 2}')
    fs.pipe_file(f"{path}/data/chunked_012/0/0", marker)


def test_memory_exists_is_mdio_remove(memory_prefix):
    fs, prefix = memory_prefix
    loc = Location.of(f"memory://{prefix.lstrip('/')}/ds.mdio")
    assert loc.filesystem()[1] == f"{prefix}/ds.mdio"
    assert not exists(loc)
    fs.pipe_file(f"{prefix}/ds.mdio/junk", b"x")
    assert exists(loc)
    assert not is_mdio(loc)
    write_memory_dataset(fs, f"{prefix}/ds.mdio", b"1")
    assert is_mdio(loc)
    remove(loc)
    assert not exists(loc)
    assert fs.find(prefix) == []
    remove(loc)  # nothing there: no error


def test_memory_staged_write_success_and_overwrite(memory_prefix):
    fs, prefix = memory_prefix
    loc = Location.of(f"memory://{prefix.lstrip('/')}/ds.mdio")
    with staged_write(loc, overwrite=False) as staging:
        assert not staging.is_local
        write_memory_dataset(fs, staging.filesystem()[1], b"first")
        assert not exists(loc)
    assert memory_files(fs, prefix) == {
        f"{prefix}/ds.mdio/.zgroup": b'{"zarr_format": 2}',
        f"{prefix}/ds.mdio/data/chunked_012/0/0": b"first",
    }
    fs.pipe_file(f"{prefix}/ds.mdio/stale", b"old")
    with staged_write(loc, overwrite=True) as staging:
        write_memory_dataset(fs, staging.filesystem()[1], b"second")
    assert memory_files(fs, prefix) == {
        f"{prefix}/ds.mdio/.zgroup": b'{"zarr_format": 2}',
        f"{prefix}/ds.mdio/data/chunked_012/0/0": b"second",
    }


@pytest.mark.parametrize("error", [BoomError, KeyboardInterrupt])
def test_memory_staged_write_failure_keeps_previous(memory_prefix, error):
    fs, prefix = memory_prefix
    loc = Location.of(f"memory://{prefix.lstrip('/')}/ds.mdio")
    write_memory_dataset(fs, f"{prefix}/ds.mdio", b"old")
    before = memory_files(fs, prefix)
    with pytest.raises(error):
        failing_memory_write(loc, error)
    assert memory_files(fs, prefix) == before


def test_memory_refuse_existing_changes_nothing(memory_prefix):
    fs, prefix = memory_prefix
    loc = Location.of(f"memory://{prefix.lstrip('/')}/ds.mdio")
    write_memory_dataset(fs, f"{prefix}/ds.mdio", b"old")
    before = memory_files(fs, prefix)
    with pytest.raises(MDIOAlreadyExistsError), staged_write(loc, overwrite=False):
        pytest.fail("the body must not run")
    assert memory_files(fs, prefix) == before


def test_memory_staged_write_with_nothing_written_keeps_previous(memory_prefix):
    fs, prefix = memory_prefix
    loc = Location.of(f"memory://{prefix.lstrip('/')}/ds.mdio")
    write_memory_dataset(fs, f"{prefix}/ds.mdio", b"old")
    before = memory_files(fs, prefix)
    with pytest.raises(MDIOError), staged_write(loc, overwrite=True):
        pass
    assert memory_files(fs, prefix) == before
