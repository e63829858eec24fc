"""segy_to_mdio on the public SEG-Y files in ``<repo>/../shared/data/segy`` (MANIFEST.md, manifest.json).

Every SEG-Y file with a geometry (segyio's il/xl[/offset] cube, or the manifest's "cells by bytes" for the
unstructured ones) is ingested with the manifest's index bytes, then checked against segyio reading the same
file (traces, header words, text and binary headers) and against the manifest (coordinates, shape, live cells).
Where segyio cannot be the oracle (24-bit samples, unnormalised IBM words, rev 2.1 trace-header extensions), the
samples are checked against the manifest's checksums. Broken or non-SEG-Y files must raise clear errors.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import segyio

from mdio_catalog import MDIOReader
from mdio_catalog.converters.segy import segy_to_mdio
from mdio_catalog.exceptions import SegyFormatError, SegyTruncatedError
from tests.converters.segy_factory import V0_BINARY_FIELDS, V0_NAME_OF_BYTE, correct_segyio_ibm, ibm_words
from tests.converters.test_segy import check_grid, nonzero_stats

pytestmark = pytest.mark.realdata

#: ``<repo>/../shared/data/segy``, from this file's location (``<repo>/tests/converters/``).
SEGY_DATA = Path(__file__).resolve().parents[3] / "shared" / "data" / "segy"
MANIFEST: list[dict[str, Any]] = (
    json.loads((SEGY_DATA / "manifest.json").read_text()) if (SEGY_DATA / "manifest.json").is_file() else []
)
if not MANIFEST:
    pytest.skip(
        f"public SEG-Y test data not found at {SEGY_DATA} (expected <repo>/../shared/data/segy/manifest.json)",
        allow_module_level=True,
    )
BY_NAME = {e["dst"]: e for e in MANIFEST}


def geometry_of(entry: dict[str, Any]) -> tuple[tuple[int, ...], tuple[str, ...]] | None:
    """Index bytes and names from the manifest, or None for a file without a geometry."""
    expected = entry.get("expected", {})
    if entry["api"] != "segy" or entry["reader"] == "fail" or entry["raw"]["bin"]["format_3225"] == 4:
        return None
    if not expected.get("unstructured", True):
        kw = entry["kw"]
        if len(expected["offsets"]) > 1:
            return (kw["iline"], kw["xline"], 37), ("inline", "crossline", "offset")
        return (kw["iline"], kw["xline"]), ("inline", "crossline")
    if "cells" in expected:
        first, second = expected["cells"]["bytes"]
        names = ("inline", "crossline") if (first, second) == (189, 193) else ("field_record", "channel")
        return (first, second), names
    return None


GEOMETRY_FILES = [e["dst"] for e in MANIFEST if geometry_of(e) is not None]
#: segyio 1.9 reads these; the rest of the geometry files need the manifest's facts.
SEGYIO_ORACLE = [d for d in GEOMETRY_FILES if BY_NAME[d]["reader"] == "1.9"]
MANIFEST_ORACLE = [d for d in GEOMETRY_FILES if BY_NAME[d]["reader"] != "1.9"]


def segyio_e2a() -> dict[int, str]:
    """segyio's EBCDIC->ASCII table (it converts text headers on reading), learnt from a file holding all bytes."""
    import tempfile

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "table.sgy"
        spec = segyio.spec()
        spec.format, spec.samples, spec.tracecount = 5, [0], 1
        with segyio.create(str(path), spec) as f:
            f.trace[0] = np.zeros(1, np.float32)
        raw = bytearray(path.read_bytes())
        raw[:256] = bytes(range(256))
        path.write_bytes(bytes(raw))
        with segyio.open(str(path), ignore_geometry=True) as f:
            table = bytes(f.text[0])[:256]
    return {b: chr(table[b]) for b in range(256)}


E2A = segyio_e2a()


def expected_text(path: Path, entry: dict[str, Any]) -> tuple[list[str], np.ndarray]:
    """The 40 lines as segyio decodes them (raw ASCII for ASCII headers) and which characters to compare:
    segyio's EBCDIC table and code page 037 (what the reference uses) disagree on about 100 rarely used bytes,
    so characters coming from those bytes are not compared."""
    raw = path.read_bytes()[:3200]
    if entry["raw"]["text_encoding"] == "EBCDIC":
        with segyio.open(str(path), ignore_geometry=True, endian=entry["raw"]["endian"]) as f:
            text = bytes(f.text[0]).decode("latin-1")
        agree = np.array([E2A[b] == bytes([b]).decode("cp037") for b in raw])
    else:
        text = raw.decode("latin-1")
        agree = np.ones(3200, dtype=bool)
    return [text[i : i + 80] for i in range(0, 3200, 80)], agree


