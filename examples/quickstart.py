"""Quickstart: build a small synthetic post-stack volume as MDIO, read it back, and print what was written.

Run with ``bash scripts/example.sh`` (it sets up the environment first). Output goes to ``examples/out/``.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import numpy as np

from mdio_catalog import (
    Dimension,
    Grid,
    MDIOCreateConfig,
    MDIOReader,
    MDIOVariableConfig,
    MDIOWriter,
    create_empty,
    numpy_to_mdio,
)

OUT = Path(__file__).resolve().parent / "out"


def synthetic_stack(n_il: int = 60, n_xl: int = 80, n_samples: int = 250, dt_ms: int = 4) -> np.ndarray:
    """Dipping reflectors convolved with a 25 Hz Ricker wavelet: looks like seismic, compresses like seismic."""
    rng = np.random.default_rng(7)
    wavelet_t = np.arange(-32, 33) * dt_ms / 1000.0
    a = (np.pi * 25.0 * wavelet_t) ** 2
    ricker = (1 - 2 * a) * np.exp(-a)
    il, xl = np.meshgrid(np.arange(n_il), np.arange(n_xl), indexing="ij")
    volume = np.zeros((n_il, n_xl, n_samples), dtype=np.float32)
    for depth, strength in zip(rng.uniform(0.1, 0.9, 12), rng.normal(0, 1, 12), strict=True):
        arrival = depth + 0.002 * il + 0.001 * xl * np.sin(depth * 9)
        index = np.clip(np.round(arrival / (dt_ms / 1000.0)).astype(int), 0, n_samples - 1)
        np.put_along_axis(volume, index[..., None], strength, axis=2)
    volume = np.apply_along_axis(lambda tr: np.convolve(tr, ricker, mode="same"), 2, volume)
    volume += rng.normal(0, 0.02, volume.shape)
    return volume.astype(np.float32)


def main() -> int:
    shutil.rmtree(OUT, ignore_errors=True)
    OUT.mkdir(parents=True)
    volume = synthetic_stack()
    n_il, n_xl, n_samples = volume.shape
    coords = {
        "inline": np.arange(n_il) + 1000,
        "crossline": np.arange(n_xl) * 2 + 2000,
        "sample": np.arange(n_samples) * 4,
    }
    stack_path = OUT / "stack.mdio"
    numpy_to_mdio(
        volume,
        str(stack_path),
        chunksize=(32, 32, 64),
        index_names=["inline", "crossline", "sample"],
        index_coords=coords,
    )

    reader = MDIOReader(str(stack_path), return_metadata=True)
    print(f"Wrote {stack_path}")
    print(f"  {reader!r}")
    for dim in reader.grid.dims:
        print(f"  {dim.name:<10} {dim.size:>5} values  {dim.min()} .. {dim.max()}")
    print(f"  chunks {reader.chunks}, live traces {reader.trace_count}")
    print("  stats  " + ", ".join(f"{k}={v:.4f}" for k, v in reader.stats.items()))

    il_index = reader.coord_to_index(1030, dimensions="inline")
    live, headers, inline = reader[int(il_index[0])]
    same = np.array_equal(inline, volume[int(il_index[0])])
    print(
        f"  inline 1030 -> index {int(il_index[0])}: {inline.shape} traces, all live={bool(live.all())}, "
        f"equal to the source={same}, header dtype has {len(headers.dtype.names or ())} fields"
    )
    on_disk = sum(f.stat().st_size for f in stack_path.rglob("*") if f.is_file())
    print(f"  {volume.nbytes / 2**20:.1f} MiB of samples stored in {on_disk / 2**20:.1f} MiB (Blosc/zstd)")

    # An empty dataset filled through a writer: the path a processing job would take.
    grid = Grid(
        [
            Dimension(coords["inline"], "inline"),
            Dimension(coords["crossline"], "crossline"),
            Dimension(coords["sample"], "sample"),
        ]
    )
    empty_path = OUT / "processed.mdio"
    create_empty(MDIOCreateConfig(str(empty_path), grid, [MDIOVariableConfig("chunked_012", "float32", (32, 32, 64))]))
    writer = MDIOWriter(str(empty_path))
    writer[:10] = -volume[:10]
    mask = np.zeros((n_il, n_xl), dtype=bool)
    mask[:10] = True
    writer.live_mask = mask
    writer.trace_count = int(mask.sum())
    check = MDIOReader(str(empty_path))
    print(
        f"Wrote {empty_path}: {check.trace_count} live traces, "
        f"first inline negated={np.array_equal(check[0], -volume[0])}"
    )
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())
