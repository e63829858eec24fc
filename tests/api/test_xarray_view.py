"""xarray views (MDIOReader.to_xarray, open_dataset, Catalog.open(as_xarray=True)).

Oracles: segyio reading the same public SEG-Y files (samples, coordinates, header words), numpy on the
MDIOReader's arrays, and the moto server's request log for which chunk objects a selection reads.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import segyio
import xarray as xr

from mdio_catalog import MDIOReader, open_dataset, segy_to_mdio
from mdio_catalog.api.xarray_view import coordinate_scale
from mdio_catalog.catalog import Catalog
from mdio_catalog.exceptions import ArgumentError, HeaderFieldError
from tests.catalog import post_stack_segy, stack_entry, write_catalog

SEGY_DATA = Path(__file__).resolve().parents[3] / "shared" / "data" / "segy"
needs_data = pytest.mark.skipif(not SEGY_DATA.is_dir(), reason=f"public SEG-Y files not found at {SEGY_DATA}")


@pytest.fixture(scope="module")
def f3(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if not SEGY_DATA.is_dir():
        pytest.skip(f"public SEG-Y files not found at {SEGY_DATA}")
    out = tmp_path_factory.mktemp("xr") / "f3.mdio"
    segy_to_mdio(SEGY_DATA / "segyio/f3.sgy", out, [189, 193], ["inline", "crossline"], chunksize=(8, 8, 32))
    return out


@needs_data
@pytest.mark.realdata
def test_post_stack_values_coords_headers_equal_segyio(f3: Path) -> None:
    ds = MDIOReader(f3).to_xarray()
    assert isinstance(ds, xr.Dataset)
    assert ds.amplitude.dims == ("inline", "crossline", "sample")
    assert ds.amplitude.chunks == ((8, 8, 7), (8, 8, 2), (32, 32, 11))  # one stored chunk per dask block
    bigger = MDIOReader(f3).to_xarray(chunks=(16, 18, 75))  # blocks of several chunks on request
    assert bigger.amplitude.chunks == ((16, 7), (18,), (75,))
    np.testing.assert_array_equal(bigger.amplitude.values, ds.amplitude.values)
    with segyio.open(SEGY_DATA / "segyio/f3.sgy") as f:
        cube = segyio.tools.cube(f)
        np.testing.assert_array_equal(ds.inline.values, f.ilines)
        np.testing.assert_array_equal(ds.crossline.values, f.xlines)
        np.testing.assert_array_equal(ds.sample.values, np.arange(f.samples.size) * 4)
        il = np.array([h[segyio.TraceField.INLINE_3D] for h in f.header]).reshape(cube.shape[:2])
        cdpx = np.array([h[segyio.TraceField.CDP_X] for h in f.header], dtype=float).reshape(cube.shape[:2])
        cdpy = np.array([h[segyio.TraceField.CDP_Y] for h in f.header], dtype=float).reshape(cube.shape[:2])
        scal = np.array([h[segyio.TraceField.SourceGroupScalar] for h in f.header]).reshape(cube.shape[:2])
    np.testing.assert_array_equal(ds.amplitude.values, cube)
    np.testing.assert_array_equal(ds.amplitude.sel(inline=120, crossline=880).values, cube[120 - 111, 880 - 875])
    np.testing.assert_array_equal(ds.amplitude.isel(sample=slice(10, 40)).values, cube[..., 10:40])
    assert ds.trace_mask.values.all()
    np.testing.assert_array_equal(ds.headers.values["inline"], il)
    assert (scal == -10).all()  # the file's own scalar: divide by 10
    np.testing.assert_allclose(ds.cdp_x.values, cdpx / 10)
    np.testing.assert_allclose(ds.cdp_y.values, cdpy / 10)
    assert ds.attrs["trace_count"] == 414
    assert ds.attrs["binary_header"]["samples_per_trace"] == 75
    assert ds.attrs["text_header"].splitlines()[0].startswith("C 1")
    assert ds.attrs["statistics"]["max"] == pytest.approx(float(cube.max()))


@needs_data
@pytest.mark.realdata
def test_header_fields_mode_and_errors(f3: Path) -> None:
    ds = open_dataset(f3, headers="fields", header_fields=["inline", "crossline"], cdp_coords=False)
    assert set(ds.data_vars) == {"amplitude", "trace_mask", "header_inline", "header_crossline"}
    assert "cdp_x" not in ds.coords
    np.testing.assert_array_equal(ds["header_crossline"].values[3], np.arange(875, 893))
    everything = open_dataset(f3, headers="fields")
    assert {"header_cdp_x", "source_to_receiver_distance", "coordinate_scalar"} <= set(everything.data_vars)
    np.testing.assert_allclose(everything.cdp_x.values, everything.header_cdp_x.values / 10)  # raw vs scaled
    assert "headers" not in open_dataset(f3, headers="none").data_vars
    with pytest.raises(HeaderFieldError, match="crossline"):
        open_dataset(f3, headers="fields", header_fields=["crosline"])
    with pytest.raises(ArgumentError, match="structured"):
        open_dataset(f3, headers="structure")  # type: ignore[arg-type]


@needs_data
@pytest.mark.realdata
def test_pre_stack_and_irregular_files(tmp_path: Path) -> None:
    ps = tmp_path / "ps.mdio"
    segy_to_mdio(SEGY_DATA / "segyio/small-ps.sgy", ps, [189, 193, 37], ["inline", "crossline", "offset"],
                 chunksize=(2, 2, 1, 10))  # fmt: skip
    ds = open_dataset(ps)  # finds the 4-D pattern '0123' without being told
    assert ds.amplitude.dims == ("inline", "crossline", "offset", "sample")
    with segyio.open(SEGY_DATA / "segyio/small-ps.sgy") as f:
        np.testing.assert_array_equal(ds.offset.values, f.offsets)
        np.testing.assert_array_equal(ds.amplitude.values, segyio.tools.cube(f))
    assert ds.cdp_x.dims == ("inline", "crossline", "offset")

    irregular = tmp_path / "irr.mdio"
    src = SEGY_DATA / "seismic-zfp/small-irregular.sgy"
    segy_to_mdio(src, irregular, [189, 193], ["inline", "crossline"], chunksize=(2, 2, 50))
    view = open_dataset(irregular)
    with segyio.open(src, ignore_geometry=True) as f:
        ils = f.attributes(segyio.TraceField.INLINE_3D)[:]
        xls = f.attributes(segyio.TraceField.CROSSLINE_3D)[:]
        traces = f.trace.raw[:]
    mask = np.zeros((5, 5), bool)
    expected = np.zeros((5, 5, 50), np.float32)
    i, j = np.searchsorted(np.unique(ils), ils), np.searchsorted(np.unique(xls), xls)
    mask[i, j] = True
    expected[i, j] = traces
    np.testing.assert_array_equal(view.trace_mask.values, mask)
    assert not mask.all()
    np.testing.assert_array_equal(view.amplitude.values, expected)
    assert int(view.amplitude.where(view.trace_mask).count()) == 24 * 50


def test_coordinate_scale_follows_segy_convention() -> None:
    np.testing.assert_array_equal(coordinate_scale(np.array([0, 1, 100, -10, -1000])), [1, 1, 100, 0.1, 0.001])


def test_catalog_open_as_xarray(tmp_path: Path) -> None:
    src = post_stack_segy(tmp_path / "data" / "stack.sgy")
    write_catalog(tmp_path, {"stack": stack_entry()})
    cat = Catalog.from_file(tmp_path / "catalog.yaml")
    cat.build()
    ds = cat.open("stack", as_xarray=True)
    reader = cat.open("stack", return_metadata=True)
    live, headers, traces = reader[...]
    np.testing.assert_array_equal(ds.amplitude.values, traces)
    np.testing.assert_array_equal(ds.trace_mask.values, live)
    np.testing.assert_array_equal(ds.headers.values, headers)
    assert int(ds.trace_mask.sum()) == src.n_traces
    by_name = open_dataset("stack", catalog=tmp_path / "catalog.yaml")
    xr.testing.assert_identical(by_name.drop_vars("headers"), ds.drop_vars("headers"))


def _chunk_gets(log: Any, array: str) -> set[str]:
    return {path.split(array + "/", 1)[1] for method, path in log.requests() if method == "GET" and array + "/" in path}


@pytest.mark.objectstore
def test_selection_reads_only_the_chunks_it_touches(s3_bucket: Any, s3_requests: Any) -> None:
    """Count GETs of chunk objects on the moto server: a selection reads its own chunks, each once."""
    rng = np.random.default_rng(7)
    shape, chunks = (20, 18, 40), (4, 6, 16)
    array = rng.normal(size=shape).astype("float32")
    url = s3_bucket.url("xr/cube.mdio")
    from mdio_catalog import numpy_to_mdio

    numpy_to_mdio(array, url, chunks, index_names=["inline", "crossline", "time"],
                  index_coords={"inline": np.arange(100, 120), "crossline": np.arange(18), "time": np.arange(40) * 4},
                  storage_options=s3_bucket.storage_options)  # fmt: skip
    dask_view = open_dataset(url, storage_options=s3_bucket.storage_options)
    lazy_view = open_dataset(url, storage_options=s3_bucket.storage_options, dask=False)
    grid_chunks = [math.ceil(n / c) for n, c in zip(shape, chunks, strict=True)]
    total = math.prod(grid_chunks)

    for ds in (dask_view, lazy_view):
        _check_selections(ds, array, grid_chunks, total, s3_requests)


def _check_selections(ds: xr.Dataset, array: np.ndarray, grid_chunks: list[int], total: int, s3_requests: Any) -> None:
    """Each selection through ``ds`` GETs exactly the chunk objects it touches, once each."""
    cases = {
        "inline": (lambda: ds.amplitude.sel(inline=109).values, array[9], grid_chunks[1] * grid_chunks[2]),
        "crossline": (lambda: ds.amplitude.sel(crossline=7).values, array[:, 7], grid_chunks[0] * grid_chunks[2]),
        "time": (lambda: ds.amplitude.sel(time=100).values, array[..., 25], grid_chunks[0] * grid_chunks[1]),
        "trace": (lambda: ds.amplitude.sel(inline=101, crossline=17).values, array[1, 17], grid_chunks[2]),
        "strided": (
            lambda: ds.amplitude.isel(inline=slice(0, 4), crossline=slice(0, 6, 2)).values,
            array[:4, 0:6:2],
            grid_chunks[2],
        ),
    }
    for name, (select, expected, n_chunks) in cases.items():
        s3_requests.clear()
        np.testing.assert_array_equal(select(), expected)
        gets = [p for m, p in s3_requests.requests() if m == "GET" and "/data/chunked_012/" in p]
        assert len(gets) == n_chunks, (name, gets)  # one GET per chunk, no chunk twice
        assert len(set(gets)) == n_chunks < total
        assert not [p for m, p in s3_requests.requests() if "trace_headers/" in p]  # headers stay unread
    s3_requests.clear()
    np.testing.assert_array_equal(ds.amplitude.values, array)
    assert len(_chunk_gets(s3_requests, "chunked_012")) == total
