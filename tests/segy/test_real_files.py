"""Every public SEG-Y test file (``<repo>/../shared/data/segy``) read and compared with segyio or the manifest.

Oracles: segyio 1.9.14 for samples and header words, except where segyio is known to be wrong or unable:
unnormalised IBM words (segyio's fast conversion mis-decodes them; compared with an exact fraction decode
instead), 24-bit formats (segyio cannot decode them; compared with the manifest's facts and with the int16
copy of the same data) and rev 2.1 trace-header extensions (segyio 1.9 refuses; compared with the manifest).
"""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import segyio

from mdio_catalog.exceptions import SegyFormatError, SegyTruncatedError
from mdio_catalog.segy.reader import SegyFile
from mdio_catalog.segy.trace_headers import STANDARD_FIELDS
from tests.segy.conftest import load_manifest

pytestmark = pytest.mark.realdata

MANIFEST = load_manifest()
BY_NAME = {entry["dst"]: entry for entry in MANIFEST}
TYPE_AT_BYTE = dict(STANDARD_FIELDS.values())

#: Files segyio 1.9.14 opens and we compare against it directly.
SEGYIO_FILES = [
    e["dst"] for e in MANIFEST if e["api"] == "segy" and e["reader"] == "1.9" and e["raw"]["bin"]["format_3225"] != 4
]

if not MANIFEST:
    pytest.skip(
        "public SEG-Y test data not found (expected <repo>/../shared/data/segy/manifest.json)",
        allow_module_level=True,
    )


def exact_ibm32(words: np.ndarray) -> np.ndarray:
    out = np.empty(words.shape, dtype=np.float32)
    for i, w in enumerate(words.reshape(-1).tolist()):
        value = (-1 if w >> 31 else 1) * Fraction(w & 0xFFFFFF, 1 << 24) * Fraction(16) ** (((w >> 24) & 0x7F) - 64)
        out.reshape(-1)[i] = np.float32(float(value))  # float64 holds it exactly: one rounding
    return out


def open_kwargs(entry: dict[str, Any]) -> dict[str, Any]:
    return {"ignore_geometry": True, "endian": entry["raw"]["endian"]}


@pytest.fixture(params=SEGYIO_FILES)
def entry(request: pytest.FixtureRequest, segy_data: Path) -> dict[str, Any]:
    return BY_NAME[request.param]


def test_against_segyio(entry: dict[str, Any], segy_data: Path) -> None:
    path = segy_data / entry["dst"]
    expected = entry["expected"]
    with segyio.open(str(path), **open_kwargs(entry)) as g:
        reference = g.trace.raw[:]
        words = {byte: g.attributes(byte)[:] for byte in map(int, expected["trace_header_ranges"])}
    with SegyFile(path) as f:
        assert f.endian == entry["raw"]["endian"]
        assert (f.n_traces, f.n_samples, f.sample_format) == (
            expected["tracecount"],
            expected["n_samples"],
            expected["format"],
        )
        assert len(f.layout.extended_text) == expected["ext_headers"]
        if entry["dst"] != "segyio/decrement.sgy":  # the manifest says its dt is not to be trusted
            assert f.sample_interval == expected["dt_us_tools"]
        native = f.read_traces(dtype=None)[1]
        samples = f.read_traces()[1]
        if f.sample_format == 1:
            raw = f.read_raw_traces()[:, 240:]
            ibm_words = raw.view(">u4" if f.endian == "big" else "<u4")
            # segyio's fast conversion is wrong for unnormalised words and for results below the float32
            # normal range; use the exact decode there
            unnormalised = ((ibm_words & 0x00F00000) == 0) & ((ibm_words & 0x00FFFFFF) != 0)
            tiny = (np.abs(samples) < np.finfo(np.float32).tiny) & ((ibm_words & 0x00FFFFFF) != 0)
            suspect = unnormalised | tiny
            reference = reference.copy()
            reference[suspect] = exact_ibm32(ibm_words[suspect])
        assert native.dtype == reference.dtype
        np.testing.assert_array_equal(native, reference)
        total = (
            float(samples.astype(np.float64).sum())
            if samples.dtype.kind == "f"
            else float(native.astype(np.float64).sum())
        )
        segyio_sum = float(g_sum(path, entry))
        assert np.isclose(total, expected["data"]["sum"], rtol=1e-6) or np.isclose(
            expected["data"]["sum"], segyio_sum, rtol=1e-9
        ), "differs from the manifest, which did not record segyio's own (mis-)decode either"
        specs = [(str(b), b, TYPE_AT_BYTE[b]) for b in words]
        cols = f.header_columns(specs)
        for byte, values in words.items():
            np.testing.assert_array_equal(cols[str(byte)], values, err_msg=f"byte {byte}")
            summary = expected["trace_header_ranges"][str(byte)]
            assert (int(cols[str(byte)].min()), int(cols[str(byte)].max())) == (summary["min"], summary["max"])
        encoding = entry["raw"]["text_encoding"]
        if encoding in ("EBCDIC", "ASCII"):
            assert f.text_encoding == encoding.lower()
            first_line = entry["raw"]["text"].replace("\\0", "\x00").rstrip()
            assert f.text_header[0].rstrip(" ").startswith(first_line)


