"""Lossy compression chosen by quality: the largest ZFP tolerance whose signal-to-noise ratio meets a target.

ZFP's fixed-accuracy mode bounds the absolute error by a tolerance, but what a user can judge is the quality of
the result (the SNR an interpreter accepts, 30-50 dB), and the tolerance that gives it depends on the amplitudes
of the survey. :func:`choose_tolerance` measures instead of guessing: it compresses a sample of chunk-sized blocks
spread over the volume and walks the powers of two (ZFP rounds a tolerance down to one, so nothing between them
changes the result) from an estimate based on the sample's RMS to the largest whose SNR over the sample meets the
target plus a small margin; the sample's figure is shifted by the volume's RMS (or peak) over the sample's when
that is known. The caller then measures the whole result (:func:`snr_db` / :func:`psnr_db` on what it wrote) and
records both.

Definitions (decibels, over all samples compared): SNR = 10 log10(sum x^2 / sum (x - y)^2); PSNR = 10 log10(
max|x|^2 / mean (x - y)^2). Identical arrays give +inf; an all-zero reference gives +inf for any result that is
all zero too.
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal, Protocol, cast

import numpy as np
import numpy.typing as npt

from mdio_catalog.exceptions import ArgumentError

Metric = Literal["snr", "psnr"]

#: Range of tolerances searched (powers of two; ZFP ignores the rest of a tolerance's bits).
MIN_EXPONENT = -140
MAX_EXPONENT = 140


class ArrayLike(Protocol):
    """What can be sampled: a NumPy array or an MDIO accessor (shape, chunks, orthogonal int/slice indexing)."""

    @property
    def shape(self) -> tuple[int, ...]: ...

    def __getitem__(self, key: Any) -> Any: ...


@dataclass(frozen=True)
class ToleranceChoice:
    """The tolerance chosen for a quality target, and what it gave on the sample it was chosen on."""

    tolerance: float
    metric: Metric
    target_db: float
    sample_db: float
    sample_ratio: float  # raw bytes / ZFP bytes over the sampled blocks
    sampled_blocks: int
    sampled_values: int
    seconds: float


def snr_db(reference: npt.ArrayLike, approximation: npt.ArrayLike) -> float:
    """Signal-to-noise ratio of ``approximation`` against ``reference`` in dB (non-finite samples ignored)."""
    signal, noise, _, _ = _energies(np.asarray(reference), np.asarray(approximation))
    return _ratio_db(signal, noise)


def psnr_db(reference: npt.ArrayLike, approximation: npt.ArrayLike) -> float:
    """Peak signal-to-noise ratio in dB: peak = max |reference|, noise = mean squared error."""
    _, noise, peak, count = _energies(np.asarray(reference), np.asarray(approximation))
    return _ratio_db(peak * peak * count, noise)


def _energies(reference: np.ndarray, approximation: np.ndarray) -> tuple[float, float, float, int]:
    if reference.shape != approximation.shape:
        raise ArgumentError(f"cannot compare arrays of shapes {reference.shape} and {approximation.shape}")
    x = reference.astype(np.float64, copy=False).ravel()
    y = approximation.astype(np.float64, copy=False).ravel()
    finite = np.isfinite(x) & np.isfinite(y)
    if not finite.all():
        x, y = x[finite], y[finite]
    signal = float(np.dot(x, x))
    difference = x - y
    noise = float(np.dot(difference, difference))
    peak = float(np.abs(x).max()) if x.size else 0.0
    return signal, noise, peak, int(x.size)


def _ratio_db(signal: float, noise: float) -> float:
    if noise == 0.0:
        return math.inf
    if signal == 0.0:
        return -math.inf
    return 10.0 * math.log10(signal / noise)


def sample_blocks(
    source: ArrayLike, blocks: int = 12, block_shape: Sequence[int] | None = None, seed: int = 0
) -> list[np.ndarray]:
    """Up to ``blocks`` blocks of ``block_shape`` (default: the source's chunks, else 64 per axis) at
    pseudo-random block-aligned positions spread over the volume, all-zero blocks (dead traces) skipped."""
    shape = tuple(int(n) for n in source.shape)
    if block_shape is None:
        chunks = getattr(source, "chunks", None)
        block_shape = tuple(chunks) if chunks else tuple(min(64, n) for n in shape)
    block = tuple(max(1, min(int(b), n)) for b, n in zip(block_shape, shape, strict=True))
    grid = [max(1, -(-n // b)) for n, b in zip(shape, block, strict=True)]
    total = math.prod(grid)
    rng = np.random.default_rng(seed)
    order = rng.permutation(total) if total <= 1_000_000 else rng.integers(0, total, 4 * blocks)
    out: list[np.ndarray] = []
    for flat in order[: 4 * blocks]:
        index = np.unravel_index(int(flat), grid)
        key = tuple(slice(i * b, min((i + 1) * b, n)) for i, b, n in zip(index, block, shape, strict=True))
        values = np.asarray(source[key])
        if values.size and np.any(values != 0):
            out.append(values)
        if len(out) == blocks:
            break
    return out


def choose_tolerance(
    source: ArrayLike | Sequence[np.ndarray],
    *,
    snr_db: float | None = None,
    psnr_db: float | None = None,
    blocks: int = 12,
    margin_db: float = 0.5,
    seed: int = 0,
) -> ToleranceChoice:
    """The largest ZFP fixed-accuracy tolerance whose SNR (or PSNR) over sampled blocks of ``source`` is at least
    the target plus ``margin_db``. ``source`` is an array, an accessor, or a list of blocks already sampled.

    ``sample_db`` of the result is the estimate for the whole volume: the sample's figure shifted by the volume's
    RMS (peak for PSNR) over the sample's, known from a NumPy array or an accessor's statistics."""
    if (snr_db is None) == (psnr_db is None):
        raise ArgumentError("give exactly one quality target: snr_db or psnr_db")
    metric: Metric = "snr" if snr_db is not None else "psnr"
    target = float(snr_db if snr_db is not None else psnr_db)  # type: ignore[arg-type]
    if not math.isfinite(target) or not 0 < target <= 200:
        raise ArgumentError(f"a quality target must be between 0 and 200 dB, got {target}")
    started = time.perf_counter()
    given = isinstance(source, list | tuple)
    sample = (
        list(cast(Sequence[np.ndarray], source)) if given else sample_blocks(cast(ArrayLike, source), blocks, seed=seed)
    )
    sample = [np.ascontiguousarray(np.nan_to_num(b, nan=0.0, posinf=0.0, neginf=0.0), dtype=np.float32) for b in sample]
    measure = _measure(metric)
    values = int(sum(b.size for b in sample))
    rms = math.sqrt(sum(float(np.dot(b.ravel().astype(np.float64), b.ravel())) for b in sample) / max(1, values))
    if rms == 0.0:  # nothing but zeros: every tolerance is exact
        return ToleranceChoice(
            1.0, metric, target, math.inf, math.inf, len(sample), values, time.perf_counter() - started
        )
    peak = max(float(np.abs(b).max()) for b in sample)
    # ZFP's noise hardly depends on the signal, so the sample's noise stands for the volume's, but its energy may
    # not: shift the sample's figure by the ratio of the volume's RMS (or peak) to the sample's when it is known.
    whole = None if isinstance(source, list | tuple) else whole_amplitude(source, metric)
    shift = 0.0 if not whole else 20 * math.log10(whole / (rms if metric == "snr" else peak))
    goal = target + margin_db - shift

    def quality(tolerance: float) -> tuple[float, float]:
        raw = packed = 0
        originals, decoded = [], []
        for b in sample:
            stream, restored = _roundtrip(b, tolerance)
            raw += b.nbytes
            packed += len(stream)
            originals.append(b.ravel())
            decoded.append(restored.ravel())
        return measure(np.concatenate(originals), np.concatenate(decoded)), raw / max(1, packed)

    # ZFP's fixed-accuracy mode uses the largest power of two not above the tolerance, so only powers of two
    # matter, and each doubling costs about 6 dB. Start from the RMS-based guess (the error is roughly uniform
    # within +-tolerance/2) and walk by powers of two to the largest one that meets the goal: 2-3 compressions of
    # the sample.
    seen: dict[int, tuple[float, float]] = {}

    def at(exponent: int) -> float:
        if exponent not in seen:
            seen[exponent] = quality(2.0**exponent)
        return seen[exponent][0]

    exponent = math.floor(math.log2(rms * 10 ** (-goal / 20) * math.sqrt(12)))
    if at(exponent) >= goal:
        while exponent < MAX_EXPONENT and at(exponent + 1) >= goal:
            exponent += 1
    else:
        while exponent > MIN_EXPONENT and at(exponent) < goal:
            exponent -= 1
    tolerance = 2.0**exponent
    achieved, ratio = seen.get(exponent) or quality(tolerance)
    return ToleranceChoice(
        tolerance, metric, target, achieved + shift, ratio, len(sample), values, time.perf_counter() - started
    )


def whole_amplitude(source: Any, metric: Metric) -> float | None:
    """The volume's RMS (``snr``) or peak absolute value (``psnr``): from an accessor's statistics without reading
    data, or computed over a NumPy array's finite values; None when unknown."""
    if isinstance(source, np.ndarray):
        finite = source[np.isfinite(source)] if not np.isfinite(source).all() else source
        if not finite.size:
            return None
        if metric == "psnr":
            return float(np.abs(finite).max())
        flat = finite.ravel().astype(np.float64)
        return math.sqrt(float(np.dot(flat, flat)) / flat.size)
    stats = getattr(source, "stats", None)
    if not isinstance(stats, dict):
        return None
    try:
        if metric == "psnr":
            return max(abs(float(stats["min"])), abs(float(stats["max"]))) or None
        value = float(stats["rms"])
    except (KeyError, TypeError, ValueError):
        return None
    return value if math.isfinite(value) and value > 0 else None


def _measure(metric: Metric) -> Any:
    return snr_db if metric == "snr" else psnr_db


def _roundtrip(block: np.ndarray, tolerance: float) -> tuple[bytes, np.ndarray]:
    import zfpy

    stream = zfpy.compress_numpy(block, tolerance=tolerance)
    return stream, zfpy.decompress_numpy(stream)
