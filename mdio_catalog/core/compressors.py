"""The compressors of the MDIO v0 layout: Blosc/zstd for lossless, ZFP fixed-accuracy for lossy."""

from __future__ import annotations

from numcodecs import Blosc
from numcodecs.abc import Codec

from mdio_catalog.exceptions import MDIOError


def lossless_compressor() -> Codec:
    """Blosc with zstd level 5 and byte shuffle: the reference's choice, kept for compatible output."""
    return Blosc(cname="zstd", clevel=5, shuffle=Blosc.SHUFFLE)


def lossy_compressor(tolerance: float) -> Codec:
    """ZFP in fixed-accuracy mode: absolute error bounded by ``tolerance``."""
    if not tolerance > 0:
        raise ValueError(f"compression_tolerance must be positive, got {tolerance}.")
    try:
        import zfpy
        from numcodecs.zfpy import ZFPY
    except ImportError as exc:  # pragma: no cover - zfpy is a hard dependency
        raise MDIOError(f"Lossy compression needs zfpy 1.0.1 (not 1.0.1.post0): {exc}") from exc
    return ZFPY(mode=zfpy.mode_fixed_accuracy, tolerance=tolerance)


def trace_compressor(lossless: bool, compression_tolerance: float) -> Codec:
    """The compressor for trace data given the converters' ``lossless``/``compression_tolerance`` pair."""
    return lossless_compressor() if lossless else lossy_compressor(compression_tolerance)
