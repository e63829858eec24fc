"""Streaming summary statistics of trace samples, mergeable across chunks and workers.

The v0 layout keeps mean, std, rms, min and max over the non-zero samples (zero is the padding of dead traces).
Blocks are merged with Chan's parallel algorithm (count, mean, sum of squared deviations), so the standard
deviation stays accurate even when the mean is large compared to the spread, which the textbook
``sqrt(SS/N - mean^2)`` is not. An all-zero or empty dataset gets zeros instead of the reference's crash.

Non-finite samples (NaN, +-inf: a dead or clipped trace in a float SEG-Y) are skipped and counted apart
(``nonfinite``), so one NaN cannot turn every statistic into NaN, and the attributes stay strict JSON. The fast
path pays nothing for this: the sums of a block are finite exactly when its values are (or squares overflow,
which takes the same careful path), and only then are the finite values picked out.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import numpy.typing as npt


@dataclass
class SummaryStatistics:
    """Running count, mean, squared deviations, sum of squares, min and max; merge two with ``+``."""

    count: int = 0
    mean: float = 0.0
    deviations: float = 0.0  # sum of squared deviations from the mean (M2)
    total_squares: float = 0.0
    minimum: float = math.inf
    maximum: float = -math.inf
    nonfinite: int = 0  # NaN and +-inf samples, left out of everything above

    @classmethod
    def of(cls, values: npt.ArrayLike, nonzero_only: bool = True) -> SummaryStatistics:
        """Statistics of one block, accumulated in float64 through a small reused buffer (no block-sized copy).

        Zeros add nothing to sums, so with ``nonzero_only`` they are left in place and only subtracted from the
        count; the squared deviations come from the sums unless the mean is so large against the spread that
        the subtraction would cancel, and then from a second pass around the mean.
        """
        flat = np.asarray(values).reshape(-1)
        zeros = int(np.count_nonzero(flat == 0)) if nonzero_only else 0  # (== 0 is faster than count_nonzero)
        count = int(flat.size) - zeros
        if count == 0:
            return cls()
        with np.errstate(invalid="ignore", over="ignore"):  # inf - inf in a sum: handled just below
            total, total_squares = _sums(flat)
        if not (math.isfinite(total) and math.isfinite(total_squares)) and flat.dtype.kind in "fc":
            finite = np.isfinite(flat)
            nonfinite = int(flat.size - np.count_nonzero(finite))
            if nonfinite:  # rare: the block holds NaN or inf; its statistics are those of the finite values
                return replace(cls.of(flat[finite], nonzero_only), nonfinite=nonfinite)
        mean = total / count
        deviations = total_squares - count * mean * mean
        if deviations < _CANCELLATION * total_squares:
            deviations = _sums(flat, shift=mean)[1] - zeros * mean * mean
        low, high = flat.min(), flat.max()
        if zeros and (low == 0 or high == 0):
            nonzero = flat != 0
            ints = np.iinfo(flat.dtype) if flat.dtype.kind in "iu" else None  # exact integer samples: no inf
            low = flat.min(where=nonzero, initial=ints.max if ints else np.inf)
            high = flat.max(where=nonzero, initial=ints.min if ints else -np.inf)
        return cls(
            count=count,
            mean=mean,
            deviations=max(deviations, 0.0),
            total_squares=total_squares,
            minimum=float(low),
            maximum=float(high),
        )

    @property
    def total(self) -> float:
        return self.mean * self.count

    def __add__(self, other: SummaryStatistics) -> SummaryStatistics:
        if other.count == 0:
            return replace(self, nonfinite=self.nonfinite + other.nonfinite)
        if self.count == 0:
            return replace(other, nonfinite=self.nonfinite + other.nonfinite)
        count = self.count + other.count
        delta = other.mean - self.mean
        return SummaryStatistics(
            count=count,
            mean=self.mean + delta * other.count / count,
            deviations=self.deviations + other.deviations + delta * delta * self.count * other.count / count,
            total_squares=self.total_squares + other.total_squares,
            minimum=min(self.minimum, other.minimum),
            maximum=max(self.maximum, other.maximum),
            nonfinite=self.nonfinite + other.nonfinite,
        )

    def to_dict(self) -> dict[str, Any]:
        """The v0 ``mean``/``std``/``rms``/``min``/``max`` attributes (all zero when nothing was counted), finite
        always; plus ``nonfinite_count`` when samples were skipped (absent otherwise, as in the reference)."""
        extra = {ATTR_NONFINITE: self.nonfinite} if self.nonfinite else {}
        if self.count == 0:
            return {"mean": 0.0, "std": 0.0, "rms": 0.0, "min": 0.0, "max": 0.0, **extra}
        return {
            "mean": self.mean,
            "std": math.sqrt(max(self.deviations / self.count, 0.0)),
            "rms": math.sqrt(self.total_squares / self.count),
            "min": self.minimum,
            "max": self.maximum,
            **extra,
        }


#: Root attribute counting the NaN and +-inf samples the statistics skipped (written only when there are some).
ATTR_NONFINITE = "nonfinite_count"
#: Recompute squared deviations around the mean when they are below this fraction of the sum of squares.
_CANCELLATION = 1e-3
#: Elements converted to float64 at a time: big enough for numpy's speed, small enough to stay in cache.
_STEP = 1 << 16


def _sums(flat: npt.NDArray[Any], shift: float = 0.0) -> tuple[float, float]:
    """Sum and sum of squares of ``flat - shift`` in float64, a cache-sized slice at a time.

    Squares are summed by numpy (pairwise, single-threaded), not ``np.dot``: BLAS splits a dot product over its
    threads, so its rounding depends on the thread count (dask workers run BLAS on one thread), and the same data
    would get other statistics on a cluster than locally.
    """
    size = min(_STEP, flat.size)
    buffer = np.empty(size, dtype=np.float64)
    squared = np.empty(size, dtype=np.float64)
    total = 0.0
    squares = 0.0
    for start in range(0, flat.size, _STEP):
        part = buffer[: min(_STEP, flat.size - start)]
        np.copyto(part, flat[start : start + _STEP], casting="unsafe")
        if shift:
            part -= shift
        total += float(part.sum())
        square = squared[: part.size]
        np.multiply(part, part, out=square)
        squares += float(square.sum())
    return total, squares


def empty_stats() -> dict[str, float]:
    """Zeroed statistics, as written by ``create_empty``."""
    return SummaryStatistics().to_dict()
