"""create_empty / create_empty_like, checked on the files they write (read with json, not through our API)."""

from __future__ import annotations

import base64
import json
import os
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import fsspec
import numpy as np
import pytest
import zarr
from numcodecs import Blosc

from mdio_catalog.core.dimension import Dimension
from mdio_catalog.core.factory import MDIOCreateConfig, MDIOVariableConfig, create_empty, create_empty_like
from mdio_catalog.core.grid import Grid
from mdio_catalog.core.headers import V0_BINARY_HEADER_KEYS
from mdio_catalog.exceptions import AccessPatternError, MDIOAlreadyExistsError, ShapeError

REFERENCE_DIR = Path(__file__).resolve().parents[2] / ".." / "shared" / "reference"
FIELDS_JSON = REFERENCE_DIR / "mdio-v0-trace-header-fields.json"

INLINES = np.arange(10, 15)
CROSSLINES = np.arange(100, 108, 2)
SAMPLES = np.arange(0, 40, 4)
SHAPE = (INLINES.size, CROSSLINES.size, SAMPLES.size)
STAT_KEYS = ("mean", "std", "rms", "min", "max")


def make_grid() -> Grid:
    return Grid([Dimension(INLINES, "inline"), Dimension(CROSSLINES, "crossline"), Dimension(SAMPLES, "sample")])


def make_config(path: Path | str, chunks: tuple[int, ...] | None = (2, 2, 10), **variable: Any) -> MDIOCreateConfig:
    var = MDIOVariableConfig(name="chunked_012", dtype="float32", chunks=chunks, **variable)
    return MDIOCreateConfig(path=str(path), grid=make_grid(), variables=[var])


def read_json(path: Path) -> Any:
    return json.loads(path.read_text())


def snapshot(root: Path) -> dict[str, bytes]:
    out = {}
    for dirpath, _, filenames in os.walk(root):
        for f in filenames:
            full = Path(dirpath) / f
            out[str(full.relative_to(root))] = full.read_bytes()
    return out


@pytest.fixture
def dataset(tmp_path) -> Path:
    path = tmp_path / "empty.mdio"
    create_empty(make_config(path))
    return path


def test_root_group_and_consolidated_metadata(dataset):
    assert read_json(dataset / ".zgroup") == {"zarr_format": 2}
    consolidated = read_json(dataset / ".zmetadata")
    assert consolidated["zarr_consolidated_format"] == 1
    keys = set(consolidated["metadata"])
    for key in (
        ".zgroup",
        ".zattrs",
        "data/.zgroup",
        "metadata/.zgroup",
        "metadata/.zattrs",
        "data/chunked_012/.zarray",
        "metadata/chunked_012_trace_headers/.zarray",
        "metadata/live_mask/.zarray",
    ):
        assert key in keys, key
    # The consolidated copy says the same as the files beside it.
    for key in (".zattrs", "data/chunked_012/.zarray", "metadata/live_mask/.zarray"):
        assert consolidated["metadata"][key] == read_json(dataset / key)


def test_data_array_metadata(dataset):
    zarray = read_json(dataset / "data" / "chunked_012" / ".zarray")
    assert zarray["zarr_format"] == 2
    assert zarray["shape"] == list(SHAPE)
    assert zarray["chunks"] == [2, 2, 10]
    assert zarray["dtype"] == "<f4"
    assert zarray["fill_value"] == 0
    assert zarray["dimension_separator"] == "/"
    assert zarray["order"] == "C"
    compressor = zarray["compressor"]
    assert (compressor["id"], compressor["cname"], compressor["clevel"], compressor["shuffle"]) == (
        "blosc",
        "zstd",
        1,
        Blosc.SHUFFLE,
    )


def test_no_chunks_written(dataset):
    # An empty dataset holds only metadata files (names starting with '.').
    for _, _, filenames in os.walk(dataset):
        assert all(name.startswith(".") for name in filenames), filenames


