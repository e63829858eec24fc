"""Writers run in their own process so that a test can SIGKILL them at any point.

``python -m tests.reliability.actors SCENARIO JSON`` imports everything, prints ``ready`` (so the kill lands in the
work, not in the imports), runs one operation, prints ``done`` and exits. ``hold`` keeps a staged write open (a
live writer) until killed; ``rebuild-loop`` rebuilds a catalog dataset again and again from alternating sources.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import time
from pathlib import Path
from typing import Any


def run(scenario: str, args: dict[str, Any]) -> None:
    from mdio_catalog import MDIOWriter, copy_mdio, mdio_to_segy, rechunk, segy_to_mdio
    from mdio_catalog.catalog import Catalog
    from mdio_catalog.core.publish import staged_write
    from mdio_catalog.core.store import Location

    print("ready", flush=True)
    if args.get("go"):
        sys.stdin.readline()  # start together with other actors
    if scenario == "build":
        Catalog.from_file(args["catalog"]).build(force=bool(args.get("force")))
    elif scenario == "segy":
        segy_to_mdio(
            args["segy"], args["out"], index_bytes=(189, 193), index_names=("inline", "crossline"),
            chunksize=tuple(args["chunks"]), overwrite=True,
        )  # fmt: skip
    elif scenario == "export":
        mdio_to_segy(args["mdio"], args["out"])
    elif scenario == "rechunk":
        rechunk(MDIOWriter(args["mdio"], access_pattern="012"), tuple(args["chunks"]), args["suffix"])
    elif scenario == "copy":
        copy_mdio(args["source"], args["out"], overwrite=True, copy_traces=True, copy_headers=True)
    elif scenario == "hold":
        with staged_write(Location.of(args["out"]), overwrite=True) as staging:
            Path(staging.url).mkdir()
            (Path(staging.url) / "chunk").write_bytes(b"x" * 1000)
            print("holding", flush=True)
            time.sleep(float(args.get("seconds", 60)))
            raise KeyboardInterrupt  # never publish a fake dataset
    elif scenario == "rebuild-loop":
        catalog = Catalog.from_file(args["catalog"])
        source = Path(args["source"])
        for i in range(int(args["count"])):
            variant = args["variants"][i % len(args["variants"])]
            copy = source.with_name(f".{source.name}.next")
            shutil.copyfile(variant, copy)
            os.replace(copy, source)
            catalog.build(force=True)
            print(f"built {i}", flush=True)
    else:
        raise SystemExit(f"unknown scenario {scenario!r}")
    print("done", flush=True)


if __name__ == "__main__":
    run(sys.argv[1], json.loads(sys.argv[2]))
