"""Streaming summary statistics of trace samples, mergeable across chunks and workers.

The v0 layout keeps mean, std, rms, min and max over the non-zero samples (zero is the padding of dead traces).
An all-zero or empty dataset gets zeros instead of the reference's crash.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt


@dataclass
class SummaryStatistics:
    """Running count, sum, sum of squares, min and max; merge two with ``+``."""

    count: int = 0
    total: float = 0.0
    total_squares: float = 0.0
    minimum: float = math.inf
    maximum: float = -math.inf

    @classmethod
    def of(cls, values: npt.ArrayLike, nonzero_only: bool = True) -> SummaryStatistics:
        """Statistics of one block (float64 accumulation, so large volumes do not lose precision)."""
        block = np.asarray(values)
        block = block[block != 0] if nonzero_only else block.ravel()
        if block.size == 0:
            return cls()
        as64 = block.astype(np.float64, copy=False)
        return cls(
            count=int(as64.size),
            total=float(as64.sum()),
            total_squares=float(np.dot(as64, as64)),
            minimum=float(as64.min()),
            maximum=float(as64.max()),
        )

    def __add__(self, other: SummaryStatistics) -> SummaryStatistics:
        return SummaryStatistics(
            count=self.count + other.count,
            total=self.total + other.total,
            total_squares=self.total_squares + other.total_squares,
            minimum=min(self.minimum, other.minimum),
            maximum=max(self.maximum, other.maximum),
        )

    def to_dict(self) -> dict[str, Any]:
        """The v0 ``mean``/``std``/``rms``/``min``/``max`` attributes (all zero when nothing was counted)."""
        if self.count == 0:
            return {"mean": 0.0, "std": 0.0, "rms": 0.0, "min": 0.0, "max": 0.0}
        mean = self.total / self.count
        mean_square = self.total_squares / self.count
        return {
            "mean": mean,
            "std": math.sqrt(max(mean_square - mean * mean, 0.0)),
            "rms": math.sqrt(mean_square),
            "min": self.minimum,
            "max": self.maximum,
        }


def empty_stats() -> dict[str, float]:
    """Zeroed statistics, as written by ``create_empty``."""
    return SummaryStatistics().to_dict()
