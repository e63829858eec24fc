"""xarray views and MDIO v1: slice latency and v0 -> v1 conversion on the 400 x 400 x 1001 post-stack cube.

Measures, each case in a fresh interpreter (median of ``--repeat`` reads after a first one, reported apart):

* inline / crossline / time slice through ``open_dataset(...).amplitude.isel(...)`` (dask-backed, and with
  ``dask=False``: xarray's lazy indexing) vs ``MDIOReader[...]`` on our v0 store (64^3 chunks; bar: xarray <= 1.2 x
  MDIOReader);
* the same slices with multidimio 1.x's ``open_mdio`` (its venv) on the v1 store we convert from it (same chunks,
  same bytes), and with ours on that v1 store (bar: ours <= 0.7 x open_mdio);
* ``convert_mdio(v0, v1)``: seconds, MB/s of stored bytes and of samples, peak RSS of the process.

Run from the repository root::

    .venv/bin/python benchmarks/xarray_v1.py --json benchmarks/out/xarray_v1.json
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "benchmarks" / "out" / "xarray_v1"
SEGY = ROOT / "benchmarks" / "out" / "poststack_400x400x1001.sgy"
V0_CACHED = ROOT / "benchmarks" / "out" / "export_read" / "ours_poststack_c64.mdio"
V1_PYTHON = Path(os.environ.get("MDIO_CATALOG_INTEROP_VENV_V1", Path.home() / ".cache/mdio_catalog/interop-venv-v1"))

SLICES = {"inline": (0, 200), "crossline": (1, 200), "time": (2, 500)}

TIMER = """
import json, statistics, sys, time
def timed(fn, repeat):
    t0 = time.perf_counter(); fn(); first = time.perf_counter() - t0
    runs = []
    for _ in range(repeat):
        t0 = time.perf_counter(); fn(); runs.append(time.perf_counter() - t0)
    return {"first_s": first, "median_s": statistics.median(runs)}
"""

OURS = TIMER + """
import numpy as np
from mdio_catalog import MDIOReader, open_dataset
path, kind, axis, index, repeat = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
key = tuple([slice(None)] * axis + [index])
if kind == "reader":
    reader = MDIOReader(path)
    fn = lambda: reader[key]
else:
    ds = open_dataset(path, headers="none", cdp_coords=False, dask=kind == "xarray")
    dim = ds.amplitude.dims[axis]
    fn = lambda: ds.amplitude.isel({dim: index}).values
print(json.dumps(timed(fn, repeat)))
"""

THEIRS = TIMER + """
from mdio import open_mdio
path, axis, index, repeat = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
ds = open_mdio(path, chunks={})
dim = ds["amplitude"].dims[axis]
print(json.dumps(timed(lambda: ds["amplitude"].isel({dim: index}).values, repeat)))
"""

CONVERT = """
import json, resource, sys, time
from mdio_catalog import convert_mdio
t0 = time.perf_counter()
report = convert_mdio(sys.argv[1], sys.argv[2], to=sys.argv[3])
seconds = time.perf_counter() - t0
print(json.dumps({"seconds": seconds, "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                  **vars(report)}))
"""


def run(python: Path | str, code: str, *args: Any) -> dict[str, Any]:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    done = subprocess.run([str(python), "-c", textwrap.dedent(code), *map(str, args)], capture_output=True,
                          text=True, env=env, cwd=ROOT, check=False)  # fmt: skip
    if done.returncode != 0:
        raise RuntimeError(done.stderr[-3000:])
    return json.loads(done.stdout.strip().splitlines()[-1])


def tree_bytes(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()
    ours_py = ROOT / ".venv" / "bin" / "python"
    OUT.mkdir(parents=True, exist_ok=True)
    v0 = V0_CACHED
    if not v0.exists():
        v0 = OUT / "v0.mdio"
        if not v0.exists():
            code = "import sys; from mdio_catalog import segy_to_mdio; segy_to_mdio(sys.argv[1], sys.argv[2], [189, 193], ['inline', 'crossline'], chunksize=(64, 64, 64))"  # noqa: E501
            run(ours_py, code + "\nprint('{}')", SEGY, v0)
    v1 = OUT / "v1.mdio"
    if v1.exists():
        shutil.rmtree(v1)
    results: dict[str, Any] = {"v0_store": str(v0), "v0_bytes": tree_bytes(v0)}
    conv = run(ours_py, CONVERT, v0, v1, "v1")
    samples = 400 * 400 * 1001 * 4
    conv["stored_mb_s"] = results["v0_bytes"] / conv["seconds"] / 1e6
    conv["samples_mb_s"] = samples / conv["seconds"] / 1e6
    results["convert_v0_to_v1"] = conv
    print("convert v0 -> v1:", json.dumps(conv))
    slices: dict[str, Any] = {}
    for name, (axis, index) in SLICES.items():
        row = {
            "reader_v0": run(ours_py, OURS, v0, "reader", axis, index, args.repeat),
            "xarray_v0": run(ours_py, OURS, v0, "xarray", axis, index, args.repeat),
            "xarray_lazy_v0": run(ours_py, OURS, v0, "lazy", axis, index, args.repeat),
            "reader_v1": run(ours_py, OURS, v1, "reader", axis, index, args.repeat),
            "xarray_v1": run(ours_py, OURS, v1, "xarray", axis, index, args.repeat),
            "xarray_lazy_v1": run(ours_py, OURS, v1, "lazy", axis, index, args.repeat),
            "open_mdio_v1": run(V1_PYTHON / "bin" / "python", THEIRS, v1, axis, index, args.repeat),
        }
        row["xarray_over_reader"] = row["xarray_v0"]["median_s"] / row["reader_v0"]["median_s"]
        row["lazy_over_reader"] = row["xarray_lazy_v0"]["median_s"] / row["reader_v0"]["median_s"]
        row["lazy_v1_over_open_mdio"] = row["xarray_lazy_v1"]["median_s"] / row["open_mdio_v1"]["median_s"]
        row["xarray_v0_over_open_mdio"] = row["xarray_v0"]["median_s"] / row["open_mdio_v1"]["median_s"]
        row["xarray_v1_over_open_mdio"] = row["xarray_v1"]["median_s"] / row["open_mdio_v1"]["median_s"]
        slices[name] = row
        print(name, json.dumps({k: (v["median_s"] if isinstance(v, dict) else round(v, 3)) for k, v in row.items()}))
    results["slices"] = slices
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
    sys.exit(0)
