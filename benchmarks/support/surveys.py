"""Synthetic surveys: their geometry, a survey-wide earth model and seismic-like samples, block by block.

:func:`block_records` turns one block into SEG-Y trace records (headers + IBM samples).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Final

import numpy as np
import numpy.typing as npt

from mdio_catalog.segy.ibm import float_to_ibm

from .segy import COORDINATE_SCALAR, FILE_HEADER_BYTES, TRACE_HEADER_BYTES, record_dtype

__all__ = [
    "TARGET_BLOCK_TRACES",
    "Geology",
    "Survey",
    "block_records",
    "make_geology",
    "poststack_survey",
    "prestack_survey",
    "synthetic_block",
]

#: Traces generated (and written) per block; the file is produced in whole inlines of about this many traces.
TARGET_BLOCK_TRACES: Final = 4096


@dataclass(frozen=True)
class Survey:
    """A regular synthetic survey, traces sorted inline, crossline, offset (the usual file order)."""

    name: str
    n_il: int
    n_xl: int
    n_off: int  # 0 for post-stack
    n_samples: int
    interval_us: int = 4000
    il0: int = 1000
    xl0: int = 2000
    off0: int = 50  # metres
    off_step: int = 50
    seed: int = 20240601

    @property
    def prestack(self) -> bool:
        return self.n_off > 0

    @property
    def traces_per_cell(self) -> int:
        return max(self.n_off, 1)

    @property
    def n_traces(self) -> int:
        return self.n_il * self.n_xl * self.traces_per_cell

    @property
    def trace_bytes(self) -> int:
        return TRACE_HEADER_BYTES + 4 * self.n_samples

    @property
    def file_bytes(self) -> int:
        return FILE_HEADER_BYTES + self.n_traces * self.trace_bytes

    @property
    def shape(self) -> tuple[int, ...]:
        spatial = (self.n_il, self.n_xl, self.n_off) if self.prestack else (self.n_il, self.n_xl)
        return (*spatial, self.n_samples)

    @property
    def inlines_per_block(self) -> int:
        return max(1, TARGET_BLOCK_TRACES // (self.n_xl * self.traces_per_cell))

    @property
    def n_blocks(self) -> int:
        return -(-self.n_il // self.inlines_per_block)

    @property
    def filename(self) -> str:
        dims = "x".join(str(n) for n in self.shape)
        return f"{self.name}_{dims}.sgy"

    def block_traces(self, block: int) -> tuple[int, int]:
        """Global trace range ``[start, stop)`` of generation block ``block``."""
        per_inline = self.n_xl * self.traces_per_cell
        first = block * self.inlines_per_block
        last = min(first + self.inlines_per_block, self.n_il)
        return first * per_inline, last * per_inline

    def trace_position(self, traces: npt.NDArray[np.int64]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Inline, crossline and offset *indices* of global trace numbers."""
        cell, off = np.divmod(traces, self.traces_per_cell)
        il, xl = np.divmod(cell, self.n_xl)
        return il, xl, off


def poststack_survey(scale: float = 1.0) -> Survey:
    """400 x 400 x 1001 samples at 4 ms (679 MB); ``scale`` multiplies the trace count (side x sqrt(scale))."""
    side = round(400 * math.sqrt(scale))
    name = "poststack" if scale == 1 else f"poststack_x{scale:g}"
    return Survey(name=name, n_il=side, n_xl=side, n_off=0, n_samples=1001)


def prestack_survey() -> Survey:
    """50 inlines x 50 crosslines x 48 offsets (50..2400 m) x 751 samples at 4 ms (389 MB)."""
    return Survey(name="prestack", n_il=50, n_xl=50, n_off=48, n_samples=751)


@dataclass(frozen=True)
class Geology:
    """Survey-wide earth model: dipping, undulating horizons and a laterally shifted background reflectivity."""

    t0: np.ndarray  # (K,) horizon two-way time at the survey centre, ms
    dip_il: np.ndarray  # (K,) ms per inline
    dip_xl: np.ndarray  # (K,) ms per crossline
    bump: np.ndarray  # (K,) amplitude of the undulation, ms
    phase: np.ndarray  # (K, 2) undulation phases
    refl: np.ndarray  # (K,) reflection coefficient
    avo: np.ndarray  # (K,) gradient of the amplitude with offset**2
    background: np.ndarray  # (n_samples + 2 * pad,) fine-layered reflectivity
    pad: int


