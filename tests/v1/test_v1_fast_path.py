"""v1 arrays stored the way v1 writers store them are read on the v0 fast chunk path; oracle: zarr on the same
store, and numpy on the array written."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import zarr

from mdio_catalog import MDIOReader, convert_mdio, numpy_to_mdio
from mdio_catalog.v1.reader import V1Reader


def test_v1_reads_take_the_fast_path_and_equal_zarr(tmp_path: Path) -> None:
    rng = np.random.default_rng(5)
    array = rng.normal(size=(9, 11, 30)).astype(np.float32)
    numpy_to_mdio(array, str(tmp_path / "v0.mdio"), (4, 5, 16), index_names=["inline", "crossline", "time"])
    convert_mdio(tmp_path / "v0.mdio", tmp_path / "v1.mdio", to="v1")
    reader = MDIOReader(tmp_path / "v1.mdio")
    assert isinstance(reader, V1Reader)
    assert reader._chunk_reader is not None
    assert reader._header_reader is not None
    assert reader._live_reader is not None
    root = zarr.open_group(tmp_path / "v1.mdio", mode="r")
    for key in ((3,), (slice(None), 7), (Ellipsis, 17), (slice(2, 8), slice(1, 10), slice(5, 29))):
        np.testing.assert_array_equal(reader[key], root["amplitude"][key])
        np.testing.assert_array_equal(reader[key], array[key])
    live, headers, _ = MDIOReader(tmp_path / "v1.mdio", return_metadata=True)[2:5, :]
    np.testing.assert_array_equal(live, root["trace_mask"][2:5])
    np.testing.assert_array_equal(headers.tobytes(), root["headers"][2:5].tobytes())
    # a chunk never written reads as the array's fill value (NaN in v1), as zarr reads it
    (tmp_path / "v1.mdio" / "amplitude" / "c" / "0" / "0" / "0").unlink()
    again = MDIOReader(tmp_path / "v1.mdio")
    np.testing.assert_array_equal(again[0:4, 0:5, 0:16], root["amplitude"][0:4, 0:5, 0:16])
    assert np.isnan(again[0, 0, 0])