def test_header_array_metadata(dataset):
    zarray = read_json(dataset / "metadata" / "chunked_012_trace_headers" / ".zarray")
    assert zarray["shape"] == list(SHAPE[:-1])
    assert zarray["chunks"] == [2, 2]
    assert zarray["dimension_separator"] == "/"
    assert zarray["compressor"]["cname"] == "zstd"
    dtype = np.dtype([tuple(field) for field in zarray["dtype"]])
    assert dtype.itemsize == 240
    assert len(dtype.names) == 90
    assert dtype.fields["inline"][1] == 188
    assert dtype.fields["crossline"][1] == 192
    assert dtype.fields["inline"][0] == np.dtype("<i4")
    if FIELDS_JSON.is_file():
        table = read_json(FIELDS_JSON)
        assert [(n, dtype.fields[n][1] + 1, dtype.fields[n][0]) for n in dtype.names] == [
            (n, b, np.dtype(t).newbyteorder("<")) for n, t, b in table
        ]


def test_header_fill_value_is_zero_bytes(dataset):
    fill = read_json(dataset / "metadata" / "chunked_012_trace_headers" / ".zarray")["fill_value"]
    assert base64.b64decode(fill) == bytes(240)


def test_unwritten_headers_read_as_zero_bytes(dataset):
    headers = zarr.open_array(str(dataset / "metadata" / "chunked_012_trace_headers"), mode="r")[:]
    assert headers.shape == SHAPE[:-1]
    assert headers.dtype.itemsize == 240
    assert not np.frombuffer(headers.tobytes(), dtype=np.uint8).any()


def test_live_mask_all_false(dataset):
    zarray = read_json(dataset / "metadata" / "live_mask" / ".zarray")
    assert zarray["dtype"] == "|b1"
    assert zarray["fill_value"] is False
    assert zarray["shape"] == list(SHAPE[:-1])
    assert zarray["dimension_separator"] == "/"
    mask = zarr.open_array(str(dataset / "metadata" / "live_mask"), mode="r")[:]
    np.testing.assert_array_equal(mask, np.zeros(SHAPE[:-1], dtype=bool))


def test_unwritten_data_reads_as_zero(dataset):
    data = zarr.open_array(str(dataset / "data" / "chunked_012"), mode="r")[:]
    assert data.dtype == np.dtype("<f4")
    np.testing.assert_array_equal(data, np.zeros(SHAPE, dtype=np.float32))


def test_root_attributes(dataset):
    attrs = read_json(dataset / ".zattrs")
    assert attrs["api_version"] == "0.9.3"
    created = datetime.fromisoformat(attrs["created"])
    assert created.utcoffset() == timedelta(0)
    assert abs(datetime.now(UTC) - created) < timedelta(minutes=5)
    assert attrs["dimension"] == [
        {"name": "inline", "coords": INLINES.tolist()},
        {"name": "crossline", "coords": CROSSLINES.tolist()},
        {"name": "sample", "coords": SAMPLES.tolist()},
    ]
    assert attrs["trace_count"] == 0
    for key in STAT_KEYS:
        assert attrs[key] == 0


def test_metadata_group_headers(dataset):
    attrs = read_json(dataset / "metadata" / ".zattrs")
    text = attrs["text_header"]
    assert len(text) == 40
    assert all(len(line) == 80 for line in text)
    assert text[0].startswith("C01")
    binary = attrs["binary_header"]
    assert set(binary) == set(V0_BINARY_HEADER_KEYS)  # every v0 key, so the dataset can be exported
    assert all(isinstance(v, int) for v in binary.values())
    assert binary["samples_per_trace"] == SAMPLES.size
    assert binary["sample_interval"] == 4000  # 4 ms between sample coordinates, in microseconds
    assert binary["data_sample_format"] == 5  # IEEE float for float32 data
    assert binary["segy_revision_major"] == 1


def test_no_chunks_given_small_grid_is_one_chunk(tmp_path):
    path = tmp_path / "whole.mdio"
    create_empty(make_config(path, chunks=None))
    assert read_json(path / "data" / "chunked_012" / ".zarray")["chunks"] == list(SHAPE)
    assert read_json(path / "metadata" / "chunked_012_trace_headers" / ".zarray")["chunks"] == list(SHAPE[:-1])


