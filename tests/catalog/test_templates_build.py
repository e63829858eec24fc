"""Every template in templates/ builds a dataset through the catalog from a small SEG-Y of its own geometry.

The template files are read with plain YAML (index names, bytes and types, grid overrides, suggested access
patterns); a SEG-Y is generated with segyio whose trace headers carry the index at those bytes. The expected grid
comes from the header words segyio reads back, with the documented override semantics (AutoChannelWrap renumbers
channels from 1 on each cable, AutoShotWrap divides shot points interleaved over N guns by N), and every trace is
compared with segyio's samples in its cell, in the main and in every extra access pattern.
"""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml

from mdio_catalog import MDIOReader
from mdio_catalog.catalog import Catalog
from tests.catalog import TEMPLATE_DIR, read_lock, write_catalog
from tests.converters.segy_factory import expected_grid, ramp_samples, read_with_segyio, write_segy

TEMPLATE_FILES = sorted(TEMPLATE_DIR.glob("*.yaml"))
N_SAMPLES = 8


def load_template(path: Path) -> dict[str, Any]:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


def test_there_are_templates() -> None:
    assert len(TEMPLATE_FILES) >= 19
    assert {load_template(p)["name"] for p in TEMPLATE_FILES} == {p.stem for p in TEMPLATE_FILES}


def geometry(template: dict[str, Any]) -> tuple[dict[int, np.ndarray], dict[str, Any]]:
    """Header columns for the template's index, and how to derive the expected index values from the words."""
    index = template["index"]
    names = [f["name"] for f in index]
    bytes_ = {f["name"]: f["byte"] for f in index}
    overrides = template.get("grid_overrides") or {}
    rows: list[tuple[int, ...]]
    if overrides.get("AutoShotWrap"):
        # shot_line, gun, shot_point, cable, channel: 2 guns firing alternately, channels unwrapped over 2 cables
        assert names == ["shot_line", "gun", "shot_point", "cable", "channel"]
        rows = [
            (7, 1 if sp % 2 else 2, sp, cable, (cable - 1) * 4 + ch)
            for sp in range(1001, 1009)
            for cable in (1, 2)
            for ch in range(1, 5)
        ]
        return {bytes_[n]: np.array([r[k] for r in rows]) for k, n in enumerate(names)}, {"shot_wrap": 2}
    if overrides.get("AutoChannelWrap"):
        # shot_point, cable, channel: channels numbered on across the cables (unwrapped)
        assert names == ["shot_point", "cable", "channel"]
        rows = [(sp, cable, (cable - 1) * 5 + ch) for sp in (301, 302, 303) for cable in (1, 2) for ch in range(1, 6)]
        return {bytes_[n]: np.array([r[k] for r in rows]) for k, n in enumerate(names)}, {}
    # a plain grid: small distinct values per index (some axes with gaps), first axis slowest, one dead cell
    sizes = [4, 3, 3, 2, 2][: len(names)]
    axes = [[11 + 3 * i + k * (k + 1) for k in range(size)] for i, size in enumerate(sizes)]
    cells = [c for c in itertools.product(*axes) if c != tuple(a[1] for a in axes)]
    return {bytes_[n]: np.array([c[k] for c in cells]) for k, n in enumerate(names)}, {}


def expected_columns(template: dict[str, Any], words: dict[int, np.ndarray], how: dict[str, Any]) -> list[np.ndarray]:
    names = [f["name"] for f in template["index"]]
    columns = {f["name"]: words[f["byte"]] for f in template["index"]}
    overrides = template.get("grid_overrides") or {}
    if overrides.get("AutoShotWrap"):
        columns["shot_point"] = columns["shot_point"] // how["shot_wrap"]
    if overrides.get("AutoChannelWrap"):
        cable, raw = columns["cable"], columns["channel"]
        lowest = {c: raw[cable == c].min() for c in np.unique(cable)}
        columns["channel"] = raw - np.array([lowest[c] for c in cable]) + 1
    return [columns[n] for n in names]


@pytest.mark.parametrize("template_file", TEMPLATE_FILES, ids=[p.stem for p in TEMPLATE_FILES])
def test_template_builds_from_segy_of_its_geometry(template_file: Path, tmp_path: Path) -> None:
    template = load_template(template_file)
    index = template["index"]
    names = [f["name"] for f in index]
    columns, how = geometry(template)
    n = len(next(iter(columns.values())))
    (tmp_path / "data").mkdir()
    src = write_segy(tmp_path / "data" / "src.sgy", columns, ramp_samples(np.arange(n)[:, None], N_SAMPLES), fmt=5)
    words = read_with_segyio(src.path, [f["byte"] for f in index]).words
    traces = read_with_segyio(src.path).traces

    suggested = template.get("access_patterns") or {}
    entry: dict[str, Any] = {
        "template": template["name"],
        "source": {"segy": "data/src.sgy"},
        "chunks": [2] * len(names) + [4],
    }
    if suggested:
        entry["access_patterns"] = dict.fromkeys(suggested)  # null: take the template's suggestion
    catalog_path = write_catalog(tmp_path, {"ds": entry})

    catalog = Catalog.from_file(catalog_path)
    assert catalog.get("ds").dimensions == (*names, "sample")
    report = catalog.build()
    assert [r.dataset for r in report.built] == ["ds"]
    assert [s.state for s in catalog.status()] == ["fresh"]

    coords, cells = expected_grid(expected_columns(template, words, how))
    reader = catalog.open("ds", return_metadata=True)
    assert isinstance(reader, MDIOReader)
    assert reader.grid.dim_names == (*names, "sample")
    for dim, expected in zip(reader.grid.dims[:-1], coords, strict=True):
        np.testing.assert_array_equal(dim.coords, expected, err_msg=dim.name)
    shape = (*(c.size for c in coords), N_SAMPLES)
    assert reader.shape == shape
    live, _, data = reader[...]
    expected_live = np.zeros(shape[:-1], dtype=bool)
    expected_live[tuple(cells.T)] = True
    np.testing.assert_array_equal(live, expected_live)
    np.testing.assert_array_equal(data[tuple(cells.T)], traces)
    assert not data[~expected_live].any()
    assert reader.trace_count == n

    # every suggested access pattern was created and holds the same traces
    url = catalog.output_url("ds")
    assert set(reader.access_patterns) == {"".join(str(i) for i in range(len(shape))), *suggested}
    for suffix, chunks in suggested.items():
        other = MDIOReader(url, access_pattern=suffix)
        assert other.shape == shape
        assert other.chunks == tuple(chunks)
        np.testing.assert_array_equal(other[...], data, err_msg=suffix)

    # the lock records the byte map the template gave
    entry_lock = read_lock(tmp_path)["entries"]["ds"]
    byte_map = [(f["name"], f["byte"], f.get("type", "int32")) for f in entry_lock["byte_map"]]
    assert byte_map == [(f["name"], f["byte"], f.get("type", "int32")) for f in index]
    assert entry_lock["dimensions"] == [*names, "sample"]
    assert entry_lock["shape"] == list(shape)
    assert entry_lock["trace_count"] == n
    declared = template.get("grid_overrides") or {}
    assert entry_lock.get("grid_overrides", {}) == {k: v for k, v in declared.items() if v}
