"""segy_to_mdio's endian/sample_format overrides for mislabelled files (and the catalog passing them through)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import segyio

from mdio_catalog import MDIOReader, segy_to_mdio


def mislabelled_ieee_file(path: Path) -> np.ndarray:
    """An IEEE-float file whose binary header claims IBM (format 1): a common field mistake."""
    spec = segyio.spec()
    spec.format, spec.samples, spec.tracecount = 5, list(range(16)), 6
    data = np.random.default_rng(5).normal(size=(6, 16)).astype("float32")
    with segyio.create(str(path), spec) as f:
        for i in range(6):
            f.header[i] = {segyio.TraceField.INLINE_3D: 1 + i // 3, segyio.TraceField.CROSSLINE_3D: 1 + i % 3}
            f.trace[i] = data[i]
    raw = bytearray(path.read_bytes())
    raw[3224:3226] = (1).to_bytes(2, "big")
    path.write_bytes(bytes(raw))
    return data


def test_sample_format_override_decodes_what_the_header_mislabels(tmp_path: Path) -> None:
    data = mislabelled_ieee_file(tmp_path / "bad.sgy")
    segy_to_mdio(tmp_path / "bad.sgy", tmp_path / "as_ibm.mdio", (189, 193), ("inline", "crossline"))
    as_labelled = MDIOReader(str(tmp_path / "as_ibm.mdio"))[:].reshape(6, 16)
    assert not np.allclose(as_labelled, data)  # trusting the header gives garbage
    segy_to_mdio(tmp_path / "bad.sgy", tmp_path / "fixed.mdio", (189, 193), ("inline", "crossline"), sample_format=5)
    np.testing.assert_array_equal(MDIOReader(str(tmp_path / "fixed.mdio"))[:].reshape(6, 16), data)


def test_catalog_passes_the_source_overrides(tmp_path: Path) -> None:
    from mdio_catalog.catalog import Catalog

    data = mislabelled_ieee_file(tmp_path / "bad.sgy")
    (tmp_path / "catalog.yaml").write_text(
        "version: 1\nname: fix\nroot: out\ndatasets:\n  stack:\n    template: PostStack3DTime\n"
        "    source: {segy: bad.sgy, sample_format: 5}\n    chunks: [2, 3, 16]\n"
    )
    catalog = Catalog.from_file(tmp_path / "catalog.yaml")
    catalog.build()
    np.testing.assert_array_equal(catalog.open("stack")[:].reshape(6, 16), data)
    assert catalog.status()[0].state == "fresh"