def test_no_chunks_given_large_grid_gets_zarr_auto_chunks(tmp_path):
    # Like the reference (chunks=None goes to zarr), not one 16 GB chunk; only metadata is written.
    shape = (2000, 2000, 1000)
    grid = Grid(
        [Dimension(np.arange(n), name) for n, name in zip(shape, ("inline", "crossline", "sample"), strict=True)]
    )
    path = tmp_path / "large.mdio"
    create_empty(MDIOCreateConfig(str(path), grid, [MDIOVariableConfig("chunked_012", "float32")]))
    chunks = read_json(path / "data" / "chunked_012" / ".zarray")["chunks"]
    oracle = zarr.create_array(zarr.storage.MemoryStore(), shape=shape, dtype="<f4", chunks="auto", zarr_format=2)
    assert chunks == list(oracle.chunks)
    assert int(np.prod(chunks)) * 4 <= 16 * 2**20
    assert read_json(path / "metadata" / "chunked_012_trace_headers" / ".zarray")["chunks"] == chunks[:-1]


def test_custom_header_dtype_and_compressor(tmp_path):
    path = tmp_path / "custom.mdio"
    header_dtype = np.dtype([("inline", "<i4"), ("crossline", "<i4")])
    create_empty(
        make_config(path, header_dtype=header_dtype, compressors=Blosc(cname="lz4", clevel=3, shuffle=Blosc.BITSHUFFLE))
    )
    data = read_json(path / "data" / "chunked_012" / ".zarray")
    assert (data["compressor"]["cname"], data["compressor"]["clevel"], data["compressor"]["shuffle"]) == ("lz4", 3, 2)
    headers = read_json(path / "metadata" / "chunked_012_trace_headers" / ".zarray")
    assert np.dtype([tuple(f) for f in headers["dtype"]]) == header_dtype


def test_refuses_existing_dataset_and_changes_nothing(dataset):
    before = snapshot(dataset)
    with pytest.raises(MDIOAlreadyExistsError):
        create_empty(make_config(dataset, chunks=(1, 1, 5)))
    assert snapshot(dataset) == before


def test_refuses_existing_non_mdio_folder(tmp_path):
    folder = tmp_path / "notes"
    folder.mkdir()
    (folder / "readme.txt").write_text("mine")
    with pytest.raises(FileExistsError):
        create_empty(make_config(folder))
    assert snapshot(folder) == {"readme.txt": b"mine"}


def test_overwrite_replaces(dataset):
    (dataset / "stale.txt").write_text("old")
    create_empty(make_config(dataset, chunks=(1, 1, 5)), overwrite=True)
    assert not (dataset / "stale.txt").exists()
    assert read_json(dataset / "data" / "chunked_012" / ".zarray")["chunks"] == [1, 1, 5]


@pytest.mark.parametrize(
    ("config_kwargs", "error"), [({"chunks": (2, 2)}, ShapeError), ({"chunks": (0, 2, 2)}, ShapeError)]
)
def test_invalid_config_with_overwrite_keeps_existing_dataset(dataset, config_kwargs, error):
    before = snapshot(dataset)
    with pytest.raises(error):
        create_empty(make_config(dataset, **config_kwargs), overwrite=True)
    assert snapshot(dataset) == before


def test_invalid_variable_name_with_overwrite_keeps_existing_dataset(dataset):
    before = snapshot(dataset)
    config = MDIOCreateConfig(str(dataset), make_grid(), [MDIOVariableConfig("bad/name", "float32")])
    with pytest.raises(AccessPatternError):
        create_empty(config, overwrite=True)
    assert snapshot(dataset) == before


def test_one_dimensional_grid_rejected(tmp_path):
    config = MDIOCreateConfig(str(tmp_path / "x.mdio"), Grid([Dimension([0, 1, 2], "sample")]), [])
    with pytest.raises(ShapeError):
        create_empty(config)
    assert not (tmp_path / "x.mdio").exists()


def test_create_empty_on_memory_store():
    fs = fsspec.filesystem("memory")
    prefix = f"/factory-{uuid.uuid4().hex}"
    try:
        create_empty(make_config(f"memory://{prefix.lstrip('/')}/ds.mdio"))
        zmeta = json.loads(fs.cat_file(f"{prefix}/ds.mdio/.zmetadata"))
        zarray = zmeta["metadata"]["data/chunked_012/.zarray"]
        assert (zarray["dtype"], zarray["dimension_separator"], zarray["chunks"]) == ("<f4", "/", [2, 2, 10])
        assert json.loads(fs.cat_file(f"{prefix}/ds.mdio/.zattrs"))["trace_count"] == 0
    finally:
        if fs.exists(prefix):
            fs.rm(prefix, recursive=True)


