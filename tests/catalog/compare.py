"""What a catalog build produced, in a form two builds can be compared by: arrays read back with numpy (every
access pattern's traces and headers, the live mask, the coordinates), root and metadata attributes without the
build's times (``created``, provenance ``started``/``finished``), and the lock entries without them."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import numpy as np

from mdio_catalog import MDIOReader
from tests.catalog import read_lock

#: Fields of a provenance record that depend on when the build ran.
TIMINGS = ("started", "finished")


def lock_without_timings(folder: Path) -> dict[str, Any]:
    """The lock's entries (plain json/YAML) with the start and end times dropped."""
    entries = copy.deepcopy(read_lock(folder)["entries"])
    for entry in entries.values():
        for key in TIMINGS:
            entry.pop(key)
    return dict(entries)


def dataset_contents(path: Path) -> dict[str, Any]:
    """Every array of the dataset at ``path`` as numpy, and its attributes without timings."""
    attrs = json.loads((path / ".zattrs").read_text(encoding="utf-8"))
    attrs.pop("created", None)
    for key in TIMINGS:
        attrs.get("mdio_catalog", {}).get("provenance", {}).pop(key, None)
    metadata_attrs = json.loads((path / "metadata" / ".zattrs").read_text(encoding="utf-8"))
    contents: dict[str, Any] = {"attrs": attrs, "metadata_attrs": metadata_attrs}
    patterns = MDIOReader(str(path), access_pattern=_any_pattern(path)).access_patterns
    for pattern in patterns:
        reader = MDIOReader(str(path), access_pattern=pattern, return_metadata=True)
        live, headers, traces = reader[...]
        contents[f"{pattern}/traces"] = np.asarray(traces)
        contents[f"{pattern}/headers"] = np.asarray(headers)
        contents[f"{pattern}/chunks"] = reader.chunks
        contents["live_mask"] = np.asarray(live)
        contents["dimensions"] = [(d.name, np.asarray(d.values)) for d in reader.grid.dims]
    return contents


def _any_pattern(path: Path) -> str:
    names = sorted(p.name for p in (path / "data").iterdir() if p.name.startswith("chunked_"))
    return names[0].removeprefix("chunked_")


def assert_same_contents(got: dict[str, Any], expected: dict[str, Any], label: str) -> None:
    assert sorted(got) == sorted(expected), label
    for key, value in expected.items():
        if key == "dimensions":
            assert [n for n, _ in got[key]] == [n for n, _ in value], label
            for (_, a), (_, b) in zip(got[key], value, strict=True):
                np.testing.assert_array_equal(a, b)
        elif isinstance(value, np.ndarray):
            assert got[key].dtype == value.dtype, (label, key)
            np.testing.assert_array_equal(got[key], value, err_msg=f"{label} {key}")
        else:
            assert got[key] == value, (label, key)


def built_contents(folder: Path, names: list[str]) -> dict[str, dict[str, Any]]:
    """:func:`dataset_contents` of each named dataset under ``folder`` (``<name>.mdio``)."""
    return {name: dataset_contents(folder / f"{name}.mdio") for name in names}
