"""How the catalog site scales (issue 18): build time and size for the example catalog and for a generated
catalog of many tiny datasets, the data read to draw one dataset's pictures, and how usable the index stays.

The generated catalog (default 500 datasets) alternates tiny NumPy velocity-like cubes (so the pictures have data)
and ``empty:`` cubes; every dataset is built once through the library, then the site is built three times:
cold (every picture drawn), warm (pictures reused, the datasets unchanged) and without pictures. With the system
Chromium present, the index is opened in it from file:// and the time to load it and to filter it by typing in
the search box is measured.

    .venv/bin/python benchmarks/site_scale.py [--size 500] [--workdir DIR] [--json OUT]
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import math
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(REPO))

from mdio_catalog.catalog import Catalog  # noqa: E402
from mdio_catalog.site import build_site  # noqa: E402

NUMPY_ENTRY = (
    "  v{i:04d}:\n    description: velocity-like cube {i}\n    tags: [{tag}]\n    source:\n"
    "      numpy: data/v{i:04d}.npy\n      index_names: [inline, crossline, depth]\n    chunks: [8, 8, 16]\n"
)
EMPTY_ENTRY = (
    "  e{i:04d}:\n    tags: [{tag}]\n    source:\n      empty:\n"
    "        - {{name: inline, start: 1, count: 8}}\n        - {{name: crossline, start: 1, count: 8}}\n"
    "        - {{name: sample, start: 0, step: 4, count: 16}}\n"
)


def generated_catalog(folder: Path, size: int) -> Path:
    (folder / "data").mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    parts = ["version: 1\nname: site-scale\nroot: ./out\ndatasets:\n"]
    for i in range(size):
        tag = ["north", "south", "east", "west"][i % 4]
        if i % 2 == 0:
            depth = np.linspace(1500.0, 4500.0, 16, dtype=np.float32)
            cube = depth[np.newaxis, np.newaxis, :] + rng.normal(0, 30, (8, 8, 16)).astype(np.float32)
            np.save(folder / "data" / f"v{i:04d}.npy", cube)
            parts.append(NUMPY_ENTRY.format(i=i, tag=tag))
        else:
            parts.append(EMPTY_ENTRY.format(i=i, tag=tag))
    path = folder / "catalog.yaml"
    path.write_text("".join(parts), encoding="utf-8")
    return path


def timed_site(catalog_file: Path, out: Path, *, pictures: bool = True) -> dict[str, Any]:
    start = time.perf_counter()
    report = build_site(Catalog.from_file(catalog_file), out, pictures=pictures)
    data = report.to_data()
    data["wall_s"] = round(time.perf_counter() - start, 2)
    data["mib"] = round(report.bytes / 2**20, 2)
    data["index_kib"] = round((out / "index.html").stat().st_size / 1024, 1)
    del data["out"]
    return data


def browse_index(index: Path, expect: int) -> dict[str, Any] | None:
    chromium = Path("/usr/bin/chromium")
    if not chromium.exists():
        return None
    from playwright.sync_api import sync_playwright

    args = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
            "--disable-component-update", "--disable-sync", "--no-first-run"]  # fmt: skip
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(chromium), args=args)
        page = browser.new_page()
        start = time.perf_counter()
        page.goto(index.as_uri(), wait_until="load")
        loaded = time.perf_counter() - start
        rows = page.locator("#datasets tbody tr").count()
        start = time.perf_counter()
        page.locator("#search").type(f"v{2 * (expect // 4):04d}")
        page.wait_for_function("document.getElementById('shown').textContent.startsWith('1 of')")
        typed = time.perf_counter() - start
        start = time.perf_counter()
        page.locator("#search").fill("")
        page.select_option("#state", "fresh")
        filtered = time.perf_counter() - start
        visible = page.locator("#datasets tbody tr:not([hidden])").count()
        browser.close()
    assert rows == expect, (rows, expect)
    return {"load_s": round(loaded, 3), "rows": rows, "type_5_chars_s": round(typed, 3),
            "state_filter_s": round(filtered, 3), "fresh_rows": visible}  # fmt: skip


def example_figures(work: Path) -> dict[str, Any]:
    folder = work / "example"
    shutil.rmtree(folder, ignore_errors=True)
    shutil.copytree(REPO / "examples", folder, ignore=shutil.ignore_patterns("out", "data", "catalog.lock*"))
    spec = importlib.util.spec_from_file_location("make_data", REPO / "examples" / "make_data.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.make(folder / "data")
    Catalog.from_file(folder / "catalog.yaml").build()
    cold = timed_site(folder / "catalog.yaml", folder / "site")
    warm = timed_site(folder / "catalog.yaml", folder / "site")
    pictures = json.loads((folder / "site" / "assets" / "stack" / "pictures.json").read_text())["pictures"]
    reader = Catalog.from_file(folder / "catalog.yaml").open("stack")
    total_chunks = math.prod(math.ceil(s / c) for s, c in zip(reader.shape, reader.chunks, strict=True))
    read = {p["kind"]: p["chunks_read"] for p in pictures}
    return {
        "cold": cold,
        "warm": warm,
        "stack_pictures": {
            "chunks_read": read,
            "chunks_read_total": sum(read.values()) - read.get("live_mask", 0),
            "dataset_chunks": total_chunks,
        },
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size", type=int, default=500)
    parser.add_argument("--workdir", type=Path, default=None)
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()
    work = args.workdir or Path(tempfile.mkdtemp(prefix="site-scale-"))
    results: dict[str, Any] = {"example": example_figures(work)}
    print(json.dumps(results["example"], indent=1))
    folder = work / f"n{args.size}"
    shutil.rmtree(folder, ignore_errors=True)
    catalog_file = generated_catalog(folder, args.size)
    start = time.perf_counter()
    Catalog.from_file(catalog_file).build()
    scale: dict[str, Any] = {"datasets": args.size, "catalog_build_s": round(time.perf_counter() - start, 1)}
    scale["site_cold"] = timed_site(catalog_file, folder / "site")
    scale["site_warm"] = timed_site(catalog_file, folder / "site")
    scale["site_no_pictures"] = timed_site(catalog_file, folder / "site-nopic", pictures=False)
    scale["browser"] = browse_index(folder / "site" / "index.html", args.size)
    results["generated"] = scale
    print(json.dumps(scale, indent=1))
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(results, indent=1), encoding="utf-8")
    if args.workdir is None:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
