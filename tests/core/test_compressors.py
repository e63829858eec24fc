"""Compressors: the Blosc/zstd settings of the v0 layout and ZFP fixed accuracy."""

from __future__ import annotations

import numpy as np
import pytest
import zfpy
from numcodecs import Blosc

from mdio_catalog.core.compressors import lossless_compressor, lossy_compressor, trace_compressor


def test_lossless_is_blosc_zstd_5_shuffle():
    config = lossless_compressor().get_config()
    assert config["id"] == "blosc"
    assert config["cname"] == "zstd"
    assert config["clevel"] == 5
    assert config["shuffle"] == Blosc.SHUFFLE == 1


def test_lossless_round_trip_is_exact():
    data = np.random.default_rng(0).normal(size=(16, 16, 32)).astype("<f4")
    codec = lossless_compressor()
    decoded = np.frombuffer(codec.decode(codec.encode(data)), dtype="<f4").reshape(data.shape)
    np.testing.assert_array_equal(decoded, data)


@pytest.mark.parametrize("tolerance", [0.5, 0.01])
def test_lossy_is_zfp_fixed_accuracy_within_tolerance(tolerance):
    codec = lossy_compressor(tolerance)
    config = codec.get_config()
    assert config["id"] == "zfpy"
    assert config["mode"] == zfpy.mode_fixed_accuracy
    assert config["tolerance"] == tolerance
    data = np.random.default_rng(1).normal(scale=3.0, size=(8, 16, 64)).astype(np.float32)
    decoded = np.asarray(codec.decode(codec.encode(data))).reshape(data.shape)
    assert np.max(np.abs(decoded - data)) <= tolerance
    assert not np.array_equal(decoded, data)  # it is lossy


@pytest.mark.parametrize("tolerance", [0.0, -0.1, float("nan")])
def test_lossy_rejects_non_positive_tolerance(tolerance):
    with pytest.raises(ValueError, match="positive"):
        lossy_compressor(tolerance)


def test_trace_compressor_picks_by_lossless_flag():
    assert trace_compressor(True, 0.01).get_config()["id"] == "blosc"
    lossy = trace_compressor(False, 0.25).get_config()
    assert lossy["id"] == "zfpy"
    assert lossy["tolerance"] == 0.25