def g_sum(path: Path, entry: dict[str, Any]) -> float:
    with segyio.open(str(path), **open_kwargs(entry)) as g:
        return float(g.trace.raw[:].astype(np.float64).sum())


def test_unnormalised_ibm_decoded_exactly(segy_data: Path) -> None:
    with SegyFile(segy_data / "oneseismic/small-iline-5-xline-21.sgy") as f:
        total = float(f.read_traces()[1].astype(np.float64).sum())
    facts = BY_NAME["oneseismic/small-iline-5-xline-21.sgy"]["expected"]["data"]
    assert total == pytest.approx(facts["sum"], rel=1e-9)  # 394.579..., where segyio says 395.509
    # the obspy trace has unnormalised words too; the manifest recorded segyio's value there
    with SegyFile(segy_data / "obspy/00001034.sgy_first_trace") as f:
        samples = f.read_traces()[1]
        words = f.read_raw_traces()[:, 240:].view("<u4")
    np.testing.assert_array_equal(samples, exact_ibm32(words))
    assert int((((words & 0x00F00000) == 0) & (words != 0)).sum()) == 178


def test_24_bit_samples(segy_data: Path) -> None:
    facts = BY_NAME["segyio/multiformats/Format7msb.sgy"]["expected"]["data"]
    with (
        SegyFile(segy_data / "segyio/multiformats/Format7msb.sgy") as f24,
        SegyFile(segy_data / "segyio/f3.sgy") as f16,
    ):
        assert (f24.sample_format, f24.format_info.itemsize, f24.trace_size) == (7, 3, 240 + 75 * 3)
        native = f24.read_traces(dtype=None)[1]
        assert native.dtype == np.int32
        assert (int(native.sum()), int(native.min()), int(native.max())) == (facts["sum"], facts["min"], facts["max"])
        np.testing.assert_array_equal(native, f16.read_traces(dtype=None)[1])
        np.testing.assert_array_equal(
            f24.header_columns(["inline"])["inline"], f16.header_columns(["inline"])["inline"]
        )


