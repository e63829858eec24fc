"""Non-finite and degenerate data (issue 15, item 4), through the library and the console script.

Oracles: numpy over the samples segyio reads from the same SEG-Y file (statistics over the finite non-zero
values, the count of NaN/inf), and ``json.loads`` with a ``parse_constant`` that refuses NaN and Infinity (every
JSON text we write: Zarr metadata, ``--json`` outputs).
"""

from __future__ import annotations

import json
import math
import os
from pathlib import Path

import numpy as np
import pytest
import segyio

from mdio_catalog.api.accessor import MDIOReader, MDIOWriter
from mdio_catalog.converters.segy import segy_to_mdio
from mdio_catalog.core.statistics import ATTR_NONFINITE, SummaryStatistics
from mdio_catalog.exceptions import SegyEmptyError, SerializationError
from tests.data.bad.degenerate import nonfinite_amplitudes
from tests.data.bad.make_corpus import write_segy
from tests.reliability.clirun import assert_one_line_error, cli, strict_loads

KINDS = ("one-nan", "all-nan", "all-inf", "mixed")
DATASET = "    template: PostStack3DTime\n    source: {{segy: data/{name}.sgy}}\n    chunks: [4, 4, 8]\n"


def segyio_samples(path: Path) -> np.ndarray:
    with segyio.open(path, ignore_geometry=True) as f:
        return np.stack([np.asarray(t, dtype=np.float64) for t in f.trace])


