"""Shared fixtures for the SEG-Y layer: files generated with segyio (the oracle) and the public test set."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import segyio

#: The public SEG-Y files live beside the repository: ``<repo>/../shared/data/segy``.
SEGY_DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "segy"


@pytest.fixture(scope="session")
def segy_data() -> Path:
    """The folder of public SEG-Y test files (tests using it skip when it is absent)."""
    if not (SEGY_DATA / "manifest.json").is_file():
        pytest.skip(f"public SEG-Y test data not found at {SEGY_DATA} (expected <repo>/../shared/data/segy)")
    return SEGY_DATA


def load_manifest() -> list[dict[str, Any]]:
    """Manifest entries, or an empty list when the data folder is absent (parametrisation then skips)."""
    path = SEGY_DATA / "manifest.json"
    return json.loads(path.read_text()) if path.is_file() else []


MakeSegy = Callable[..., Path]


@pytest.fixture
def make_segy(tmp_path: Path) -> MakeSegy:
    """Write a small SEG-Y file with segyio and return its path.

    Keyword arguments: ``fmt`` (sample format code), ``endian``, ``n_traces``, ``n_samples``, ``dt`` (us),
    ``ext_headers`` (extended textual header count), ``seed``, ``name``. Trace headers get distinctive
    values in many standard words (including negative 2-byte ones) so that byte-order mistakes show.
    """

    def make(
        fmt: int = 1,
        endian: str = "big",
        n_traces: int = 12,
        n_samples: int = 17,
        dt: int = 2000,
        ext_headers: int = 0,
        seed: int = 0,
        name: str | None = None,
    ) -> Path:
        path = tmp_path / (name or f"gen_f{fmt}_{endian}_{n_traces}x{n_samples}.sgy")
        spec = segyio.spec()
        spec.format = fmt
        spec.samples = list(range(n_samples))
        spec.tracecount = n_traces
        spec.endian = endian
        spec.ext_headers = ext_headers
        rng = np.random.default_rng(seed)
        with segyio.create(str(path), spec) as f:
            f.bin.update({segyio.BinField.Interval: dt})
            for i in range(n_traces):
                f.header[i] = {
                    segyio.TraceField.TRACE_SEQUENCE_LINE: i + 1,
                    segyio.TraceField.FieldRecord: 1000 + i // 4,
                    segyio.TraceField.TraceNumber: i % 4 + 1,
                    segyio.TraceField.offset: -500 + 37 * i,
                    segyio.TraceField.SourceGroupScalar: -100,
                    segyio.TraceField.CDP_X: 4_300_000_00 + 1250 * i,
                    segyio.TraceField.CDP_Y: 6_470_000_00 - 977 * i,
                    segyio.TraceField.INLINE_3D: 100 + i // 4,
                    segyio.TraceField.CROSSLINE_3D: 2000 + i % 4,
                    segyio.TraceField.TRACE_SAMPLE_COUNT: n_samples,
                    segyio.TraceField.TRACE_SAMPLE_INTERVAL: dt,
                    segyio.TraceField.DelayRecordingTime: -12,
                }
                f.trace[i] = _samples(rng, f.dtype, n_samples, i)
        return path

    return make


def _samples(rng: np.random.Generator, dtype: np.dtype, n: int, i: int) -> np.ndarray:
    dt = np.dtype(dtype)
    if dt.kind == "f":
        return (rng.standard_normal(n) * 10.0 ** (i % 7 - 3)).astype(dt)
    info = np.iinfo(dt)
    return rng.integers(info.min, info.max, n, endpoint=True, dtype=dt)
