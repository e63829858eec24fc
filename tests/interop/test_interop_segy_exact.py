"""The reference (multidimio 0.9.3) still opens what exact round trips add to our float32 datasets: the rev 2
additional trace headers and the unnormalised IBM words live in arrays of our own that it never opens, and it
reads the samples, live mask and standard headers as segyio reads the source file. It also exports them back to
the source's standard trace records (the additional headers are ours to export). A dataset whose samples need
an exact integer dtype is opened by it too (zarr reads any dtype), with the exact values."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import segyio

from mdio_catalog import MDIOReader, segy_to_mdio
from mdio_catalog.core import layout
from tests.converters.segy_factory import (
    grid_columns,
    random_samples,
    read_with_segyio,
    unnormalise_ibm,
    with_additional_headers,
    write_segy,
)

pytestmark = pytest.mark.interop

ReadReference = Callable[..., dict[str, Any]]
RunReference = Callable[..., Any]
AXES = {189: [1, 2, 3], 193: [10, 11, 12, 13]}


def check_against_segyio(dump: dict[str, Any], base: Path, endian: str = "big") -> None:
    view = read_with_segyio(base, [189, 193], endian=endian)
    i = np.searchsorted(AXES[189], view.words[189])
    j = np.searchsorted(AXES[193], view.words[193])
    np.testing.assert_array_equal(dump["traces"][i, j], view.traces.astype(dump["traces"].dtype))
    assert bool(dump["live_mask"].all())
    np.testing.assert_array_equal(dump["headers"]["inline"][i, j], view.words[189])
    np.testing.assert_array_equal(dump["headers"]["crossline"][i, j], view.words[193])


def test_reference_reads_a_dataset_with_additional_trace_headers(
    read_with_reference: ReadReference, run_reference: RunReference, tmp_path: Path
) -> None:
    cols, idx = grid_columns(AXES)
    base = write_segy(tmp_path / "base.sgy", cols, random_samples(len(idx), 16, 1, seed=2), fmt=1)
    src = with_additional_headers(base, tmp_path / "rev2.sgy", 2)
    store = tmp_path / "rev2.mdio"
    segy_to_mdio(src, store, (189, 193), ("inline", "crossline"), chunksize=(2, 2, 16))
    assert layout.ADDITIONAL_HEADERS in MDIOReader(str(store)).root[layout.METADATA_GROUP]
    dump = read_with_reference(store)
    assert dump["traces"].dtype == np.float32
    check_against_segyio(dump, base.path)
    out = tmp_path / "by_reference.sgy"
    run_reference("export-segy", "--mdio", store, "--out", out)
    with (
        segyio.open(str(out), ignore_geometry=True) as exported,
        segyio.open(str(base.path), ignore_geometry=True) as f,
    ):
        np.testing.assert_array_equal(exported.trace.raw[:], f.trace.raw[:])


def test_reference_reads_a_dataset_with_kept_unnormalised_ibm_words(
    read_with_reference: ReadReference, tmp_path: Path
) -> None:
    cols, idx = grid_columns(AXES)
    samples = np.random.default_rng(3).integers(-900, 900, size=(len(idx), 16)).astype(np.float32)
    base = write_segy(tmp_path / "ibm.sgy", cols, samples, fmt=1)
    src, changed = unnormalise_ibm(base, tmp_path / "unnormalised.sgy")
    store = tmp_path / "u.mdio"
    segy_to_mdio(src, store, (189, 193), ("inline", "crossline"), chunksize=(2, 2, 16))
    assert MDIOReader(str(store)).metadata_attrs[layout.ATTR_CATALOG]["segy"]["unnormalised_ibm"] == changed > 0
    dump = read_with_reference(store)
    assert dump["traces"].dtype == np.float32
    check_against_segyio(dump, base.path)  # the values of the normalised twin: what the words mean


def test_reference_opens_an_exact_integer_dataset(read_with_reference: ReadReference, tmp_path: Path) -> None:
    cols, idx = grid_columns(AXES)
    samples = np.random.default_rng(4).integers(2**25, 2**31 - 1, size=(len(idx), 16)).astype(np.int32)
    base = write_segy(tmp_path / "i4.sgy", cols, samples, fmt=2)
    store = tmp_path / "i4.mdio"
    segy_to_mdio(base.path, store, (189, 193), ("inline", "crossline"), chunksize=(2, 2, 16))
    dump = read_with_reference(store)
    assert dump["traces"].dtype == np.int32
    check_against_segyio(dump, base.path)