def expected_stats(samples: np.ndarray) -> dict[str, float]:
    finite = samples[np.isfinite(samples) & (samples != 0)]
    if finite.size == 0:
        return {"mean": 0.0, "std": 0.0, "rms": 0.0, "min": 0.0, "max": 0.0}
    return {
        "mean": float(finite.mean()),
        "std": float(finite.std()),
        "rms": float(np.sqrt(np.mean(finite**2))),
        "min": float(finite.min()),
        "max": float(finite.max()),
    }


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A catalog of four datasets with NaN/inf samples, built by the console script."""
    folder = tmp_path_factory.mktemp("nonfinite")
    (folder / "data").mkdir()
    for kind in KINDS:
        write_segy(folder / "data" / f"{kind}.sgy", amplitudes=nonfinite_amplitudes(kind))
    body = "".join(f"  {kind}:\n" + DATASET.format(name=kind) for kind in KINDS)
    (folder / "catalog.yaml").write_text(f"version: 1\nname: nonfinite\nroot: out\ndatasets:\n{body}")
    code, out, err = cli("build", cwd=folder)
    assert code == 0, (out, err)
    return folder


def test_statistics_skip_and_count_nonfinite_values() -> None:
    """Blocks with NaN/inf at random places, merged in any grouping: numpy over the finite non-zero values."""
    rng = np.random.default_rng(7)
    tried = 0
    for trial in range(40):
        values = (rng.standard_normal(5000) * 10 + (1e4 if trial % 2 else 0)).astype(np.float32)
        bad = rng.choice(values.size, size=int(rng.integers(0, 300)), replace=False)
        values[bad] = rng.choice([np.nan, np.inf, -np.inf], size=bad.size)
        values[rng.choice(values.size, 50, replace=False)] = 0
        cuts = np.sort(rng.choice(np.arange(1, values.size), size=int(rng.integers(0, 8)), replace=False))
        merged = SummaryStatistics()
        for block in np.split(values, cuts):
            merged = merged + SummaryStatistics.of(block)
        for stats in (SummaryStatistics.of(values), merged):
            got = stats.to_dict()
            want = expected_stats(values.astype(np.float64))
            assert all(math.isfinite(v) for v in got.values())
            for key, value in want.items():
                assert got[key] == pytest.approx(value, rel=1e-9, abs=1e-9), (trial, key)
            nonfinite = int(np.count_nonzero(~np.isfinite(values)))
            assert stats.nonfinite == nonfinite
            assert got.get(ATTR_NONFINITE, 0) == nonfinite
        tried += 1
    assert tried == 40


@pytest.mark.parametrize("kind", KINDS)
def test_a_build_with_nonfinite_samples_succeeds_with_finite_statistics(built: Path, kind: str) -> None:
    samples = segyio_samples(built / "data" / f"{kind}.sgy")
    reader = MDIOReader(built / "out" / f"{kind}.mdio")
    assert reader.stats == pytest.approx(expected_stats(samples), rel=1e-6, abs=1e-9)
    assert reader.root.attrs.get(ATTR_NONFINITE) == int(np.count_nonzero(~np.isfinite(samples)))
    stored = np.asarray(reader[:]).reshape(samples.shape)  # the samples themselves are kept as they were
    assert np.array_equal(stored, samples.astype(np.float32), equal_nan=True)


def test_every_stored_json_file_is_strict(built: Path) -> None:
    checked = 0
    for folder, _dirs, files in os.walk(built / "out"):
        for name in files:
            if name in (".zattrs", ".zarray", ".zgroup", ".zmetadata"):
                strict_loads(Path(folder, name).read_text())
                checked += 1
    assert checked >= 4 * 6
    locks = [p for p in built.rglob("catalog.lock*") if p.is_file()] + list(built.glob("catalog.lock*/*"))
    assert locks  # the lock (one file, or one entry per dataset): strict JSON, or YAML without .nan/.inf
    for lock in locks:
        text = lock.read_text()
        if lock.suffix == ".json":
            strict_loads(text)
        assert ".nan" not in text.lower()
        assert ".inf" not in text.lower()


def test_every_json_output_is_strict(built: Path) -> None:
    outputs = [("list", "--json"), ("status", "--json")]
    outputs += [("info", f"out/{kind}.mdio", "--json") for kind in KINDS]
    outputs += [("show", kind, "--json") for kind in KINDS]
    for args in outputs:
        code, out, err = cli(*args, cwd=built)
        assert code == 0, (args, err)
        strict_loads(out)
    info = strict_loads(cli("info", "out/mixed.mdio", "--json", cwd=built)[1])
    assert info["nonfinite_count"] == 4  # two NaN, +inf, -inf (the zero is padding, counted nowhere)


def test_old_nan_statistics_open_and_print_as_null(built: Path, tmp_path: Path) -> None:
    """A dataset written before this fix (NaN/Infinity in its attributes) still opens; --json shows null."""
    import shutil

    old = tmp_path / "old.mdio"
    shutil.copytree(built / "out" / "all-nan.mdio", old)
    for name in (".zattrs", ".zmetadata"):
        text = (old / name).read_text()
        assert '"mean": 0.0' in text
        (old / name).write_text(text.replace('"mean": 0.0', '"mean": NaN').replace('"std": 0.0', '"std": Infinity'))
    code, out, err = cli("info", str(old), "--json", cwd=tmp_path)
    assert code == 0, err
    stats = strict_loads(out)["stats"]
    assert stats["mean"] is None
    assert stats["std"] is None
    assert stats["rms"] == 0.0


def test_attributes_refuse_nonfinite_values(built: Path, tmp_path: Path) -> None:
    import shutil

    target = tmp_path / "w.mdio"
    shutil.copytree(built / "out" / "one-nan.mdio", target)
    before = (target / ".zattrs").read_text()
    writer = MDIOWriter(target)
    with pytest.raises(SerializationError, match="non-finite"):
        writer.stats = {"mean": float("nan")}
    with pytest.raises(SerializationError, match=r"at x\[1\]"):
        writer.set_root_attributes({"x": [1.0, float("inf")]})
    assert (target / ".zattrs").read_text() == before


def test_a_segy_without_traces_is_refused_everywhere(tmp_path: Path) -> None:
    """Refused at ingest (API, segy ingest, catalog build) with a typed one-line error; nothing is written."""
    (tmp_path / "data").mkdir()
    empty = tmp_path / "data" / "empty.sgy"
    write_segy(empty, inlines=range(0), crosslines=range(0))
    assert empty.stat().st_size == 3600  # textual + binary header, no trace (segyio cannot open it either)
    with pytest.raises(SegyEmptyError, match="no traces"):
        segy_to_mdio(empty, tmp_path / "api.mdio", [189, 193], ["inline", "crossline"])
    assert not (tmp_path / "api.mdio").exists()
    args = ("segy", "ingest", "data/empty.sgy", "cli.mdio", "-i", "inline:189", "-i", "crossline:193")
    assert_one_line_error(*cli(*args, cwd=tmp_path), "no traces")
    (tmp_path / "catalog.yaml").write_text(
        "version: 1\nname: e\nroot: out\ndatasets:\n  empty:\n" + DATASET.format(name="empty")
    )
    assert_one_line_error(*cli("build", cwd=tmp_path), "no traces")
    assert not (tmp_path / "out" / "empty.mdio").exists()
    assert not (tmp_path / "cli.mdio").exists()
    lock = tmp_path / "catalog.lock"
    assert not lock.exists() or "empty" not in lock.read_text()
    for args in (("info", "cli.mdio"), ("rechunk", "cli.mdio", "--chunks", "1,1,8", "--suffix", "x")):
        assert_one_line_error(*cli(*args, cwd=tmp_path), "cli.mdio")


def test_a_zero_sample_interval_warns_and_numbers_the_samples(tmp_path: Path) -> None:
    source = tmp_path / "dt0.sgy"
    write_segy(source, interval=0)
    with segyio.open(source, ignore_geometry=True) as f:
        assert segyio.tools.dt(f, fallback_dt=0) == 0
    with pytest.warns(UserWarning, match="sample interval of 0"):
        segy_to_mdio(source, tmp_path / "api.mdio", [189, 193], ["inline", "crossline"])
    samples = MDIOReader(tmp_path / "api.mdio").grid.select_dim("sample").values
    assert samples.tolist() == list(range(8))  # unique labels, not eight zeros
    code, _out, err = cli(
        "segy", "ingest", "dt0.sgy", "cli.mdio", "-i", "inline:189", "-i", "crossline:193", cwd=tmp_path
    )
    assert code == 0, err
    warnings = [line for line in err.splitlines() if line.startswith("warning: ")]
    assert len(warnings) == 1, err
    assert "sample interval of 0" in warnings[0]
    assert "UserWarning" not in err
    assert "warnings.warn" not in err


def test_a_rechunk_of_a_nan_dataset_keeps_the_nans(built: Path, tmp_path: Path) -> None:
    import shutil

    target = tmp_path / "r.mdio"
    shutil.copytree(built / "out" / "mixed.mdio", target)
    code, _out, err = cli("rechunk", str(target), "--chunks", "1,5,8", "--suffix", "fast_il", cwd=tmp_path)
    assert code == 0, err
    original = np.asarray(MDIOReader(target)[:])
    assert np.array_equal(np.asarray(MDIOReader(target, access_pattern="fast_il")[:]), original, equal_nan=True)
    strict_loads((target / ".zmetadata").read_text())
    assert json.loads((target / ".zattrs").read_text())[ATTR_NONFINITE] == 4


def test_a_valid_empty_source_still_validates_and_builds(tmp_path: Path) -> None:
    """The control for the refused ``empty:`` sources of the corpus (tests/data/bad/degenerate.py)."""
    dims = "[{name: inline, coords: [3, 1, 2]}, {name: crossline, start: 0.5, step: 0.25, count: 4}, "
    dims += "{name: sample, start: 0, step: 4, count: 8}]"
    (tmp_path / "catalog.yaml").write_text(
        "version: 1\nname: e\nroot: out\ndatasets:\n  e:\n    template: PostStack3DTime\n"
        f"    source:\n      empty: {dims}\n"
    )
    code, _out, err = cli("build", cwd=tmp_path)
    assert code == 0, err
    grid = MDIOReader(tmp_path / "out" / "e.mdio").grid
    assert grid.shape == (3, 4, 8)
    assert grid.select_dim("crossline").values.tolist() == [0.5, 0.75, 1.0, 1.25]


def test_non_finite_coordinates_are_refused_before_anything_is_written(tmp_path: Path) -> None:
    """A float index header holding NaN (SEG-Y) or NaN index coordinates (numpy) would make a dimension no strict
    JSON parser reads and no label finds: refused with a typed error naming the index, nothing written."""
    import struct

    from mdio_catalog.converters.numpy import numpy_to_mdio
    from mdio_catalog.exceptions import HeaderFieldError, ShapeError

    source = tmp_path / "f.sgy"
    write_segy(source)
    data = bytearray(source.read_bytes())
    for trace in range(20):  # inline as float32 at byte 189; the first trace's is NaN
        offset = 3600 + trace * (240 + 8 * 4) + 188
        inline = struct.unpack_from(">i", data, offset)[0]
        struct.pack_into(">f", data, offset, float("nan") if trace == 0 else float(inline))
    source.write_bytes(bytes(data))
    with segyio.open(source, ignore_geometry=True) as f:  # the oracle: segyio sees the NaN bits at byte 189
        raw = struct.unpack(">f", struct.pack(">i", f.header[0][segyio.TraceField.INLINE_3D]))[0]
    assert math.isnan(raw)
    with pytest.raises(HeaderFieldError, match="'inline' is not a finite number in 1 trace"):
        segy_to_mdio(source, tmp_path / "a.mdio", [189, 193], ["inline", "crossline"], index_types=["float32", "int32"])
    args = ("segy", "ingest", "f.sgy", "c.mdio", "-i", "inline:189:float32", "-i", "crossline:193")
    assert_one_line_error(*cli(*args, cwd=tmp_path), "not a finite number")
    coords = {"x": np.array([1.0, np.nan, 3.0]), "sample": np.arange(4)}
    with pytest.raises(ShapeError, match="finite"):
        numpy_to_mdio(np.ones((3, 4), np.float32), str(tmp_path / "n.mdio"), (3, 4), ["x", "sample"], coords)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["f.sgy"]


def test_a_dataset_without_traces_from_elsewhere_is_handled_by_every_command(tmp_path: Path) -> None:
    """We refuse to make one, but another tool may have (0 x 0 x 8): info, rechunk, plot and copy handle it, and
    export says there is nothing to export, each as a real process."""
    from mdio_catalog.core.dimension import Dimension
    from mdio_catalog.core.factory import MDIOCreateConfig, MDIOVariableConfig, create_empty
    from mdio_catalog.core.grid import Grid

    none = np.array([], dtype=np.int64)
    grid = Grid([Dimension(none, "inline"), Dimension(none, "crossline"), Dimension(np.arange(8) * 4, "sample")])
    variable = MDIOVariableConfig(name="chunked_012", dtype="float32", chunks=(4, 4, 8))
    create_empty(MDIOCreateConfig(path=str(tmp_path / "z.mdio"), grid=grid, variables=[variable]))
    code, out, err = cli("info", "z.mdio", "--json", cwd=tmp_path)
    assert code == 0, err
    info = strict_loads(out)
    assert info["shape"] == [0, 0, 8]
    assert info["dimensions"][0] == {"name": "inline", "size": 0, "min": None, "max": None}
    for args in (
        ("rechunk", "z.mdio", "--chunks", "1,1,8", "--suffix", "fast_il"),
        ("plot", "z.mdio", "--live-mask", "-o", "m.png"),
        ("plot", "z.mdio", "--sample", "4", "-o", "s.png"),
        ("copy", "z.mdio", "c.mdio"),
    ):
        code, _out, err = cli(*args, cwd=tmp_path)
        assert code == 0, (args, err)
    assert MDIOReader(tmp_path / "z.mdio", access_pattern="fast_il").shape == (0, 0, 8)
    assert MDIOReader(tmp_path / "c.mdio").shape == (0, 0, 8)
    assert_one_line_error(*cli("export", "z.mdio", "z.sgy", cwd=tmp_path), "Nothing to export")
    assert not (tmp_path / "z.sgy").exists()