def make_geology(survey: Survey) -> Geology:
    rng = np.random.default_rng(survey.seed)
    t_max = survey.n_samples * survey.interval_us / 1000.0
    n_horizons = max(8, int(t_max / 50))
    pad = 40
    return Geology(
        t0=np.sort(rng.uniform(40.0, t_max * 1.05, n_horizons)),
        dip_il=rng.normal(0.0, 0.25, n_horizons),
        dip_xl=rng.normal(0.0, 0.15, n_horizons),
        bump=rng.uniform(2.0, 25.0, n_horizons),
        phase=rng.uniform(0.0, 2 * np.pi, (n_horizons, 2)),
        refl=rng.laplace(0.0, 0.12, n_horizons),
        avo=rng.uniform(-1.0, 1.0, n_horizons),
        background=rng.laplace(0.0, 0.02, survey.n_samples + 2 * pad),
        pad=pad,
    )


def _velocity(t_ms: np.ndarray) -> np.ndarray:
    """Stacking velocity (m/s) increasing with time."""
    return 1600.0 + 0.7 * t_ms


def _ricker_spectrum(n_fft: int, dt_s: float, peak_hz: float) -> np.ndarray:
    f = np.fft.rfftfreq(n_fft, dt_s)
    return (f / peak_hz) ** 2 * np.exp(1.0 - (f / peak_hz) ** 2)


def synthetic_block(survey: Survey, geology: Geology, block: int) -> tuple[np.ndarray, np.ndarray]:
    """Global trace numbers and float32 samples ``(n, n_samples)`` of generation block ``block``.

    Reflectivity (horizons with dip, undulation, amplitude variation and AVO, plus a fine-layered background,
    with hyperbolic moveout and a top mute for pre-stack) plus some white noise, convolved with a 25 Hz Ricker
    wavelet, with a time-decaying and laterally varying gain, plus a little broadband noise. Deterministic for a
    given ``(survey, block)``.
    """
    start, stop = survey.block_traces(block)
    traces = np.arange(start, stop, dtype=np.int64)
    il, xl, off = survey.trace_position(traces)
    n, ns = traces.size, survey.n_samples
    dt_ms = survey.interval_us / 1000.0
    rng = np.random.default_rng([survey.seed, block])
    ilc, xlc = il - survey.n_il / 2.0, xl - survey.n_xl / 2.0
    offset_m = (survey.off0 + off * survey.off_step).astype(np.float64) if survey.prestack else np.zeros(n)
    x_max = float(survey.off0 + max(survey.n_off - 1, 0) * survey.off_step) or 1.0

    # Horizons: zero-offset time at this (il, xl), then moveout to the trace's offset.
    g = geology
    t0 = (
        g.t0[None, :]
        + g.dip_il[None, :] * ilc[:, None]
        + g.dip_xl[None, :] * xlc[:, None]
        + g.bump[None, :]
        * np.sin(2 * np.pi * il[:, None] / 97.0 + g.phase[None, :, 0])
        * np.cos(2 * np.pi * xl[:, None] / 131.0 + g.phase[None, :, 1])
    )
    x_ms = offset_m[:, None] / _velocity(t0) * 1000.0
    t_event = np.sqrt(t0**2 + x_ms**2)
    amp = g.refl[None, :] * (
        1.0 + 0.35 * np.sin(2 * np.pi * (il[:, None] + 0.7 * xl[:, None]) / 61.0 + g.phase[None, :, 0])
    )
    amp = amp * (1.0 + g.avo[None, :] * (offset_m[:, None] / x_max) ** 2)
    pos = t_event / dt_ms
    i0 = np.floor(pos).astype(np.int64)
    w = pos - i0
    rows = np.broadcast_to(np.arange(n)[:, None], i0.shape)
    spikes = np.zeros(n * ns)
    for idx, weight in ((i0, amp * (1.0 - w)), (i0 + 1, amp * w)):
        keep = (idx >= 0) & (idx < ns)
        spikes += np.bincount((rows * ns + idx)[keep], weights=weight[keep], minlength=n * ns)
    reflectivity = spikes.reshape(n, ns)

    # Background: one fine-layered series, shifted laterally, stretched by moveout, muted above the direct wave.
    t = np.arange(ns) * dt_ms
    shift = 0.5 * g.pad * np.sin(2 * np.pi * il / 173.0) * np.cos(2 * np.pi * xl / 151.0)
    if survey.prestack:
        x_t = offset_m[:, None] / _velocity(t)[None, :] * 1000.0
        t_zero = np.sqrt(np.maximum(t[None, :] ** 2 - x_t**2, 0.0))
        live = t[None, :] > 1.15 * x_t  # top (stretch) mute
    else:
        t_zero = np.broadcast_to(t[None, :], (n, ns))
        live = np.ones((n, ns), dtype=bool)
    index = np.rint(t_zero / dt_ms + g.pad + shift[:, None]).astype(np.int64)
    reflectivity += g.background[np.clip(index, 0, g.background.size - 1)]
    reflectivity += rng.normal(0.0, 0.006, (n, ns))  # incoherent "noise reflectivity": band-limited below

    n_fft = 1 << (ns + 64 - 1).bit_length()
    spectrum = np.fft.rfft(reflectivity, n_fft, axis=1) * _ricker_spectrum(n_fft, dt_ms / 1000.0, 25.0)
    # zero-phase wavelet: no shift needed because the spectrum is real
    seismic = np.fft.irfft(spectrum, n_fft, axis=1)[:, :ns]

    gain = 3000.0 / (1.0 + t / 800.0)
    lateral = 1.0 + 0.25 * np.sin(2 * np.pi * il / 211.0 + 1.0) * np.sin(2 * np.pi * xl / 97.0 + 0.5)
    seismic = seismic * gain[None, :] * lateral[:, None]
    seismic += rng.normal(0.0, 4.0, (n, ns))
    seismic[~live] = 0.0
    return traces, seismic.astype(np.float32)