# --- create_empty_like ------------------------------------------------------------------------------------------
TEXT = [f"C{i:02d} survey text line {i}".ljust(80) for i in range(1, 41)]
BINARY = {"job_id": 7, "sample_interval": 4000, "samples_per_trace": SAMPLES.size, "data_sample_format": 1}


@pytest.fixture
def filled_source(tmp_path) -> Path:
    """A dataset with two variables, its own compressor, headers, statistics, live traces and data."""
    path = tmp_path / "source.mdio"
    grid = make_grid()
    variables = [
        MDIOVariableConfig("chunked_012", "float32", (2, 2, 10), Blosc(cname="lz4", clevel=3, shuffle=Blosc.SHUFFLE)),
        MDIOVariableConfig("chunked_fast_il", "float32", (1, 4, 10)),
    ]
    root = create_empty(MDIOCreateConfig(str(path), grid, variables))
    root.attrs.update({"trace_count": 7, "mean": 1.5, "std": 0.5, "rms": 2.0, "min": -1.0, "max": 3.0})
    root["metadata"].attrs.update({"text_header": TEXT, "binary_header": BINARY})
    root["data/chunked_012"][:] = np.ones(SHAPE, dtype=np.float32)
    mask = np.zeros(SHAPE[:-1], dtype=bool)
    mask.flat[:7] = True
    root["metadata/live_mask"][:] = mask
    zarr.consolidate_metadata(root.store)
    return path


def test_create_empty_like_copies_structure(filled_source, tmp_path):
    before = snapshot(filled_source)
    dest = tmp_path / "like.mdio"
    assert create_empty_like(str(filled_source), str(dest)) is None

    for array in (
        "data/chunked_012",
        "data/chunked_fast_il",
        "metadata/chunked_012_trace_headers",
        "metadata/chunked_fast_il_trace_headers",
        "metadata/live_mask",
    ):
        assert read_json(dest / array / ".zarray") == read_json(filled_source / array / ".zarray"), array
    assert read_json(dest / "data/chunked_012/.zarray")["compressor"]["cname"] == "lz4"

    src_attrs, dest_attrs = read_json(filled_source / ".zattrs"), read_json(dest / ".zattrs")
    assert dest_attrs["dimension"] == src_attrs["dimension"]
    assert dest_attrs["trace_count"] == 0
    assert all(dest_attrs[k] == 0 for k in STAT_KEYS)
    datetime.fromisoformat(dest_attrs["created"])

    meta = read_json(dest / "metadata" / ".zattrs")
    assert meta["text_header"] == TEXT
    assert meta["binary_header"] == BINARY
    consolidated = read_json(dest / ".zmetadata")["metadata"]
    assert consolidated["metadata/.zattrs"] == meta
    assert consolidated[".zattrs"] == dest_attrs

    assert snapshot(filled_source) == before  # the source is only read


def test_create_empty_like_has_no_data_and_dead_mask(filled_source, tmp_path):
    dest = tmp_path / "like.mdio"
    create_empty_like(str(filled_source), str(dest))
    for _, _, filenames in os.walk(dest):
        assert all(name.startswith(".") for name in filenames), filenames
    mask = zarr.open_array(str(dest / "metadata" / "live_mask"), mode="r")[:]
    assert not mask.any()


def test_create_empty_like_refuses_existing_destination(filled_source, dataset):
    before = snapshot(dataset)
    with pytest.raises(MDIOAlreadyExistsError):
        create_empty_like(str(filled_source), str(dataset))
    assert snapshot(dataset) == before
    create_empty_like(str(filled_source), str(dataset), overwrite=True)
    assert read_json(dataset / "metadata" / ".zattrs")["text_header"] == TEXT


def test_create_empty_like_missing_source(tmp_path):
    with pytest.raises(FileNotFoundError):
        create_empty_like(str(tmp_path / "missing.mdio"), str(tmp_path / "dest.mdio"))
    assert not (tmp_path / "dest.mdio").exists()
