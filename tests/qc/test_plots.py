"""QC plots: PNG files read back and checked for size, content, colours and orientation."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from matplotlib.colors import to_rgb
from matplotlib.image import imread

from mdio_catalog import MDIOReader, MDIOWriter, numpy_to_mdio
from mdio_catalog.exceptions import (
    CoordinateNotFoundError,
    DimensionNotFoundError,
    ExportError,
    MDIOError,
    ShapeError,
)
from mdio_catalog.qc import PlotInfo, dataset_name, parse_selection, plot_live_mask, plot_slice
from mdio_catalog.qc.plots import DEAD_COLOUR, LIVE_COLOUR, MASK_DEAD_COLOUR

INLINES = np.arange(16) + 1001
CROSSLINES = np.arange(48) * 2 + 2000
TIMES = np.arange(150) * 4  # ms
DEAD_INLINE = 1005  # crosslines 2000..2018 of this inline are dead
DEAD_CROSSLINES = slice(0, 10)


def ricker(t_seconds: np.ndarray, frequency: float = 25.0) -> np.ndarray:
    a = (np.pi * frequency * t_seconds) ** 2
    return (1.0 - 2.0 * a) * np.exp(-a)


def dipping_volume() -> np.ndarray:
    """A positive reflector dipping 6 ms per crossline (from 100 ms) and a flat negative one at 450 ms."""
    volume = np.zeros((INLINES.size, CROSSLINES.size, TIMES.size), dtype="float32")
    for j in range(CROSSLINES.size):
        volume[:, j] += ricker((TIMES - (100 + 6 * j)) / 1000.0)
        volume[:, j] -= 0.7 * ricker((TIMES - 450) / 1000.0)
    volume += np.random.default_rng(3).normal(scale=0.03, size=volume.shape).astype("float32")
    return volume


@pytest.fixture(scope="module")
def volume3d(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("qc") / "dipping.mdio"
    volume = dipping_volume()
    dead_row = int(np.flatnonzero(INLINES == DEAD_INLINE)[0])
    volume[dead_row, DEAD_CROSSLINES] = 1000.0  # huge values in dead cells must not set the clip
    numpy_to_mdio(
        volume,
        str(path),
        (8, 16, 64),
        index_names=["inline", "crossline", "sample"],
        index_coords={"inline": INLINES, "crossline": CROSSLINES, "sample": TIMES},
    )
    mask = np.ones((INLINES.size, CROSSLINES.size), dtype=bool)
    mask[dead_row, DEAD_CROSSLINES] = False
    MDIOWriter(str(path)).live_mask = mask
    return path


@pytest.fixture(scope="module")
def reader3d(volume3d: Path) -> MDIOReader:
    return MDIOReader(str(volume3d))


OFFSETS = np.arange(6) * 300
PRESTACK_SHAPE = (4, 20, OFFSETS.size, 100)


@pytest.fixture(scope="module")
def prestack(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """4-D (inline, crossline, offset, sample): amplitude grows with the offset index; inline 2 is dead at offset 0
    and inline 3 crossline 10 is dead at every offset."""
    path = tmp_path_factory.mktemp("qc") / "prestack.mdio"
    t = np.arange(PRESTACK_SHAPE[-1]) * 4
    data = np.zeros(PRESTACK_SHAPE, dtype="float32")
    for k in range(OFFSETS.size):
        data[:, :, k] = (k + 1) * ricker((t - 200 - 10 * k) / 1000.0)
    numpy_to_mdio(
        data,
        str(path),
        (2, 10, 6, 50),
        index_names=["inline", "crossline", "offset", "sample"],
        index_coords={
            "inline": np.arange(4) + 1,
            "crossline": np.arange(20) + 10,
            "offset": OFFSETS,
            "sample": t,
        },
    )
    mask = np.ones(PRESTACK_SHAPE[:-1], dtype=bool)
    mask[1, :, 0] = False
    mask[2, 0, :] = False
    MDIOWriter(str(path), access_pattern="0123").live_mask = mask
    return path


@pytest.fixture(scope="module")
def reader4d(prestack: Path) -> MDIOReader:
    return MDIOReader(str(prestack), access_pattern="0123")


# --- picture helpers ------------------------------------------------------------------------------------------------
def read_png(info: PlotInfo) -> np.ndarray:
    assert info.path.is_file()
    assert info.path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    image = imread(info.path)
    assert image.shape[:2] == (info.height_px, info.width_px)
    return image[..., :3].astype(np.float64)


def plot_area(info: PlotInfo, image: np.ndarray) -> np.ndarray:
    """The data image inside the PNG (axes frame excluded)."""
    left, top, right, bottom = info.image_px
    assert 0 <= left < right <= info.width_px
    assert 0 <= top < bottom <= info.height_px
    assert (right - left) * (bottom - top) > 0.4 * info.width_px * info.height_px
    return image[top + 2 : bottom - 2, left + 2 : right - 2]


def is_colour(image: np.ndarray, colour: str, tolerance: float = 0.02) -> np.ndarray:
    return np.all(np.abs(image - np.array(to_rgb(colour))) <= tolerance, axis=-1)


def red_pixels(image: np.ndarray) -> np.ndarray:
    r, g, b = image[..., 0], image[..., 1], image[..., 2]
    return (r > 0.45) & (g < 0.3) & (b < 0.3)  # 'seismic' runs to dark red (0.5, 0, 0) at +clip


def blue_pixels(image: np.ndarray) -> np.ndarray:
    r, g, b = image[..., 0], image[..., 1], image[..., 2]
    return (b > 0.35) & (r < 0.3) & (g < 0.3)  # and to dark blue (0, 0, 0.3) at -clip


def assert_not_uniform(image: np.ndarray) -> None:
    assert image.std() > 0.05
    assert np.unique((image * 255).round().astype(np.uint8).reshape(-1, 3), axis=0).shape[0] > 50


# --- sections -------------------------------------------------------------------------------------------------------
def test_inline_section_seismic_colours_and_orientation(reader3d: MDIOReader, tmp_path: Path) -> None:
    info = plot_slice(reader3d, dimension="inline", coordinate=1010, output=tmp_path / "inline.png")
    assert info.kind == "section"
    assert info.dimensions == ("sample", "crossline")
    assert info.shape == (TIMES.size, CROSSLINES.size)
    assert info.fixed == {"inline": 1010}
    assert info.defaulted == ()
    assert info.axis_labels == ("sample (ms)", "crossline")
    assert info.title.startswith("dipping — inline 1010")
    assert (info.width_px, info.height_px) == (1000, 600)
    assert info.live_cells == info.total_cells == CROSSLINES.size
    image = read_png(info)
    assert_not_uniform(image)
    red, blue = red_pixels(image), blue_pixels(image)
    assert red.sum() > 2000
    assert blue.sum() > 2000
    # The positive reflector dips 6 ms per crossline from 100 ms: in the data image (150 samples of 4 ms down,
    # 48 crosslines across) its red peak is near the top on the left and lower on the right (time downward).
    area = plot_area(info, image)
    height, width = area.shape[:2]
    for fraction in (0.1, 0.5, 0.9):
        column = area[:, int(fraction * width)]
        expected_ms = 100 + 6 * fraction * CROSSLINES.size
        rows = np.flatnonzero(red_pixels(column))
        assert rows.size
        assert abs(rows.min() / height * TIMES.size * 4 - expected_ms) < 40


def test_clip_is_a_percentile_of_live_traces_only(reader3d: MDIOReader, tmp_path: Path) -> None:
    data = reader3d[int(np.flatnonzero(INLINES == DEAD_INLINE)[0])]
    live = np.ones(CROSSLINES.size, dtype=bool)
    live[DEAD_CROSSLINES] = False
    info = plot_slice(
        reader3d, dimension="inline", coordinate=DEAD_INLINE, clip_percentile=95, output=tmp_path / "dead.png"
    )
    assert info.clip == pytest.approx(float(np.percentile(np.abs(data[live]), 95)), rel=1e-5)
    assert info.clip is not None
    assert info.clip < 2.0  # the 1000.0 samples of the dead traces are ignored
    assert info.clip_percentile == 95
    assert (info.live_cells, info.total_cells) == (CROSSLINES.size - 10, CROSSLINES.size)
    image = read_png(info)
    assert is_colour(image, DEAD_COLOUR).sum() > 1000  # dead traces drawn grey


def test_crossline_in_grey_has_no_colour(reader3d: MDIOReader, tmp_path: Path) -> None:
    info = plot_slice(reader3d, dimension="crossline", coordinate="2040", cmap="gray", output=tmp_path / "xl.png")
    assert info.dimensions == ("sample", "inline")
    assert info.shape == (TIMES.size, INLINES.size)
    assert info.fixed == {"crossline": 2040}
    image = read_png(info)
    assert_not_uniform(image)
    spread = image.max(axis=-1) - image.min(axis=-1)
    assert spread.max() < 0.02
    assert (image.mean(axis=-1) < 0.1).sum() > 500  # black troughs
    assert (image.mean(axis=-1) > 0.9).sum() > 500  # white peaks and background


def test_grey_alias_and_unknown_colour_map(reader3d: MDIOReader, tmp_path: Path) -> None:
    plot_slice(reader3d, dimension="inline", coordinate=1001, cmap="grey", output=tmp_path / "grey.png")
    with pytest.raises(ExportError, match=r"colour map 'seismc'.*did you mean 'seismic'"):
        plot_slice(reader3d, dimension="inline", coordinate=1001, cmap="seismc", output=tmp_path / "x.png")


def test_time_slice_is_an_inline_crossline_map(reader3d: MDIOReader, tmp_path: Path) -> None:
    info = plot_slice(reader3d, dimension="sample", coordinate=220, output=tmp_path / "slice.png")
    assert info.kind == "map"
    assert info.dimensions == ("inline", "crossline")
    assert info.shape == (INLINES.size, CROSSLINES.size)
    assert info.fixed == {"sample": 220}
    assert info.title.startswith("dipping — sample 220 ms")
    assert (info.live_cells, info.total_cells) == (INLINES.size * CROSSLINES.size - 10, INLINES.size * CROSSLINES.size)
    image = read_png(info)
    assert_not_uniform(image)
    # At 220 ms the dipping reflector peaks at crossline index 20 (2040): a red stripe of constant crossline.
    area = plot_area(info, image)
    red_cols = np.nonzero(red_pixels(area))[1]
    assert red_cols.size > 500
    assert abs(np.median(red_cols) / area.shape[1] * CROSSLINES.size - 20.5) < 1.5
    assert np.ptp(np.percentile(red_cols, [5, 95])) < 3 * area.shape[1] / CROSSLINES.size


def test_figure_size_and_dpi(reader3d: MDIOReader, tmp_path: Path) -> None:
    info = plot_slice(
        reader3d, dimension="inline", coordinate=1001, figsize=(8, 4), dpi=50, output=tmp_path / "small.png"
    )
    assert (info.width_px, info.height_px) == (400, 200)
    read_png(info)


def test_custom_title_and_nested_output_directory(reader3d: MDIOReader, tmp_path: Path) -> None:
    target = tmp_path / "a" / "b" / "t.PNG"
    info = plot_slice(reader3d, dimension="inline", coordinate=1002, title="My line", output=target)
    assert info.title == "My line"
    assert info.path == target
    read_png(info)
    assert sorted(p.name for p in target.parent.iterdir()) == ["t.PNG"]  # no temporary files left


def test_depth_axis_is_labelled_in_metres(tmp_path: Path) -> None:
    path = tmp_path / "depth.mdio"
    data = np.random.default_rng(0).normal(size=(3, 5, 20)).astype("float32")
    numpy_to_mdio(data, str(path), (3, 5, 20), index_names=["inline", "crossline", "depth"])
    reader = MDIOReader(str(path))
    info = plot_slice(reader, dimension="inline", coordinate=1, output=tmp_path / "d.png")
    assert info.axis_labels == ("depth (m)", "crossline")
    info = plot_slice(reader, dimension="depth", coordinate=10, output=tmp_path / "m.png")
    assert info.title.startswith("depth — depth 10 m")
    info = plot_slice(reader, dimension="inline", coordinate=1, sample_unit="ft", output=tmp_path / "f.png")
    assert info.axis_labels[0] == "depth (ft)"


def test_irregular_coordinates_and_dask_backend(tmp_path: Path) -> None:
    path = tmp_path / "irregular.mdio"
    data = np.random.default_rng(1).normal(size=(4, 6, 30)).astype("float32")
    coords = {
        "inline": np.array([1, 2, 5, 9]),
        "crossline": np.array([10, 11, 13, 20, 21, 40]),
        "sample": np.arange(30),
    }
    numpy_to_mdio(data, str(path), (4, 6, 30), index_names=["inline", "crossline", "sample"], index_coords=coords)
    reader = MDIOReader(str(path), backend="dask", return_metadata=True)
    info = plot_slice(reader, dimension="inline", coordinate=5, output=tmp_path / "irr.png")
    assert info.shape == (30, 6)
    assert_not_uniform(read_png(info))
    info = plot_live_mask(reader, output=tmp_path / "irr_mask.png")
    assert info.live_cells == 24


# --- errors ---------------------------------------------------------------------------------------------------------
def test_missing_coordinate(reader3d: MDIOReader, tmp_path: Path) -> None:
    with pytest.raises(CoordinateNotFoundError, match="1000"):
        plot_slice(reader3d, dimension="inline", coordinate=1000, output=tmp_path / "x.png")
    with pytest.raises(CoordinateNotFoundError, match="not a number"):
        plot_slice(reader3d, dimension="inline", coordinate="abc", output=tmp_path / "x.png")
    with pytest.raises(CoordinateNotFoundError):
        plot_slice(reader3d, dimension="sample", coordinate=2.5, output=tmp_path / "x.png")
    assert not (tmp_path / "x.png").exists()


def test_unknown_dimension(reader3d: MDIOReader, tmp_path: Path) -> None:
    with pytest.raises(DimensionNotFoundError, match="did you mean 'inline'"):
        plot_slice(reader3d, dimension="inlin", coordinate=1001, output=tmp_path / "x.png")
    with pytest.raises(DimensionNotFoundError):
        plot_slice(reader3d, dimension="inline", coordinate=1001, fixed={"offset": 0}, output=tmp_path / "x.png")
    with pytest.raises(DimensionNotFoundError):
        plot_live_mask(reader3d, fixed={"cable": 1}, output=tmp_path / "x.png")


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"output": "out.jpg"}, ExportError, "PNG"),
        ({"output": "out"}, ExportError, "PNG"),
        ({"clip_percentile": 0}, ExportError, "clip_percentile"),
        ({"clip_percentile": 101}, ExportError, "clip_percentile"),
        ({"fixed": {"inline": 1001}}, ShapeError, "both"),
        ({"fixed": {"crossline": 2000}}, ShapeError, "single trace"),
        ({"across": "sample"}, ShapeError, "across"),
    ],
)
def test_bad_requests(reader3d: MDIOReader, tmp_path: Path, kwargs: dict, error: type, message: str) -> None:
    arguments = {"dimension": "inline", "coordinate": 1001, "output": tmp_path / "x.png", **kwargs}
    if isinstance(arguments["output"], str):
        arguments["output"] = tmp_path / arguments["output"]
    with pytest.raises(error, match=message):
        plot_slice(reader3d, **arguments)
    assert issubclass(error, MDIOError)


def test_map_needs_two_free_dimensions(reader3d: MDIOReader, tmp_path: Path) -> None:
    with pytest.raises(ShapeError, match="map needs two"):
        plot_slice(reader3d, dimension="sample", coordinate=0, fixed={"inline": 1001}, output=tmp_path / "x.png")


# --- 4-D data ---------------------------------------------------------------------------------------------------------
def test_prestack_inline_takes_first_offset_by_default(reader4d: MDIOReader, tmp_path: Path) -> None:
    info = plot_slice(reader4d, dimension="inline", coordinate=1, output=tmp_path / "il.png")
    assert info.dimensions == ("sample", "crossline")
    assert info.shape == (100, 20)
    assert info.fixed == {"inline": 1, "offset": 0}
    assert info.defaulted == ("offset",)
    assert "offset = 0 (first)" in info.title
    assert info.clip == pytest.approx(float(np.percentile(np.abs(reader4d[0, :, 0]), 99)), rel=1e-5)
    image = read_png(info)
    assert red_pixels(image).sum() > 200


def test_prestack_fixed_selection(reader4d: MDIOReader, tmp_path: Path) -> None:
    info = plot_slice(reader4d, dimension="inline", coordinate=1, fixed={"offset": "1500"}, output=tmp_path / "o.png")
    assert info.fixed == {"inline": 1, "offset": 1500}
    assert info.defaulted == ()
    assert info.clip == pytest.approx(float(np.percentile(np.abs(reader4d[0, :, 5]), 99)), rel=1e-5)
    assert info.clip is not None
    assert info.clip > 5.0  # offset index 5 has amplitude 6
    assert "offset = 1500" in info.title
    assert "(first)" not in info.title
    read_png(info)
    with pytest.raises(CoordinateNotFoundError):
        plot_slice(reader4d, dimension="inline", coordinate=1, fixed={"offset": 1501}, output=tmp_path / "x.png")


def test_prestack_gather_across_offset(reader4d: MDIOReader, tmp_path: Path) -> None:
    gather = plot_slice(
        reader4d, dimension="inline", coordinate=2, fixed={"crossline": 15}, output=tmp_path / "gather.png"
    )
    assert gather.dimensions == ("sample", "offset")
    assert gather.shape == (100, OFFSETS.size)
    assert (gather.live_cells, gather.total_cells) == (OFFSETS.size - 1, OFFSETS.size)  # inline 2 offset 0 dead
    chosen = plot_slice(reader4d, dimension="inline", coordinate=2, across="offset", output=tmp_path / "gather2.png")
    assert chosen.dimensions == ("sample", "offset")
    assert chosen.fixed == {"inline": 2, "crossline": 10}
    assert chosen.defaulted == ("crossline",)


def test_prestack_time_slice(reader4d: MDIOReader, tmp_path: Path) -> None:
    info = plot_slice(reader4d, dimension="sample", coordinate=200, output=tmp_path / "ts.png")
    assert info.dimensions == ("inline", "crossline")
    assert info.fixed == {"offset": 0, "sample": 200}
    across = plot_slice(
        reader4d, dimension="sample", coordinate=200, across="offset", fixed={"inline": 3}, output=tmp_path / "t2.png"
    )
    assert across.dimensions == ("crossline", "offset")
    assert across.shape == (20, OFFSETS.size)
    read_png(across)
    offset_map = plot_slice(
        reader4d, dimension="offset", coordinate=300, fixed={"sample": 200}, output=tmp_path / "t3.png"
    )
    assert offset_map.kind == "map"
    assert offset_map.dimensions == ("inline", "crossline")
    assert offset_map.title == "prestack — offset 300\nsample = 200 ms"


def test_prestack_live_mask_projects_or_selects(reader4d: MDIOReader, tmp_path: Path) -> None:
    projected = plot_live_mask(reader4d, output=tmp_path / "any.png")
    assert projected.dimensions == ("inline", "crossline")
    assert projected.projected == ("offset",)
    assert (projected.live_cells, projected.total_cells) == (79, 80)  # only inline 3 crossline 10 is dead everywhere
    assert "79 of 80 cells live" in projected.title
    assert "any live over offset" in projected.title
    area = plot_area(projected, read_png(projected))
    assert is_colour(area, MASK_DEAD_COLOUR).mean() == pytest.approx(1 / 80, rel=0.25)

    selected = plot_live_mask(reader4d, fixed={"offset": 0}, output=tmp_path / "off0.png")
    assert selected.projected == ()
    assert selected.fixed == {"offset": 0}
    assert (selected.live_cells, selected.total_cells) == (59, 80)  # inline 2 dead, plus inline 3 crossline 10
    assert "59 of 80 cells live" in selected.title


# --- live mask of 3-D and 2-D data ----------------------------------------------------------------------------------
def test_live_mask_3d(reader3d: MDIOReader, tmp_path: Path) -> None:
    info = plot_live_mask(reader3d, output=tmp_path / "mask.png")
    total = INLINES.size * CROSSLINES.size
    assert info.kind == "live_mask"
    assert info.dimensions == ("inline", "crossline")
    assert info.shape == (INLINES.size, CROSSLINES.size)
    assert (info.live_cells, info.total_cells) == (total - 10, total)
    assert info.live_cells == int(np.asarray(reader3d.live_mask[:]).sum())
    assert f"{total - 10:,} of {total:,} cells live" in info.title
    image = read_png(info)
    assert_not_uniform(image)
    area = plot_area(info, image)
    dead_fraction = is_colour(area, MASK_DEAD_COLOUR).mean()
    assert dead_fraction == pytest.approx(10 / total, rel=0.25)
    assert is_colour(area, LIVE_COLOUR).mean() == pytest.approx(1 - 10 / total, abs=0.02)
    # The dead block is at the first crosslines of inline 1005: left edge, 5th row from the bottom (inline upward).
    rows, cols = np.nonzero(is_colour(area, MASK_DEAD_COLOUR))
    assert cols.max() < area.shape[1] * 10 / CROSSLINES.size + 3
    row_from_bottom = (area.shape[0] - rows.mean()) / area.shape[0] * INLINES.size
    assert row_from_bottom == pytest.approx(4.5, abs=0.6)


def test_two_dimensional_dataset(tmp_path: Path) -> None:
    path = tmp_path / "line.mdio"
    numpy_to_mdio(np.random.default_rng(2).normal(size=(30, 50)).astype("float32"), str(path), (30, 50))
    reader = MDIOReader(str(path), access_pattern="01")
    info = plot_live_mask(reader, output=tmp_path / "strip.png")
    assert info.shape == (1, 30)
    assert info.dimensions == ("", "dim_0")
    read_png(info)
    with pytest.raises(ShapeError, match="single trace"):
        plot_slice(reader, dimension="dim_0", coordinate=3, output=tmp_path / "x.png")
    with pytest.raises(ShapeError, match="map needs two"):
        plot_slice(reader, dimension="sample", coordinate=3, output=tmp_path / "x.png")


# --- helpers ----------------------------------------------------------------------------------------------------------
def test_dataset_name_and_parse_selection(reader3d: MDIOReader) -> None:
    assert dataset_name(reader3d) == "dipping"
    assert parse_selection(["offset=500", " cable = 2 "]) == {"offset": "500", "cable": "2"}
    for bad in (["offset"], ["=5"], ["offset="], ["a=1", "a=2"]):
        with pytest.raises(ShapeError):
            parse_selection(bad)


def test_importing_qc_does_not_import_matplotlib() -> None:
    code = "import sys, mdio_catalog.qc; assert 'matplotlib' not in sys.modules, 'matplotlib imported'"
    subprocess.run([sys.executable, "-c", code], check=True)


def test_colours_fit_the_data_velocity_model_and_amplitudes(tmp_path: Path) -> None:
    """A velocity model (1,480-4,706 m/s) gets its p1..p99 range and a sequential map, not one flat red; zero-
    centred amplitudes keep the symmetric clip and a diverging map. Oracle: numpy percentiles of the slice."""
    depth = np.linspace(1480.0, 4706.0, 64, dtype=np.float32)
    velocity = np.broadcast_to(depth, (6, 5, 64)).copy()
    velocity += np.random.default_rng(1).normal(0, 20, velocity.shape).astype(np.float32)
    numpy_to_mdio(velocity, str(tmp_path / "v.mdio"), (6, 5, 64))
    info = plot_slice(MDIOReader(str(tmp_path / "v.mdio")), dimension="dim_0", coordinate=2, output=tmp_path / "v.png")
    shown = velocity[2].T
    assert info.cmap == "viridis"
    assert info.vmin == pytest.approx(float(np.percentile(shown, 1)), rel=1e-4)
    assert info.vmax == pytest.approx(float(np.percentile(shown, 99)), rel=1e-4)

    amplitudes = np.random.default_rng(2).normal(0, 300, (6, 5, 64)).astype(np.float32)
    numpy_to_mdio(amplitudes, str(tmp_path / "a.mdio"), (6, 5, 64))
    info = plot_slice(MDIOReader(str(tmp_path / "a.mdio")), dimension="dim_0", coordinate=2, output=tmp_path / "a.png")
    clip = float(np.percentile(np.abs(amplitudes[2]), 99))
    assert info.cmap == "seismic"
    assert (info.vmin, info.vmax) == (pytest.approx(-clip, rel=1e-4), pytest.approx(clip, rel=1e-4))
