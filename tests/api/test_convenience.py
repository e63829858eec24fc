"""copy_mdio, rechunk and rechunk_batch against numpy: every new access pattern holds the same values, headers
and live mask as the source; refusals change nothing."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from numcodecs import Blosc

from mdio_catalog import MDIOAccessor, MDIOReader, MDIOWriter, copy_mdio, numpy_to_mdio, rechunk, rechunk_batch
from mdio_catalog.core.headers import TRACE_HEADER_DTYPE
from mdio_catalog.exceptions import (
    AccessPatternError,
    MDIOAlreadyExistsError,
    MDIONotFoundError,
    MDIOReadOnlyError,
    ShapeError,
)


def snapshot(path: Path) -> dict[str, bytes]:
    return {str(p.relative_to(path)): p.read_bytes() for p in sorted(path.rglob("*")) if p.is_file()}


@pytest.fixture
def volume(tmp_path: Path) -> tuple[Path, np.ndarray, np.ndarray, np.ndarray]:
    """A 3-D dataset with some dead traces, real headers and statistics, written through a writer."""
    rng = np.random.default_rng(21)
    values = rng.normal(size=(13, 11, 37)).astype("float32")
    mask = rng.random((13, 11)) > 0.25
    values[~mask] = 0
    path = tmp_path / "src.mdio"
    names = ["inline", "crossline", "sample"]
    numpy_to_mdio(values, str(path), (4, 4, 16), index_names=names)
    headers = np.zeros((13, 11), TRACE_HEADER_DTYPE)
    il, xl = np.meshgrid(np.arange(13), np.arange(11), indexing="ij")
    headers["inline"], headers["crossline"] = il + 100, xl + 200
    headers[~mask] = np.zeros(1, TRACE_HEADER_DTYPE)[0]
    writer = MDIOWriter(str(path))
    writer.header_array[:] = headers
    writer.live_mask = mask
    writer.trace_count = int(mask.sum())
    return path, values, mask, headers


def test_reference_rechunk_example_single_pattern(volume: tuple[Path, np.ndarray, np.ndarray, np.ndarray]) -> None:
    path, values, mask, headers = volume
    accessor = MDIOAccessor(str(path), "w", "012", None, False, None, "zarr", False)
    rechunk(accessor, (1, 1024, 1024), suffix="fast_il")
    fast = MDIOReader(str(path), access_pattern="fast_il", return_metadata=True)
    assert fast.chunks == (1, 1024, 1024)
    live, got_headers, traces = fast[:]
    np.testing.assert_array_equal(traces, values)
    np.testing.assert_array_equal(got_headers, headers)
    np.testing.assert_array_equal(live, mask)
    assert json.loads((path / "metadata" / "chunked_fast_il_trace_headers" / ".zarray").read_text())["chunks"] == [
        1,
        1024,
    ]
    assert "data/chunked_fast_il/.zarray" in json.loads((path / ".zmetadata").read_text())["metadata"]


def test_reference_rechunk_batch_example(volume: tuple[Path, np.ndarray, np.ndarray, np.ndarray]) -> None:
    path, values, _, headers = volume
    accessor = MDIOAccessor(str(path), "w", "012", None, False, None, "zarr", False)
    rechunk_batch(
        accessor,
        chunks_list=[(1, 1024, 1024), (1024, 1, 1024), (1024, 1024, 1)],
        suffix_list=["fast_il", "fast_xl", "fast_z"],
    )
    assert MDIOReader(str(path)).access_patterns == ["012", "fast_il", "fast_xl", "fast_z"]
    for suffix in ("fast_il", "fast_xl", "fast_z"):
        reader = MDIOReader(str(path), access_pattern=suffix, return_metadata=True)
        np.testing.assert_array_equal(reader[...][2], values)
        np.testing.assert_array_equal(reader[...][1], headers)
    # Slicing along each pattern's fast axis returns the same as numpy.
    np.testing.assert_array_equal(MDIOReader(str(path), access_pattern="fast_il")[5], values[5])
    np.testing.assert_array_equal(MDIOReader(str(path), access_pattern="fast_xl")[:, 7], values[:, 7])
    np.testing.assert_array_equal(MDIOReader(str(path), access_pattern="fast_z")[..., 30], values[..., 30])


def test_rechunk_with_a_custom_compressor_and_overwrite(
    volume: tuple[Path, np.ndarray, np.ndarray, np.ndarray],
) -> None:
    path, values, _, _ = volume
    writer = MDIOWriter(str(path))
    rechunk(writer, (13, 1, 37), "fast_xl", compressor=Blosc(cname="lz4", clevel=1))
    before = snapshot(path)
    with pytest.raises(MDIOAlreadyExistsError, match="overwrite=True"):
        rechunk(writer, (2, 2, 2), "fast_xl")
    assert snapshot(path) == before
    rechunk(writer, (2, 2, 2), "fast_xl", overwrite=True)
    reader = MDIOReader(str(path), access_pattern="fast_xl")
    assert reader.chunks == (2, 2, 2)
    np.testing.assert_array_equal(reader[:], values)
    compressor = json.loads((path / "data" / "chunked_fast_xl" / ".zarray").read_text())["compressor"]
    assert compressor["cname"] == "zstd"  # the overwrite used the default again


@pytest.mark.parametrize(
    ("chunks", "suffix", "error", "fragment"),
    [
        ([(1, 1, 1)], ["012"], AccessPatternError, "own access pattern"),
        ([(1, 1)], ["fast"], ShapeError, "has 2 entries"),
        ([(1, 1, 1)], ["a/b"], AccessPatternError, "letters"),
        ([(1, 1, 1), (2, 2, 2)], ["x"], ShapeError, "one per suffix"),
        ([(1, 1, 1), (2, 2, 2)], ["x", "x"], AccessPatternError, "distinct"),
    ],
)
def test_bad_rechunk_requests_change_nothing(
    volume: tuple[Path, np.ndarray, np.ndarray, np.ndarray], chunks: list, suffix: list, error: type, fragment: str
) -> None:
    path = volume[0]
    before = snapshot(path)
    with pytest.raises(error, match=fragment):
        rechunk_batch(MDIOWriter(str(path)), chunks, suffix)
    assert snapshot(path) == before


def test_rechunk_needs_a_writable_accessor(volume: tuple[Path, np.ndarray, np.ndarray, np.ndarray]) -> None:
    path = volume[0]
    before = snapshot(path)
    with pytest.raises(MDIOReadOnlyError, match="MDIOWriter"):
        rechunk(MDIOReader(str(path)), (1, 11, 37), "fast_il")
    assert snapshot(path) == before


def test_interrupted_rechunk_leaves_no_pattern(
    volume: tuple[Path, np.ndarray, np.ndarray, np.ndarray], monkeypatch: pytest.MonkeyPatch
) -> None:
    path = volume[0]
    from mdio_catalog.api import convenience

    calls = []
    real = convenience.spatial_blocks

    def interrupted(shape, chunks):  # type: ignore[no-untyped-def]
        for n, block in enumerate(real(shape, chunks)):
            calls.append(n)
            if n == 2:
                raise KeyboardInterrupt
            yield block

    monkeypatch.setattr(convenience, "spatial_blocks", interrupted)
    with pytest.raises(KeyboardInterrupt):
        rechunk(MDIOWriter(str(path)), (1, 2, 37), "fast_il")
    assert calls
    assert MDIOReader(str(path)).access_patterns == ["012"]
    assert not (path / "data" / "chunked_fast_il").exists()
    with pytest.raises(AccessPatternError):
        MDIOReader(str(path), access_pattern="fast_il")


@pytest.mark.parametrize(("copy_traces", "copy_headers"), [(False, False), (True, False), (False, True), (True, True)])
def test_copy_mdio_flags(
    volume: tuple[Path, np.ndarray, np.ndarray, np.ndarray], tmp_path: Path, copy_traces: bool, copy_headers: bool
) -> None:
    path, values, mask, headers = volume
    rechunk(MDIOWriter(str(path)), (1, 11, 37), "fast_il")
    target = tmp_path / "copy.mdio"
    copy_mdio(str(path), str(target), copy_traces=copy_traces, copy_headers=copy_headers)
    for pattern in ("012", "fast_il"):
        reader = MDIOReader(str(target), access_pattern=pattern, return_metadata=True)
        live, got_headers, traces = reader[:]
        np.testing.assert_array_equal(live, mask)
        np.testing.assert_array_equal(traces, values if copy_traces else np.zeros_like(values))
        np.testing.assert_array_equal(got_headers, headers if copy_headers else np.zeros_like(headers))
        assert reader.chunks == MDIOReader(str(path), access_pattern=pattern).chunks
    copied = MDIOReader(str(target))
    assert copied.trace_count == int(mask.sum())  # the reference leaves 0
    assert copied.stats == MDIOReader(str(path)).stats
    assert copied.text_header == MDIOReader(str(path)).text_header


def test_copy_mdio_refuses_existing_and_missing(
    volume: tuple[Path, np.ndarray, np.ndarray, np.ndarray], tmp_path: Path
) -> None:
    path = volume[0]
    target = tmp_path / "copy.mdio"
    copy_mdio(str(path), str(target), copy_traces=True)
    before = snapshot(target)
    with pytest.raises(MDIOAlreadyExistsError):
        copy_mdio(str(path), str(target))
    assert snapshot(target) == before
    copy_mdio(str(path), str(target), overwrite=True)  # replaced by a copy without traces
    assert not MDIOReader(str(target))[:].any()
    with pytest.raises(MDIONotFoundError):
        copy_mdio(str(tmp_path / "nope.mdio"), str(tmp_path / "other.mdio"))
    assert not (tmp_path / "other.mdio").exists()


def test_a_refused_rechunk_still_removes_a_killed_writers_metadata_temporary(tmp_path: Path) -> None:
    """A rechunk killed while consolidating can leave zarr's ``.zgroup.<uuid>.partial`` after the pattern is
    complete; asking again (refused: the pattern exists) cleans it up, under the dataset's lock."""
    import numpy as np

    from mdio_catalog import MDIOWriter, numpy_to_mdio, rechunk
    from mdio_catalog.exceptions import MDIOAlreadyExistsError

    dataset = tmp_path / "a.mdio"
    numpy_to_mdio(np.ones((8, 6, 16), dtype="float32"), str(dataset), (4, 3, 8))
    rechunk(MDIOWriter(str(dataset), access_pattern="012"), (8, 6, 4), "fast_z")
    temporary = dataset / ".zgroup.e9ed41d965374e90ab3fbab39c928e80.partial"
    temporary.write_text('{"zarr_format": 2}')
    with pytest.raises(MDIOAlreadyExistsError):
        rechunk(MDIOWriter(str(dataset), access_pattern="012"), (8, 6, 4), "fast_z")
    assert not temporary.exists()
