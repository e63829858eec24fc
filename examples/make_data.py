"""Generate the small SEG-Y and NumPy sources of the example catalog (examples/catalog.yaml) with segyio.

Three acquisitions a catalog typically holds: a post-stack 3-D cube with a few missing traces, pre-stack CDP
offset gathers, and marine streamer shots whose channel numbers run on from one cable to the next (the template's
AutoChannelWrap override renumbers them per cable), plus a velocity model as a .npy file.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import segyio

HERE = Path(__file__).resolve().parent


def ricker(dt_s: float, freq: float = 25.0, half: int = 32) -> np.ndarray:
    t = np.arange(-half, half + 1) * dt_s
    a = (np.pi * freq * t) ** 2
    return (1 - 2 * a) * np.exp(-a)


#: Horizons shared by every file: (time fraction of the trace, inline dip, crossline dip, reflection strength).
HORIZONS = [(0.15, 0.004, 0.002, 1.0), (0.3, -0.002, 0.003, -0.7), (0.45, 0.003, -0.002, 0.8),
            (0.6, 0.001, 0.001, -1.0), (0.75, -0.003, 0.002, 0.6), (0.88, 0.002, -0.001, -0.5)]  # fmt: skip


def reflectivity(
    rng: np.random.Generator, x: np.ndarray, y: np.ndarray, ns: int, offset: np.ndarray | None = None
) -> np.ndarray:
    """Dipping, laterally continuous reflectors (with NMO-like moveout when offsets are given), convolved with a
    Ricker wavelet, plus a little noise: looks like seismic on a section, a gather or a time slice."""
    n = x.size
    trace = np.zeros((n, ns))
    for fraction, dip_x, dip_y, strength in HORIZONS:
        t0 = fraction * ns + dip_x * ns * x + dip_y * ns * y + 3 * np.sin(x / 7.0 + fraction * 9)
        if offset is not None:
            t0 = np.sqrt(t0**2 + (offset / 12.0) ** 2)
        index = np.clip(np.rint(t0).astype(int), 0, ns - 1)
        trace[np.arange(n), index] += strength * (1 + 0.2 * np.sin(y / 5.0))
    trace += rng.normal(scale=0.02, size=trace.shape)
    kernel = ricker(0.004)
    return np.stack([np.convolve(t, kernel, mode="same") for t in trace]).astype(np.float32) * 100


def write(path: Path, headers: list[dict[int, int]], traces: np.ndarray, dt_us: int = 4000, fmt: int = 1) -> None:
    spec = segyio.spec()
    spec.format = fmt
    spec.samples = list(range(traces.shape[1]))
    spec.tracecount = len(headers)
    with segyio.create(str(path), spec) as f:
        f.text[0] = segyio.tools.create_text_header({1: f"mdio_catalog example: {path.stem}", 2: "synthetic data"})
        f.bin.update({segyio.BinField.Interval: dt_us, segyio.BinField.Samples: traces.shape[1]})
        for i, (header, trace) in enumerate(zip(headers, traces, strict=True)):
            f.header[i] = {
                **header,
                segyio.TraceField.TRACE_SAMPLE_COUNT: traces.shape[1],
                segyio.TraceField.TRACE_SAMPLE_INTERVAL: dt_us,
            }
            f.trace[i] = trace


def make(folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(2024)
    tf = segyio.TraceField

    # Post-stack 3-D: 40 x 50 x 200, IBM, with a small hole of missing traces.
    cells = [(il, xl) for il in range(100, 140) for xl in range(300, 350) if not (120 <= il < 123 and xl < 303)]
    headers = [{tf.INLINE_3D: il, tf.CROSSLINE_3D: xl, tf.CDP_X: il * 25, tf.CDP_Y: xl * 25} for il, xl in cells]
    il, xl = (np.array(c, dtype=float) for c in zip(*cells, strict=True))
    write(folder / "stack.sgy", headers, reflectivity(rng, il - 100, xl - 300, 200))

    # Pre-stack CDP offset gathers: 8 x 10 x 6 offsets x 150.
    cells = [(il, xl, off) for il in range(1, 9) for xl in range(1, 11) for off in range(100, 700, 100)]
    headers = [{tf.INLINE_3D: il, tf.CROSSLINE_3D: xl, tf.offset: off} for il, xl, off in cells]
    il, xl, off = (np.array(c, dtype=float) for c in zip(*cells, strict=True))
    write(folder / "gathers.sgy", headers, reflectivity(rng, il, xl, 150, offset=off))

    # Streamer shots: 5 shots x 2 cables x 24 channels, channels numbered 1..48 across the cables (unwrapped).
    rows = [(sp, cable, (cable - 1) * 24 + ch) for sp in range(1000, 1005) for cable in (1, 2) for ch in range(1, 25)]
    headers = [{tf.EnergySourcePoint: sp, 137: cable, tf.TraceNumber: ch} for sp, cable, ch in rows]
    sp, cable, ch = (np.array(c, dtype=float) for c in zip(*rows, strict=True))
    offset = 100.0 + 12.5 * ((ch - 1) % 24)
    write(folder / "shots.sgy", headers, reflectivity(rng, sp - 1000, cable, 150, offset=offset), dt_us=2000)

    # A smooth velocity model on the stack's grid (inline x crossline x sample).
    depth = np.linspace(1500.0, 4500.0, 200, dtype=np.float32)
    lateral = 100 * np.sin(np.linspace(0, 3, 40))[:, None, None]
    np.save(folder / "velocity.npy", (depth[None, None, :] + lateral + np.zeros((40, 50, 1))).astype(np.float32))


def main() -> int:
    folder = Path(sys.argv[1]) if len(sys.argv) > 1 else HERE / "data"
    make(folder)
    print(f"Wrote example sources to {folder}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
