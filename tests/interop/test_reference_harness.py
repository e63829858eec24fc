"""Checks that the interop harness itself works: the reference writes, the reference reads back.

The oracles are numpy (for numpy_to_mdio) and segyio (for segy_to_mdio); our own package is
not involved here.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

pytestmark = pytest.mark.interop

RunReference = Callable[..., Any]
ReadReference = Callable[..., dict[str, Any]]


def test_reference_numpy_roundtrip(
    run_reference: RunReference, read_with_reference: ReadReference, tmp_path: Path
) -> None:
    rng = np.random.default_rng(42)
    array = rng.normal(size=(6, 7, 11)).astype("float32")
    coords = {
        "inline": np.arange(100, 106),
        "crossline": np.arange(0, 70, 10),
        "sample": np.arange(11) * 4,
    }
    npz = tmp_path / "in.npz"
    payload: dict[str, Any] = {"array": array, "chunks": np.array([4, 4, 8]), "names": np.array(list(coords))}
    payload.update({f"coord_{name}": values for name, values in coords.items()})
    np.savez(npz, **payload)
    store = tmp_path / "ref_numpy.mdio"
    run_reference("write-numpy", "--out", store, "--npz", npz)

    for name in (
        ".zgroup",
        ".zattrs",
        ".zmetadata",
        "data/chunked_012/.zarray",
        "metadata/live_mask/.zarray",
    ):
        assert (store / name).is_file(), name

    dump = read_with_reference(store)
    info = dump["info"]
    np.testing.assert_array_equal(dump["traces"], array)
    assert dump["traces"].dtype == np.float32
    assert dump["live_mask"].shape == (6, 7)
    assert dump["live_mask"].all()
    for name, values in coords.items():
        np.testing.assert_array_equal(dump["coords"][name], values)
    assert info["dim_names"] == ["inline", "crossline", "sample"]
    assert info["shape"] == [6, 7, 11]
    assert info["chunks"] == [4, 4, 8]
    assert info["n_dim"] == 3
    assert info["trace_count"] == 0  # reference bug: numpy_to_mdio leaves trace_count at 0
    assert info["binary_header"] == {}
    assert info["text_header"] == [f"C{i:02d}" + " " * 77 for i in range(40)]
    assert info["root_attrs"]["api_version"] == "0.9.3"

    stats = info["stats"]
    assert set(stats) == {"mean", "std", "rms", "min", "max"}
    assert stats["min"] == pytest.approx(float(array.min()))
    assert stats["max"] == pytest.approx(float(array.max()))
    assert stats["mean"] == pytest.approx(float(array.mean(dtype="float64")), rel=1e-5, abs=1e-6)
    assert stats["std"] == pytest.approx(float(array.std(dtype="float64")), rel=1e-5)
    assert stats["rms"] == pytest.approx(float(np.sqrt(np.mean(array.astype("float64") ** 2))), rel=1e-5)

    headers = dump["headers"]
    assert headers.shape == (6, 7)
    assert headers.dtype.itemsize == 240
    assert headers.dtype.fields["inline"][1] == 188  # byte 189, zero-based offset
    assert headers.dtype.fields["crossline"][1] == 192
    assert headers.dtype.names[-1] == "unassigned"
    assert not headers.view(np.uint8).any()  # numpy_to_mdio writes no headers


def _write_segy(path: Path) -> tuple[np.ndarray, list[tuple[int, int]]]:
    """5 inlines x 4 crosslines x 20 samples, IBM floats, cell (14, 102) missing."""
    segyio = pytest.importorskip("segyio")
    ilines, xlines = [10, 12, 14, 16, 18], [100, 101, 102, 103]
    cells = [(il, xl) for il in ilines for xl in xlines if (il, xl) != (14, 102)]
    spec = segyio.spec()
    spec.format = 1
    spec.samples = list(range(20))
    spec.tracecount = len(cells)
    traces = np.stack([np.arange(20, dtype="float32") + il * 10 + xl * 0.5 for il, xl in cells])
    with segyio.create(str(path), spec) as f:
        f.bin.update(hdt=4000, hns=20, format=1)
        for i, (il, xl) in enumerate(cells):
            f.header[i] = {segyio.su.iline: il, segyio.su.xline: xl, segyio.su.ns: 20, segyio.su.dt: 4000}
            f.trace[i] = traces[i]
        f.text[0] = segyio.tools.create_text_header({1: "INTEROP HARNESS"})
    return traces, cells


def test_reference_segy_ingest_read_export(
    run_reference: RunReference, read_with_reference: ReadReference, tmp_path: Path
) -> None:
    segy_path = tmp_path / "in.sgy"
    traces, cells = _write_segy(segy_path)
    store = tmp_path / "ref_segy.mdio"
    run_reference(
        "ingest-segy", "--segy", segy_path, "--out", store,
        "--index-bytes", "189", "193", "--index-names", "inline", "crossline", "--chunks", "2", "2", "16",
    )  # fmt: skip

    dump = read_with_reference(store)
    info = dump["info"]
    ilines, xlines = list(dump["coords"]["inline"]), list(dump["coords"]["crossline"])
    assert ilines == [10, 12, 14, 16, 18]
    assert xlines == [100, 101, 102, 103]
    np.testing.assert_array_equal(dump["coords"]["sample"], np.arange(20) * 4)
    assert info["shape"] == [5, 4, 20]
    assert info["chunks"] == [2, 2, 16]
    assert info["trace_count"] == len(cells)

    expected = np.zeros((5, 4, 20), dtype="float32")
    expected_live = np.zeros((5, 4), dtype=bool)
    for trace, (il, xl) in zip(traces, cells, strict=True):
        expected[ilines.index(il), xlines.index(xl)] = trace
        expected_live[ilines.index(il), xlines.index(xl)] = True
    np.testing.assert_array_equal(dump["live_mask"], expected_live)
    np.testing.assert_allclose(dump["traces"], expected, rtol=1e-6)  # IBM -> IEEE
    np.testing.assert_array_equal(dump["headers"]["inline"][expected_live], [c[0] for c in cells])
    np.testing.assert_array_equal(dump["headers"]["crossline"][expected_live], [c[1] for c in cells])
    assert info["binary_header"]["sample_interval"] == 4000
    assert info["binary_header"]["data_sample_format"] == 1
    assert info["text_header"][0].startswith("C 1 INTEROP HARNESS")

    exported = tmp_path / "out.sgy"
    run_reference("export-segy", "--mdio", store, "--out", exported)
    assert exported.read_bytes() == segy_path.read_bytes()


def test_reference_tool_reports_errors(run_reference: RunReference, tmp_path: Path) -> None:
    args = ("read", "--mdio", tmp_path / "missing.mdio", "--out", tmp_path / "x.npz")
    with pytest.raises(RuntimeError, match="MDIONotFoundError"):
        run_reference(*args)
    proc = run_reference(*args, check=False)
    assert proc.returncode != 0
    assert "MDIO file not found or corrupt at" in proc.stderr
