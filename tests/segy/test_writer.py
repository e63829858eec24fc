"""SegyWriter: a preallocated SEG-Y file written out of order, renamed into place only when complete.

Oracle: the bytes on disk, compared with numpy arrays built here.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

from mdio_catalog.exceptions import ExportError, MDIOError, StorageError
from mdio_catalog.segy.writer import SegyWriter

HEADER = bytes(range(256)) * 14 + bytes(range(16))  # 3600 distinctive bytes
TRACE_SIZE = 240 + 4 * 5


def records(n: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, size=(n, TRACE_SIZE), dtype=np.uint8)


def partials(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if ".partial-" in p.name)


def test_header_size_is_3600() -> None:
    assert len(HEADER) == 3600


def test_preallocates_the_whole_file_beside_the_target(tmp_path: Path) -> None:
    writer = SegyWriter(tmp_path / "out.sgy", HEADER, TRACE_SIZE, 7)
    try:
        assert not (tmp_path / "out.sgy").exists()
        [partial] = partials(tmp_path)
        assert partial == writer.partial
        assert partial.parent == tmp_path
        assert partial.name.startswith(".out.sgy.partial-")  # hidden, and not named like the target
        assert partial.stat().st_size == 3600 + 7 * TRACE_SIZE
        raw = partial.read_bytes()
        assert raw[:3600] == HEADER
        assert raw[3600:] == bytes(7 * TRACE_SIZE)
    finally:
        writer.abort()


def test_out_of_order_writes_land_at_their_trace_numbers(tmp_path: Path) -> None:
    data = records(9, seed=1)
    target = tmp_path / "out.sgy"
    with SegyWriter(target, HEADER, TRACE_SIZE, 9) as writer:
        writer.write_traces(6, data[6:9])
        writer.write_traces(0, data[0:1])
        writer.write_traces(3, data[3:6])
        writer.write_traces(1, data[1:3])
        assert writer.commit() == target
    assert target.read_bytes() == HEADER + data.tobytes()
    assert partials(tmp_path) == []


def test_non_contiguous_records_are_written_correctly(tmp_path: Path) -> None:
    wide = records(8, seed=2)
    big = np.zeros((8, 2 * TRACE_SIZE), dtype=np.uint8)
    big[:, ::2] = wide  # every other byte: a strided view below
    view = big[:, ::2]
    assert not view.flags.c_contiguous
    with SegyWriter(tmp_path / "o.sgy", HEADER, TRACE_SIZE, 8) as writer:
        writer.write_traces(4, view[4:][::-1][::-1])
        writer.write_traces(0, np.asfortranarray(wide[:4]))
        writer.commit()
    assert (tmp_path / "o.sgy").read_bytes() == HEADER + wide.tobytes()


def test_an_empty_run_is_accepted(tmp_path: Path) -> None:
    with SegyWriter(tmp_path / "o.sgy", HEADER, TRACE_SIZE, 2) as writer:
        writer.write_traces(2, np.zeros((0, TRACE_SIZE), dtype=np.uint8))
        writer.write_traces(0, records(2))
        writer.commit()
    assert (tmp_path / "o.sgy").stat().st_size == 3600 + 2 * TRACE_SIZE


def test_commit_replaces_an_existing_file(tmp_path: Path) -> None:
    target = tmp_path / "out.sgy"
    target.write_bytes(b"an older export")
    data = records(3)
    with SegyWriter(target, HEADER, TRACE_SIZE, 3) as writer:
        writer.write_traces(0, data)
        assert target.read_bytes() == b"an older export"  # untouched until commit
        writer.commit()
    assert target.read_bytes() == HEADER + data.tobytes()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.sgy"]


def test_abort_removes_the_partial_and_keeps_an_existing_target(tmp_path: Path) -> None:
    target = tmp_path / "out.sgy"
    target.write_bytes(b"keep me")
    writer = SegyWriter(target, HEADER, TRACE_SIZE, 4)
    writer.write_traces(0, records(2))
    writer.abort()
    assert partials(tmp_path) == []
    assert target.read_bytes() == b"keep me"
    writer.abort()  # idempotent


def test_abort_after_commit_keeps_the_file(tmp_path: Path) -> None:
    writer = SegyWriter(tmp_path / "out.sgy", HEADER, TRACE_SIZE, 1)
    writer.write_traces(0, records(1))
    writer.commit()
    writer.abort()
    assert (tmp_path / "out.sgy").stat().st_size == 3600 + TRACE_SIZE


@pytest.mark.parametrize("error", [RuntimeError, KeyboardInterrupt])
def test_exception_inside_the_context_aborts(tmp_path: Path, error: type[BaseException]) -> None:
    def export() -> None:
        with SegyWriter(tmp_path / "out.sgy", HEADER, TRACE_SIZE, 4) as writer:
            writer.write_traces(0, records(4))
            raise error("stop")

    with pytest.raises(error):
        export()
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    "bad",
    [
        np.zeros(TRACE_SIZE, dtype=np.uint8),  # 1-D
        np.zeros((2, TRACE_SIZE - 1), dtype=np.uint8),  # record too short
        np.zeros((2, TRACE_SIZE + 1), dtype=np.uint8),  # record too long
        np.zeros((1, 2, TRACE_SIZE), dtype=np.uint8),  # 3-D
        np.zeros((2, TRACE_SIZE), dtype=np.uint16),  # right shape, but 2 x trace_size bytes per record
        np.zeros((2, TRACE_SIZE), dtype=np.float32),  # 4 x trace_size bytes per record
    ],
    ids=["1d", "short", "long", "3d", "uint16", "float32"],
)
def test_bad_record_shapes_raise_and_write_nothing(tmp_path: Path, bad: np.ndarray) -> None:
    with SegyWriter(tmp_path / "o.sgy", HEADER, TRACE_SIZE, 4) as writer:
        before = writer.partial.read_bytes()
        with pytest.raises(ExportError, match=str(TRACE_SIZE)):
            writer.write_traces(0, bad)
        assert writer.partial.read_bytes() == before
        assert writer.partial.stat().st_size == 3600 + 4 * TRACE_SIZE
        writer.abort()
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(("first", "n"), [(-1, 1), (4, 1), (3, 2), (0, 5)])
def test_traces_outside_the_file_raise(tmp_path: Path, first: int, n: int) -> None:
    with SegyWriter(tmp_path / "o.sgy", HEADER, TRACE_SIZE, 4) as writer:
        with pytest.raises(ExportError, match="outside"):
            writer.write_traces(first, records(n))
        assert writer.partial.stat().st_size == 3600 + 4 * TRACE_SIZE
        writer.abort()
    assert list(tmp_path.iterdir()) == []


def test_missing_folder(tmp_path: Path) -> None:
    with pytest.raises(ExportError, match="does not exist"):
        SegyWriter(tmp_path / "nope" / "o.sgy", HEADER, TRACE_SIZE, 1)
    assert list(tmp_path.iterdir()) == []


def test_folder_that_is_a_file(tmp_path: Path) -> None:
    (tmp_path / "f").write_text("x")
    with pytest.raises(MDIOError):
        SegyWriter(tmp_path / "f" / "o.sgy", HEADER, TRACE_SIZE, 1)
    assert (tmp_path / "f").read_text() == "x"


def test_name_the_filesystem_refuses_is_a_storage_error(tmp_path: Path) -> None:
    with pytest.raises(StorageError, match="Cannot write") as info:
        SegyWriter(tmp_path / ("n" * 300), HEADER, TRACE_SIZE, 1)
    assert isinstance(info.value, OSError)
    assert list(tmp_path.iterdir()) == []


def test_failure_while_preallocating_removes_the_partial(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def no_space(fd: int, length: int) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "ftruncate", no_space)
    with pytest.raises(OSError, match="No space"):
        SegyWriter(tmp_path / "o.sgy", HEADER, TRACE_SIZE, 10)
    assert list(tmp_path.iterdir()) == []


def test_zero_traces_is_just_the_header(tmp_path: Path) -> None:
    with SegyWriter(tmp_path / "o.sgy", HEADER, TRACE_SIZE, 0) as writer:
        writer.commit()
    assert (tmp_path / "o.sgy").read_bytes() == HEADER


def test_file_header_with_extended_text_headers(tmp_path: Path) -> None:
    header = HEADER + b"\x40" * 3200 * 2
    data = records(2)
    with SegyWriter(tmp_path / "o.sgy", header, TRACE_SIZE, 2) as writer:
        writer.write_traces(1, data[1:])
        writer.write_traces(0, data[:1])
        writer.commit()
    assert (tmp_path / "o.sgy").read_bytes() == header + data.tobytes()
