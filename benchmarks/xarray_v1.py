"""xarray views and MDIO v1: slice latency and v0 -> v1 conversion on the 400 x 400 x 1001 post-stack cube.

Measures, each case in a fresh interpreter (median of ``--repeat`` reads after a first one, reported apart), every
case once per round and ``--rounds`` rounds interleaved (so load from elsewhere hits all cases alike; the figure of
a case is the median over rounds):

* inline / crossline / time slice selected by label, ``ds.amplitude.sel({dim: label}).values``, through
  ``open_dataset`` (dask-backed, and with ``dask=False``: xarray's lazy indexing) vs ``MDIOReader[...]`` on our v0
  store (64^3 chunks; bar: xarray <= 1.2 x MDIOReader);
* the same selections on the v1 store multidimio 1.x writes from the same SEG-Y (its venv, its PostStack3DTime
  template: 128^3 chunks), with its ``open_mdio(chunks={})`` and with ours (bar: ours <= 0.7 x open_mdio), and on
  the v1 store we convert from our v0 one (64^3 chunks, same bytes);
* ``convert_mdio(v0, v1)``: seconds, MB/s of stored bytes and of samples, peak RSS of the process.

Run from the repository root::

    .venv/bin/python benchmarks/xarray_v1.py --rounds 3 --json benchmarks/out/xarray_v1.json
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
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
V1_TOOL = ROOT / "tests" / "v1" / "v1_tool.py"

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
    label = ds[dim].values[index]
    fn = lambda: ds.amplitude.sel({dim: label}).values
print(json.dumps(timed(fn, repeat)))
"""

THEIRS = TIMER + """
from mdio import open_mdio
path, axis, index, repeat = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
ds = open_mdio(path, chunks={})
dim = ds["amplitude"].dims[axis]
label = ds[dim].values[index]
print(json.dumps(timed(lambda: ds["amplitude"].sel({dim: label}).values, repeat)))
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


def median(values: list[float]) -> float:
    return statistics.median(values)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()
    ours_py = ROOT / ".venv" / "bin" / "python"
    theirs_py = V1_PYTHON / "bin" / "python"
    OUT.mkdir(parents=True, exist_ok=True)
    v0 = V0_CACHED
    if not v0.exists():
        v0 = OUT / "v0.mdio"
        if not v0.exists():
            code = "import sys; from mdio_catalog import segy_to_mdio; segy_to_mdio(sys.argv[1], sys.argv[2], [189, 193], ['inline', 'crossline'], chunksize=(64, 64, 64))"  # noqa: E501
            run(ours_py, code + "\nprint('{}')", SEGY, v0)
    theirs = OUT / "theirs_v1.mdio"  # written by multidimio 1.x from the SEG-Y (once; kept)
    if not theirs.exists():
        env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
        cmd = [str(theirs_py), str(V1_TOOL), "ingest", "--segy", str(SEGY), "--out", str(theirs),
               "--template", "PostStack3DTime"]  # fmt: skip
        subprocess.run(cmd, check=True, env=env, cwd=ROOT, capture_output=True)
    v1 = OUT / "v1.mdio"
    if v1.exists():
        shutil.rmtree(v1)
    results: dict[str, Any] = {"v0_store": str(v0), "v0_bytes": tree_bytes(v0), "rounds": args.rounds,
                               "repeat": args.repeat, "load_before": os.getloadavg()}  # fmt: skip
    conv = run(ours_py, CONVERT, v0, v1, "v1")
    samples = 400 * 400 * 1001 * 4
    conv["stored_mb_s"] = results["v0_bytes"] / conv["seconds"] / 1e6
    conv["samples_mb_s"] = samples / conv["seconds"] / 1e6
    results["convert_v0_to_v1"] = conv
    print("convert v0 -> v1:", json.dumps(conv))
    cases = {
        "reader_v0": lambda a, i: run(ours_py, OURS, v0, "reader", a, i, args.repeat),
        "xarray_v0": lambda a, i: run(ours_py, OURS, v0, "xarray", a, i, args.repeat),
        "xarray_lazy_v0": lambda a, i: run(ours_py, OURS, v0, "lazy", a, i, args.repeat),
        "open_mdio_theirs": lambda a, i: run(theirs_py, THEIRS, theirs, a, i, args.repeat),
        "xarray_theirs": lambda a, i: run(ours_py, OURS, theirs, "xarray", a, i, args.repeat),
        "xarray_lazy_theirs": lambda a, i: run(ours_py, OURS, theirs, "lazy", a, i, args.repeat),
        "reader_theirs": lambda a, i: run(ours_py, OURS, theirs, "reader", a, i, args.repeat),
        "open_mdio_v1": lambda a, i: run(theirs_py, THEIRS, v1, a, i, args.repeat),
        "xarray_v1": lambda a, i: run(ours_py, OURS, v1, "xarray", a, i, args.repeat),
    }
    runs: dict[str, dict[str, list[float]]] = {name: {case: [] for case in cases} for name in SLICES}
    for round_ in range(args.rounds):
        for name, (axis, index) in SLICES.items():
            for case, measure in cases.items():
                runs[name][case].append(measure(axis, index)["median_s"])
        print(f"round {round_ + 1}/{args.rounds} done, load {os.getloadavg()}")
    slices: dict[str, Any] = {}
    for name, per_case in runs.items():
        row: dict[str, Any] = {case: median(values) for case, values in per_case.items()}
        row["runs"] = per_case
        row["xarray_over_reader"] = row["xarray_v0"] / row["reader_v0"]
        row["lazy_over_reader"] = row["xarray_lazy_v0"] / row["reader_v0"]
        row["xarray_theirs_over_open_mdio"] = row["xarray_theirs"] / row["open_mdio_theirs"]
        row["lazy_theirs_over_open_mdio"] = row["xarray_lazy_theirs"] / row["open_mdio_theirs"]
        row["xarray_v1_over_open_mdio"] = row["xarray_v1"] / row["open_mdio_v1"]
        slices[name] = row
        print(name, json.dumps({k: round(v, 4) for k, v in row.items() if k != "runs"}))
    results["slices"] = slices
    results["load_after"] = os.getloadavg()
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
    sys.exit(0)
