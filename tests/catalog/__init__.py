"""Tests of the catalog layer (mdio_catalog.catalog), and the helpers they share.

The oracles are independent of the library: segyio and numpy on the generated sources, ``yaml.safe_load`` on
catalog.lock, and ``json`` on the dataset's ``.zattrs`` / ``.zmetadata``.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from tests.converters.segy_factory import SyntheticSegy, grid_columns, random_samples, write_segy

REPO = Path(__file__).resolve().parents[2]
TEMPLATE_DIR = REPO / "templates"
EXAMPLES = REPO / "examples"

#: Inline / crossline bytes of the post-stack templates (SEG-Y rev1 positions).
INLINE, CROSSLINE = 189, 193


def write_catalog(folder: Path, datasets: Mapping[str, Any], *, name: str = "test-catalog", **top: Any) -> Path:
    """``folder/catalog.yaml`` with ``datasets`` (plain data), root ``./out`` unless ``top`` says otherwise."""
    data: dict[str, Any] = {"version": 1, "name": name, "root": "./out", **top, "datasets": dict(datasets)}
    path = folder / "catalog.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path


def post_stack_segy(
    path: Path,
    inlines: Iterable[int] = range(10, 16),
    crosslines: Iterable[int] = range(20, 27),
    n_samples: int = 12,
    *,
    seed: int = 0,
    dead: Iterable[tuple[int, int]] = ((1, 2), (4, 0)),
    zero_fraction: float = 0.1,
) -> SyntheticSegy:
    """A small post-stack 3-D SEG-Y (IEEE float, big endian) with a few dead traces and some zero samples."""
    inlines, crosslines = list(inlines), list(crosslines)
    live = np.ones((len(inlines), len(crosslines)), dtype=bool)
    for cell in dead:
        live[cell] = False
    cols, _ = grid_columns({INLINE: inlines, CROSSLINE: crosslines}, live)
    n = cols[INLINE].size
    cols[181] = cols[INLINE] * 25
    cols[185] = cols[CROSSLINE] * 25
    samples = random_samples(n, n_samples, 5, seed=seed, zero_fraction=zero_fraction)
    path.parent.mkdir(parents=True, exist_ok=True)
    return write_segy(path, cols, samples, fmt=5)


def stack_entry(segy: str = "data/stack.sgy", **extra: Any) -> dict[str, Any]:
    """A post-stack dataset entry for :func:`write_catalog`."""
    return {"template": "PostStack3DTime", "source": {"segy": segy}, "chunks": [4, 4, 8], **extra}


def read_lock(folder: Path) -> dict[str, Any]:
    """The lock of the catalog in ``folder`` as one mapping ``{"catalog", "entries": {name: record}}``, read with
    plain json from ``catalog.lock.d/NAME.json`` (or plain YAML from an old single ``catalog.lock``)."""
    entries: dict[str, Any] = {}
    catalog = None
    old = folder / "catalog.lock"
    if old.exists():
        data = yaml.safe_load(old.read_text(encoding="utf-8"))
        assert isinstance(data, dict)
        catalog, entries = data["catalog"], dict(data.get("entries") or {})
    for path in sorted((folder / "catalog.lock.d").glob("*.json")):
        entry = json.loads(path.read_text(encoding="utf-8"))
        assert entry["version"] == 1
        assert entry["current"]["dataset"] == path.stem
        catalog, entries[path.stem] = entry["catalog"], entry["current"]
    return {"version": 1, "catalog": catalog, "entries": dict(sorted(entries.items()))}


def lock_files(folder: Path) -> dict[str, bytes]:
    """Every lock file of the catalog in ``folder`` (an old ``catalog.lock``, ``catalog.lock.d/*``) by relative
    path, as bytes: a snapshot to compare, empty when nothing was ever recorded."""
    found = {}
    old = folder / "catalog.lock"
    if old.is_file():
        found["catalog.lock"] = old.read_bytes()
    entries = folder / "catalog.lock.d"
    if entries.is_dir():
        found.update({f"catalog.lock.d/{p.name}": p.read_bytes() for p in sorted(entries.iterdir())})
    return found


def lock_text(folder: Path) -> str:
    """The text of every lock file of the catalog in ``folder``, joined."""
    return "\n".join(data.decode("utf-8") for data in lock_files(folder).values())


def root_attrs(dataset: Path) -> dict[str, Any]:
    """The dataset's root attributes read with json from ``.zattrs``."""
    data = json.loads((dataset / ".zattrs").read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


def snapshot(folder: Path) -> dict[str, bytes]:
    """Every file under ``folder`` (relative path -> bytes)."""
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def leftovers(folder: Path) -> list[str]:
    """Hidden staging / backup entries a build may leave beside datasets (``.x.mdio.partial-...``)."""
    if not folder.exists():
        return []
    return sorted(p.name for p in folder.iterdir() if p.name.startswith(".") or "partial" in p.name)


def nonzero_stats(traces: np.ndarray) -> dict[str, float]:
    """mean, std, rms, min, max of the non-zero samples (numpy, float64)."""
    values = np.asarray(traces, dtype=np.float64)
    values = values[values != 0]
    return {
        "mean": float(values.mean()),
        "std": float(values.std()),
        "rms": float(np.sqrt(np.mean(values**2))),
        "min": float(values.min()),
        "max": float(values.max()),
    }