def block_records(survey: Survey, geology: Geology, block: int) -> tuple[np.ndarray, np.ndarray]:
    """The trace records (headers + IBM samples) of one block, and the float32 samples they encode."""
    traces, samples = synthetic_block(survey, geology, block)
    il, xl, off = survey.trace_position(traces)
    records = np.zeros(traces.size, dtype=record_dtype(survey.n_samples))
    cell = il * survey.n_xl + xl
    inline = survey.il0 + il
    crossline = survey.xl0 + xl
    # Grid: origin (500 km, 6000 km), 25 m between inlines, 12.5 m between crosslines, rotated by 30 degrees.
    angle = np.deg2rad(30.0)
    along_il, along_xl = xl * 12.5, il * 25.0
    x = 500_000.0 + along_il * np.cos(angle) - along_xl * np.sin(angle)
    y = 6_000_000.0 + along_il * np.sin(angle) + along_xl * np.cos(angle)
    offset = survey.off0 + off * survey.off_step if survey.prestack else np.zeros_like(off)
    half = offset / 2.0
    records["trace_seq_num_line"] = traces + 1
    records["trace_seq_num_reel"] = traces + 1
    records["orig_field_record_num"] = cell + 1
    records["trace_num_orig_record"] = off + 1
    records["ensemble_num"] = cell + 1
    records["trace_num_ensemble"] = off + 1
    records["trace_id_code"] = 1
    records["data_use"] = 1
    records["offset"] = offset
    records["coordinate_scalar"] = COORDINATE_SCALAR
    records["source_coord_x"] = np.rint((x - half * np.cos(angle)) * 100)
    records["source_coord_y"] = np.rint((y - half * np.sin(angle)) * 100)
    records["group_coord_x"] = np.rint((x + half * np.cos(angle)) * 100)
    records["group_coord_y"] = np.rint((y + half * np.sin(angle)) * 100)
    records["coordinate_unit"] = 1
    records["samples_per_trace"] = survey.n_samples
    records["sample_interval"] = survey.interval_us
    records["cdp_x"] = np.rint(x * 100)
    records["cdp_y"] = np.rint(y * 100)
    records["inline"] = inline
    records["crossline"] = crossline
    records["shot_point"] = crossline
    records["samples"] = float_to_ibm(samples)
    return records, samples
