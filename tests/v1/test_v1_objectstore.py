"""v0 <-> v1 conversion and v1 reads on a local S3 server (moto): the same code path as local folders, through
fsspec. Oracle: numpy on the array written."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from mdio_catalog import MDIOReader, convert_mdio, numpy_to_mdio, open_dataset
from mdio_catalog.v1.reader import V1Reader

pytestmark = pytest.mark.objectstore


def test_convert_both_ways_and_read_v1_on_s3(s3_bucket: Any) -> None:
    options = s3_bucket.storage_options
    array = np.random.default_rng(3).normal(size=(9, 8, 40)).astype("float32")
    v0, v1, back = (s3_bucket.url(f"conv/{name}.mdio") for name in ("v0", "v1", "back"))
    numpy_to_mdio(array, v0, (4, 4, 16), index_names=["inline", "crossline", "time"], storage_options=options)
    report = convert_mdio(v0, v1, to="v1", storage_options_input=options, storage_options_output=options)
    assert (report.raw_chunks, report.reencoded_chunks) == (3 * 2 * 3, 0)
    assert s3_bucket.fs.exists(v1 + "/zarr.json")
    assert s3_bucket.fs.exists(v1 + "/amplitude/c/0/0/0")

    reader = MDIOReader(v1, storage_options=options)
    assert isinstance(reader, V1Reader)
    np.testing.assert_array_equal(reader[...], array)
    assert reader.trace_count == 72
    ds = open_dataset(v1, storage_options=options)
    np.testing.assert_array_equal(ds.amplitude.isel(crossline=5).values, array[:, 5])

    convert_mdio(v1, back, to="v0", storage_options_input=options, storage_options_output=options)
    again = MDIOReader(back, storage_options=options)
    assert not isinstance(again, V1Reader)
    np.testing.assert_array_equal(again[...], array)
    assert again.trace_count == 72
