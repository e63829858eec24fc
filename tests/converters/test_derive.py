"""Derived datasets (crop, decimation, rechunk, recompress) against numpy slicing of the upstream as MDIOReader
reads it, segyio reading the original SEG-Y, and an SNR recomputed with numpy; on threads and on a real cluster."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
import segyio

from mdio_catalog import MDIOReader, mdio_to_segy, segy_to_mdio
from mdio_catalog.converters.derive import derive_mdio
from mdio_catalog.core.quality import psnr_db, snr_db
from mdio_catalog.exceptions import CoordinateNotFoundError, DimensionNotFoundError, ShapeError
from tests.catalog import post_stack_segy
from tests.cluster import assert_ran_on_workers

INLINES = range(100, 120)
CROSSLINES = range(300, 340, 2)
SELECT = {"inline": [104, 113], "crossline": [306, 330], "sample": [32, 348]}  # ms: samples 8..87
STEP = {"sample": 2, "crossline": 3}


@pytest.fixture
def upstream(tmp_path: Path) -> tuple[Path, Path]:
    segy = post_stack_segy(
        tmp_path / "stack.sgy", INLINES, CROSSLINES, n_samples=120, dead=((5, 4), (6, 5), (12, 1))
    ).path
    out = tmp_path / "stack.mdio"
    segy_to_mdio(segy, out, index_bytes=(189, 193), index_names=("inline", "crossline"), chunksize=(8, 8, 32))
    return segy, out


def expected_selection(reader: MDIOReader) -> tuple[tuple[slice, ...], np.ndarray]:
    index = {name: {v: i for i, v in enumerate(reader.grid.select_dim(name).values)} for name in reader.grid.dim_names}
    ranges = []
    for name in reader.grid.dim_names:
        lo, hi = SELECT[name]
        ranges.append(slice(index[name][lo], index[name][hi] + 1, STEP.get(name, 1)))
    return tuple(ranges), reader[...][tuple(ranges)]


def test_a_crop_equals_numpy_slicing_of_the_upstream(upstream: tuple[Path, Path], tmp_path: Path) -> None:
    _, source = upstream
    report = derive_mdio(str(source), str(tmp_path / "crop.mdio"), select=SELECT, step=STEP, chunks=(4, 4, 16))
    upstream_reader = MDIOReader(str(source), return_metadata=True)
    live, headers, values = upstream_reader[...]
    ranges, _ = expected_selection(MDIOReader(str(source)))
    derived = MDIOReader(str(tmp_path / "crop.mdio"), return_metadata=True)
    d_live, d_headers, d_values = derived[...]
    np.testing.assert_array_equal(d_values, values[ranges])
    np.testing.assert_array_equal(d_live, live[ranges[:-1]])
    np.testing.assert_array_equal(d_headers, headers[ranges[:-1]])
    assert derived.chunks == (4, 4, 16)
    for axis, name in enumerate(("inline", "crossline", "sample")):
        np.testing.assert_array_equal(
            derived.grid.select_dim(name).values, upstream_reader.grid.select_dim(name).values[ranges[axis]]
        )
    selected = values[ranges]
    nonzero = selected[selected != 0].astype(np.float64)
    assert derived.stats["mean"] == pytest.approx(nonzero.mean(), rel=1e-9)
    assert derived.stats["std"] == pytest.approx(nonzero.std(), rel=1e-9)
    assert derived.stats["max"] == pytest.approx(nonzero.max())
    assert derived.trace_count == report.trace_count == int(live[ranges[:-1]].sum())
    assert derived.binary_header["samples_per_trace"] == selected.shape[-1]
    assert derived.binary_header["sample_interval"] == 2 * upstream_reader.binary_header["sample_interval"]
    assert derived.text_header == upstream_reader.text_header
    assert report.lossless
    assert report.shape == selected.shape


def test_the_export_of_a_crop_holds_the_original_traces(upstream: tuple[Path, Path], tmp_path: Path) -> None:
    segy, source = upstream
    derive_mdio(str(source), str(tmp_path / "crop.mdio"), select=SELECT, step=STEP)
    mdio_to_segy(tmp_path / "crop.mdio", tmp_path / "crop.sgy")
    with segyio.open(str(segy), ignore_geometry=True) as original:
        by_cell = {
            (int(h[segyio.TraceField.INLINE_3D]), int(h[segyio.TraceField.CROSSLINE_3D])): i
            for i, h in enumerate(original.header)
        }
        sample_index = np.arange(120)[8:88:2]
        with segyio.open(str(tmp_path / "crop.sgy"), ignore_geometry=True) as crop:
            assert crop.tracecount > 0
            assert len(crop.samples) == sample_index.size
            for i in range(crop.tracecount):
                header = crop.header[i]
                cell = (int(header[segyio.TraceField.INLINE_3D]), int(header[segyio.TraceField.CROSSLINE_3D]))
                assert SELECT["inline"][0] <= cell[0] <= SELECT["inline"][1]
                np.testing.assert_array_equal(crop.trace[i], original.trace[by_cell[cell]][sample_index])


@pytest.mark.parametrize("target", [30.0, 40.0])
def test_lossy_by_quality_meets_the_target_and_records_what_it_measured(
    upstream: tuple[Path, Path], tmp_path: Path, target: float
) -> None:
    _, source = upstream
    report = derive_mdio(str(source), str(tmp_path / "browse.mdio"), lossless=False, snr_db=target)
    exact = MDIOReader(str(source))[...]
    lossy = MDIOReader(str(tmp_path / "browse.mdio"))[...]
    measured = snr_db(exact, lossy)
    assert measured >= target
    assert report.snr_db == pytest.approx(measured, abs=1e-6)
    assert report.psnr_db == pytest.approx(psnr_db(exact, lossy), abs=1e-6)
    assert report.tolerance is not None
    assert report.tolerance > 0
    assert report.size_ratio is not None
    assert report.size_ratio > 1


def test_selection_errors_are_located_and_write_nothing(upstream: tuple[Path, Path], tmp_path: Path) -> None:
    _, source = upstream
    target = tmp_path / "bad.mdio"
    with pytest.raises(CoordinateNotFoundError, match="nearest are 304 and 306"):
        derive_mdio(str(source), str(target), select={"crossline": [305, 320]})
    with pytest.raises(DimensionNotFoundError, match="did you mean 'inline'"):
        derive_mdio(str(source), str(target), select={"inlin": [104, 110]})
    with pytest.raises(ShapeError, match="empty"):
        derive_mdio(str(source), str(target), select={"inline": [110, 104]})
    with pytest.raises(ShapeError, match="step"):
        derive_mdio(str(source), str(target), step={"sample": 0})
    assert not target.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["stack.mdio", "stack.sgy"]


def test_on_a_cluster_the_workers_derive_the_same_dataset(
    upstream: tuple[Path, Path], tmp_path: Path, dask_client: Any
) -> None:
    _, source = upstream
    derive_mdio(str(source), str(tmp_path / "local.mdio"), select=SELECT, step=STEP, chunks=(4, 4, 16))
    derive_mdio(
        str(source), str(tmp_path / "cluster.mdio"), select=SELECT, step=STEP, chunks=(4, 4, 16), client=dask_client
    )
    assert_ran_on_workers(dask_client, "derive_block")
    local = MDIOReader(str(tmp_path / "local.mdio"), return_metadata=True)[...]
    cluster = MDIOReader(str(tmp_path / "cluster.mdio"), return_metadata=True)[...]
    for a, b in zip(local, cluster, strict=True):
        np.testing.assert_array_equal(a, b)
    assert MDIOReader(str(tmp_path / "local.mdio")).stats == MDIOReader(str(tmp_path / "cluster.mdio")).stats
    # Checksums the workers took as they wrote equal those taken here, and describe the stored objects.
    import zarr

    from mdio_catalog.core.checksums import read_record
    from mdio_catalog.core.verify import verify_dataset

    records = [read_record(zarr.open_group(str(tmp_path / n), mode="r")) for n in ("local.mdio", "cluster.mdio")]
    assert records[0] is not None
    assert records[1] is not None
    assert sorted(records[0]) == sorted(records[1])
    for path, grid in records[0].items():
        np.testing.assert_array_equal(records[1][path], grid)
    assert verify_dataset(str(tmp_path / "cluster.mdio")).ok