@pytest.mark.filterwarnings("ignore:Unknown trace value format 4")
def test_format_4_is_refused_unless_told(segy_data: Path) -> None:
    path = segy_data / "segyio/multiformats/Format4msb.sgy"
    with pytest.raises(SegyFormatError, match="sample_format="):
        SegyFile(path)
    # the manifest calls the samples IBM floats, but they are IEEE floats: segyio 1.9.14 "falls back" by
    # not converting at all, which reads them as IEEE
    with SegyFile(path, sample_format=5) as f, SegyFile(segy_data / "segyio/multiformats/Format5msb.sgy") as ieee:
        assert f.read_traces()[1].sum(dtype=np.float64) == 780251
        np.testing.assert_array_equal(f.read_traces()[1], ieee.read_traces()[1])
        assert any("sample format 5 (float32) given; the binary header says 4" in n for n in f.notes)
    with segyio.open(str(path), ignore_geometry=True) as g, SegyFile(path, sample_format=5) as f:
        np.testing.assert_array_equal(f.read_traces()[1], g.trace.raw[:])


def test_trace_header_extension(segy_data: Path) -> None:
    entry = BY_NAME["segyio/trace-header-extension1.sgy"]["expected"]
    with (
        SegyFile(segy_data / "segyio/trace-header-extension1.sgy") as f,
        SegyFile(segy_data / "segyio/tiny.sgy") as tiny,
    ):
        assert (f.layout.extra_trace_headers, f.trace_size) == (1, 480 + 16)
        assert (f.n_traces, f.n_samples) == (entry["tracecount"], entry["n_samples"])
        samples = f.read_traces()[1]
        assert samples.sum(dtype=np.float64) == pytest.approx(entry["data"]["sum"], rel=1e-9)
        np.testing.assert_array_equal(samples, tiny.read_traces()[1])
        cols = f.header_columns(["inline", "crossline"])
        assert sorted(set(cols["inline"].tolist())) == entry["ilines"]
        assert sorted(set(cols["crossline"].tolist())) == entry["xlines"]


def test_extended_text_headers(segy_data: Path) -> None:
    with SegyFile(segy_data / "segyio/stanzas-known-count.sgy") as f:
        assert f.data_offset == 3600 + 3 * 3200
        first_lines = [block[0] for block in f.extended_text_headers]
        assert first_lines[0].startswith("((SEGYIO:TEST ASCII")
        assert first_lines[1].startswith("((SEGYIO:Test EBCDIC data))")
        assert first_lines[2].startswith("((SEGYIO: test ASCII data))")
        assert len(f.raw_file_header) == f.data_offset
    with SegyFile(segy_data / "segyio/multi-text.sgy") as f:
        assert [block[0].rstrip() for block in f.extended_text_headers] == ["C 1 DATE 2018-09-10"] * 4


def test_odd_headers(segy_data: Path) -> None:
    with SegyFile(segy_data / "segyio/long.sgy") as f:
        assert f.n_samples == 60000  # unsigned 16-bit count
    with SegyFile(segy_data / "segyio/viking_small.segy") as f:
        assert f.n_samples == 600  # the binary header is right, every trace header says 1500
        assert any("1500" in note for note in f.notes)
    with SegyFile(segy_data / "segyio/decrement.sgy") as f:
        assert (f.n_traces, f.n_samples) == (5, 4)  # rev 2 extended count wins over 65527
        assert f.text_header == ["\x00" * 80] * 40
        ranges = BY_NAME["segyio/decrement.sgy"]["expected"]["trace_header_ranges"]
        cols = f.header_columns([(b, int(b), TYPE_AT_BYTE[int(b)]) for b in ranges])
        for byte, summary in ranges.items():
            assert sorted(set(cols[byte].tolist())) == summary["values"], byte
    with SegyFile(segy_data / "obspy/1.sgy_first_trace") as f:
        assert f.text_encoding == "ascii"


def test_broken_and_foreign_files_fail_clearly(segy_data: Path) -> None:
    with pytest.raises(SegyTruncatedError, match=r"file size 10836 bytes .* 3 traces \+ 68 bytes"):
        SegyFile(segy_data / "segyio/broken.sgy")
    for su in ("segyio/small.su", "segyio/small-lsb.su"):
        with pytest.raises(SegyFormatError, match="Seismic Unix"):
            SegyFile(segy_data / su)
