"""A rechunk killed half-way leaves arrays that were never completed (in the live metadata, not in the
consolidated record): they do not count as an existing access pattern, and the retry replaces them."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import zarr

from mdio_catalog import MDIOReader, MDIOWriter, rechunk, segy_to_mdio
from mdio_catalog.api.convenience import completed_patterns
from mdio_catalog.exceptions import AccessPatternNotFoundError, DatasetBusyError, MDIOAlreadyExistsError
from tests.catalog import post_stack_segy
from tests.reliability import leftover_paths


@pytest.fixture
def dataset(tmp_path: Path) -> Path:
    src = post_stack_segy(tmp_path / "stack.sgy")
    out = tmp_path / "stack.mdio"
    segy_to_mdio(src.path, out, index_bytes=(189, 193), index_names=("inline", "crossline"), chunksize=(4, 4, 8))
    return out


def half_written_pattern(dataset: Path, chunks: tuple[int, ...]) -> None:
    """What a SIGKILL in the middle of ``rechunk(..., 'fast_z')`` leaves: both arrays created, a few chunks
    written (some beyond what the real chunking has), the consolidated metadata not rewritten."""
    root = zarr.open_group(str(dataset), mode="r+", zarr_format=2, use_consolidated=False)
    reader = MDIOReader(str(dataset), access_pattern="012")
    data = root["data"].create_array("chunked_fast_z", shape=reader.shape, dtype="float32", chunks=chunks)
    data[: chunks[0], : chunks[1], : chunks[2]] = 7.0  # garbage in the first chunk
    root["metadata"].create_array(
        "chunked_fast_z_trace_headers", shape=reader.shape[:-1], dtype=reader.header_array.dtype, chunks=chunks[:-1]
    )
    (dataset / "data" / "chunked_fast_z" / "9.9.9").write_bytes(b"a chunk of an older, other chunking")
    (dataset / f".zmetadata.{'a' * 32}.partial").write_bytes(b"{")  # zarr's temporary file, never renamed


@pytest.mark.filterwarnings("ignore:Object at .zmetadata.a*.partial is not recognized")
def test_an_interrupted_pattern_does_not_block_the_retry(dataset: Path) -> None:
    half_written_pattern(dataset, (1, 1, 3))
    with pytest.raises(AccessPatternNotFoundError):  # readers never saw it
        MDIOReader(str(dataset), access_pattern="fast_z")
    writer = MDIOWriter(str(dataset), access_pattern="012")
    assert "fast_z" in writer.access_patterns  # in the live metadata...
    assert "fast_z" not in completed_patterns(writer)  # ...but never completed

    rechunk(writer, (6, 7, 2), "fast_z")  # overwrite=False: the retry is not refused
    reader = MDIOReader(str(dataset), access_pattern="fast_z")
    np.testing.assert_array_equal(reader[...], MDIOReader(str(dataset), access_pattern="012")[...])
    assert reader.chunks == (6, 7, 2)
    stored = json.loads((dataset / ".zmetadata").read_text())["metadata"]
    assert "data/chunked_fast_z/.zarray" in stored
    assert not (dataset / "data" / "chunked_fast_z" / "9.9.9").exists()  # the old array was replaced whole
    assert not list(dataset.glob("*.partial"))
    assert leftover_paths(dataset.parent) == []

    # now it exists: asking again without overwrite refuses, with overwrite replaces
    with pytest.raises(MDIOAlreadyExistsError):
        rechunk(MDIOWriter(str(dataset), access_pattern="012"), (6, 7, 2), "fast_z")
    rechunk(MDIOWriter(str(dataset), access_pattern="012"), (3, 7, 4), "fast_z", overwrite=True)
    assert MDIOReader(str(dataset), access_pattern="fast_z").chunks == (3, 7, 4)


def test_a_rechunk_holds_the_dataset_lock(dataset: Path) -> None:
    from mdio_catalog.core.publish import target_lock
    from mdio_catalog.core.store import Location

    with target_lock(Location.of(dataset)), pytest.raises(DatasetBusyError):
        rechunk(MDIOWriter(str(dataset), access_pattern="012"), (6, 7, 2), "fast_z")
    assert "fast_z" not in MDIOWriter(str(dataset), access_pattern="012").access_patterns


def test_an_interrupted_overwrite_never_leaves_a_pattern_that_looks_valid(tmp_path: Path) -> None:
    """SIGKILL while ``rechunk(..., overwrite=True)`` rewrites an existing pattern: the pattern is then absent
    (readers get AccessPatternNotFoundError), never the new chunks under the old pattern's metadata; the retry
    without overwrite succeeds and reads equal to the source."""
    import os
    import signal
    import subprocess
    import sys
    import time

    from mdio_catalog.converters.numpy import numpy_to_mdio

    values = np.random.default_rng(3).normal(size=(48, 48, 200)).astype(np.float32)
    dataset = tmp_path / "big.mdio"
    numpy_to_mdio(values, str(dataset), (16, 16, 64))
    rechunk(MDIOWriter(str(dataset), access_pattern="012"), (16, 16, 200), "fast_z")
    script = (
        "import sys\n"
        "from mdio_catalog import MDIOWriter, rechunk\n"
        "rechunk(MDIOWriter(sys.argv[1], access_pattern='012'), (2, 3, 8), 'fast_z', overwrite=True)\n"
    )
    proc = subprocess.Popen([sys.executable, "-c", script, str(dataset)])
    zarray = dataset / "data" / "chunked_fast_z" / ".zarray"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and proc.poll() is None:
        try:
            if json.loads(zarray.read_text())["chunks"] == [2, 3, 8] and len(list(zarray.parent.iterdir())) > 3:
                break  # the new chunking is being written
        except (OSError, ValueError):
            pass
        time.sleep(0.005)
    assert proc.poll() is None, "the rechunk finished before it could be interrupted; make the dataset larger"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()

    with pytest.raises(AccessPatternNotFoundError):
        MDIOReader(str(dataset), access_pattern="fast_z")
    assert "fast_z" not in completed_patterns(MDIOWriter(str(dataset), access_pattern="012"))
    rechunk(MDIOWriter(str(dataset), access_pattern="012"), (8, 8, 50), "fast_z")
    np.testing.assert_array_equal(MDIOReader(str(dataset), access_pattern="fast_z")[...], values)