def ingest(entry: dict[str, Any], out: Path) -> tuple[tuple[int, ...], tuple[str, ...]]:
    geometry = geometry_of(entry)
    assert geometry is not None
    index_bytes, names = geometry
    segy_to_mdio(SEGY_DATA / entry["dst"], out, index_bytes=index_bytes, index_names=names)
    return index_bytes, names


def sample_axis(expected: dict[str, Any]) -> np.ndarray:
    return np.arange(expected["n_samples"]) * expected["dt_us_tools"] / 1000.0


@pytest.mark.parametrize("name", SEGYIO_ORACLE)
def test_ingest_matches_segyio(name: str, tmp_path: Path) -> None:
    entry = BY_NAME[name]
    expected = entry["expected"]
    path = SEGY_DATA / name
    out = tmp_path / "out.mdio"
    index_bytes, names = ingest(entry, out)
    words = sorted({*index_bytes, 37, 181, 185, 189, 193})
    with segyio.open(str(path), ignore_geometry=True, endian=entry["raw"]["endian"]) as f:
        traces = f.trace.raw[:]
        columns = {b: np.asarray(f.attributes(b)[:], dtype=np.int64) for b in words}
        binary = {key: int(f.bin[field]) for key, field in V0_BINARY_FIELDS.items()}
    traces = np.atleast_2d(traces)
    if entry["raw"]["bin"]["format_3225"] == 1:
        # segyio's fast IBM conversion is wrong for unnormalised words and sub-normal results: exact decode there
        words_ibm = ibm_words(path, expected["n_samples"], entry["raw"]["endian"], expected["ext_headers"])
        traces = correct_segyio_ibm(traces, words_ibm)
    # the manifest's checksum (segyio's own where it is right, the exact IBM decode where it is not)
    assert traces.astype(np.float64).sum() == pytest.approx(expected["data"]["sum"], rel=1e-6, abs=1e-12)
    reader, live, headers, data, index = check_grid(
        out, names, [columns[b] for b in index_bytes], traces, sample_axis(expected)
    )
    facts = expected["data"]
    assert float(data.astype(np.float64).sum()) == pytest.approx(facts["sum"], rel=1e-6, abs=1e-12)
    for key, value in nonzero_stats(traces).items():
        assert reader.stats[key] == pytest.approx(value, rel=1e-7, abs=1e-30), key

    # coordinates and shape from the manifest
    if "cells" in expected:
        cells = expected["cells"]
        assert reader.shape[:2] == (cells["n_keys1"], cells["n_keys2"])
        np.testing.assert_array_equal(reader.grid.dims[0].coords, cells["keys1"])
        occupied = {tuple(c) for c in cells["occupied"]}
        c0, c1 = reader.grid.dims[0].coords, reader.grid.dims[1].coords
        assert {(int(c0[i]), int(c1[j])) for i, j in np.argwhere(live)} == occupied
        assert int((~live).sum()) == cells["missing_cells"]
    else:
        il, xl, off, ns = expected["shape_il_xl_off_samples"]
        shape = (il, xl, off, ns) if len(names) == 3 else (il, xl, ns)
        assert reader.shape == shape
        np.testing.assert_array_equal(reader.grid.select_dim("inline").coords, sorted(expected["ilines"]))
        np.testing.assert_array_equal(reader.grid.select_dim("crossline").coords, sorted(expected["xlines"]))
        if len(names) == 3:
            np.testing.assert_array_equal(reader.grid.select_dim("offset").coords, sorted(expected["offsets"]))
        assert bool(live.all())
    assert reader.trace_count == expected["tracecount"]
    np.testing.assert_allclose(reader.grid.dims[-1].coords, sample_axis(expected), rtol=1e-12)

    # trace headers: stored words equal segyio's at each trace's cell
    cell = tuple(index.T)
    for byte in words:
        np.testing.assert_array_equal(headers[V0_NAME_OF_BYTE[byte]][cell], columns[byte], err_msg=f"byte {byte}")
    # text header: segyio's decoding (where its code page and cp037 agree), 40 x 80 characters
    lines, agree = expected_text(path, entry)
    assert len(reader.text_header) == 40
    stored = "".join(reader.text_header)
    assert len(stored) == 3200
    # the v0 attribute holds printable ASCII (what the reference's exporter can re-encode): others become spaces
    wanted = "".join(c if " " <= c <= "~" else " " for c in "".join(lines))
    mismatch = [i for i in np.flatnonzero(agree) if stored[i] != wanted[i]]
    assert mismatch == [], f"text differs at {mismatch[:10]}"
    # binary header: the v0 keys equal segyio's fields, revision bytes from the file
    for key, value in binary.items():
        assert reader.binary_header[key] == value, key
    raw = path.read_bytes()
    assert reader.binary_header["segy_revision_major"] == raw[3500]
    assert reader.binary_header["segy_revision_minor"] == raw[3501]


def test_24_bit_samples_match_the_manifest_and_the_int16_copy(tmp_path: Path) -> None:
    entry = BY_NAME["segyio/multiformats/Format7msb.sgy"]
    segy_to_mdio(SEGY_DATA / entry["dst"], tmp_path / "f7.mdio", (189, 193), ("inline", "crossline"))
    ingest(BY_NAME["segyio/f3.sgy"], tmp_path / "f3.mdio")
    live, headers, data = MDIOReader(str(tmp_path / "f7.mdio"), return_metadata=True)[...]
    facts = entry["expected"]
    assert data.shape == (23, 18, 75)
    assert bool(live.all())
    np.testing.assert_array_equal(MDIOReader(str(tmp_path / "f7.mdio")).grid.dims[0].coords, facts["ilines"])
    assert float(data.astype(np.float64).sum()) == facts["data"]["sum"]
    assert (float(data.min()), float(data.max())) == (facts["data"]["min"], facts["data"]["max"])
    np.testing.assert_array_equal(data[-1, -1, -3:], facts["data"]["last_trace_last3"])
    # same amplitudes as the int16 file, read by segyio
    with segyio.open(str(SEGY_DATA / "segyio/f3.sgy"), ignore_geometry=True) as f:
        int16 = f.trace.raw[:]
        il = f.attributes(189)[:]
        xl = f.attributes(193)[:]
    _, i = np.unique(il, return_inverse=True)
    _, j = np.unique(xl, return_inverse=True)
    np.testing.assert_array_equal(data[i, j], int16.astype(np.float32))
    np.testing.assert_array_equal(headers["crossline"][i, j], xl)
    assert MDIOReader(str(tmp_path / "f7.mdio")).binary_header["data_sample_format"] == 7


@pytest.mark.parametrize("name", MANIFEST_ORACLE)
def test_files_segyio_1_9_cannot_read_match_the_manifest(name: str, tmp_path: Path) -> None:
    entry = BY_NAME[name]
    facts = entry["expected"]
    ingest(entry, tmp_path / "o.mdio")
    reader = MDIOReader(str(tmp_path / "o.mdio"), return_metadata=True)
    live, _, data = reader[...]
    il, xl, _, ns = facts["shape_il_xl_off_samples"]
    assert reader.shape == (il, xl, ns)
    assert bool(live.all())
    assert reader.trace_count == facts["tracecount"]
    np.testing.assert_array_equal(reader.grid.dims[0].coords, facts["ilines"])
    np.testing.assert_array_equal(reader.grid.dims[1].coords, facts["xlines"])
    np.testing.assert_allclose(reader.grid.dims[-1].coords, sample_axis(facts), rtol=1e-12)
    assert float(data.astype(np.float64).sum()) == pytest.approx(facts["data"]["sum"], rel=1e-6)
    np.testing.assert_allclose(data[0, 0, :5], facts["data"]["first_trace_first5"][:ns], rtol=1e-6)
    np.testing.assert_allclose(data[-1, -1, -3:], facts["data"]["last_trace_last3"], rtol=1e-6)


def test_broken_file_raises_truncated(tmp_path: Path) -> None:
    broken = [e["dst"] for e in MANIFEST if e["reader"] == "fail"]
    assert broken
    for name in broken:
        with pytest.raises(SegyTruncatedError, match="truncated"):
            segy_to_mdio(SEGY_DATA / name, tmp_path / "b.mdio", (189, 193))
    assert list(tmp_path.iterdir()) == []


@pytest.mark.filterwarnings("ignore:Unknown trace value format 4")
def test_format_4_file_is_refused_clearly(tmp_path: Path) -> None:
    with pytest.raises(SegyFormatError, match="format 4"):
        segy_to_mdio(SEGY_DATA / "segyio/multiformats/Format4msb.sgy", tmp_path / "f4.mdio", (189, 193))
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("name", [e["dst"] for e in MANIFEST if e["api"] == "su"])
def test_seismic_unix_files_are_refused_clearly(name: str, tmp_path: Path) -> None:
    with pytest.raises(SegyFormatError, match="Seismic Unix"):
        segy_to_mdio(SEGY_DATA / name, tmp_path / "su.mdio", (5, 21))
    assert list(tmp_path.iterdir()) == []


def test_every_geometry_file_is_covered() -> None:
    assert len(GEOMETRY_FILES) >= 30
    assert {"segyio/viking_small.segy", "segyio/shot-gather.sgy", "seismic-zfp/small-irregular.sgy"} <= set(
        GEOMETRY_FILES
    )
    assert {"segyio/small-ps.sgy", "segyio/1xN.sgy"} <= set(GEOMETRY_FILES)
