"""Drive the reference implementation (multidimio 0.9.3) from the command line.

This script is run by the *reference* virtual environment's Python (where ``import mdio`` is
multidimio 0.9.3), never by ours. The interop tests call it through a subprocess, so both sides
only exchange files: MDIO stores, SEG-Y files and ``.npz`` dumps.

Subcommands
-----------
write-numpy   --out DIR --npz IN.npz [--overwrite] [--lossy --tolerance T]
    IN.npz holds ``array`` (N-D), ``chunks`` (int vector), optionally ``names`` (str vector,
    one per dimension) and ``coord_<name>`` vectors (all or none). Calls ``numpy_to_mdio``.
ingest-segy   --segy FILE --out DIR --index-bytes B [B ...] [--index-names N ...]
              [--index-types T ...] [--chunks C ...] [--grid-overrides JSON] [--lossy ...]
    Calls ``segy_to_mdio``.
export-segy   --mdio DIR --out FILE [--access-pattern 012]
    Calls ``mdio_to_segy``.
read          --mdio DIR --out OUT.npz [--access-pattern 012]
    Opens with ``MDIOReader`` and dumps into OUT.npz:
      traces        the whole data array (``reader[:]``)
      live_mask     bool, grid shape without samples
      headers       uint8, grid shape without samples + (itemsize,): raw bytes of the headers
      headers_descr JSON string: ``numpy.dtype.descr`` of the stored header dtype
      coord_<name>  coordinates of each dimension
      info          JSON string: dim_names, shape, chunks, n_dim, trace_count, stats,
                    text_header, binary_header, root attributes (without ``dimension``).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

import numpy as np


def _jsonable(value: Any) -> Any:
    """Convert numpy scalars/arrays (and containers of them) to plain JSON values."""
    if isinstance(value, dict):
        return {str(key): _jsonable(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(item) for item in value]
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    return value


def cmd_write_numpy(args: argparse.Namespace) -> None:
    from mdio import numpy_to_mdio

    with np.load(args.npz, allow_pickle=False) as npz:
        array = npz["array"]
        chunks = tuple(int(c) for c in npz["chunks"])
        names = [str(n) for n in npz["names"]] if "names" in npz else None
        coords = {}
        if names is not None:
            coords = {name: npz[f"coord_{name}"] for name in names if f"coord_{name}" in npz}
    numpy_to_mdio(
        array=array,
        mdio_path_or_buffer=str(args.out),
        chunksize=chunks,
        index_names=names,
        index_coords=coords or None,
        lossless=not args.lossy,
        compression_tolerance=args.tolerance,
        overwrite=args.overwrite,
    )


def cmd_ingest_segy(args: argparse.Namespace) -> None:
    from mdio import segy_to_mdio

    segy_to_mdio(
        segy_path=str(args.segy),
        mdio_path_or_buffer=str(args.out),
        index_bytes=tuple(args.index_bytes),
        index_names=tuple(args.index_names) if args.index_names else None,
        index_types=tuple(args.index_types) if args.index_types else None,
        chunksize=tuple(args.chunks) if args.chunks else None,
        lossless=not args.lossy,
        compression_tolerance=args.tolerance,
        overwrite=args.overwrite,
        grid_overrides=json.loads(args.grid_overrides) if args.grid_overrides else None,
    )


def cmd_export_segy(args: argparse.Namespace) -> None:
    from mdio import mdio_to_segy

    mdio_to_segy(str(args.mdio), str(args.out), access_pattern=args.access_pattern)


def cmd_read(args: argparse.Namespace) -> None:
    from mdio import MDIOReader

    reader = MDIOReader(str(args.mdio), access_pattern=args.access_pattern)
    traces = np.asarray(reader[:])
    live_mask = np.asarray(reader.live_mask[:], dtype=bool)
    headers = np.ascontiguousarray(reader._headers[:])  # the reference has no public header getter
    header_bytes = headers.view(np.uint8).reshape((*headers.shape, headers.dtype.itemsize))

    root_attrs = {key: value for key, value in reader.root.attrs.items() if key != "dimension"}
    info = {
        "dim_names": list(reader.grid.dim_names),
        "shape": list(reader.shape),
        "chunks": list(reader.chunks),
        "n_dim": reader.n_dim,
        "trace_count": reader.trace_count,
        "stats": reader.stats,
        "text_header": reader.text_header,
        "binary_header": reader.binary_header,
        "root_attrs": root_attrs,
        "traces_dtype": traces.dtype.str,
    }
    arrays: dict[str, Any] = {
        "traces": traces,
        "live_mask": live_mask,
        "headers": header_bytes,
        "headers_descr": np.array(json.dumps(headers.dtype.descr)),
        "info": np.array(json.dumps(_jsonable(info))),
    }
    for dim in reader.grid.dims:
        arrays[f"coord_{dim.name}"] = np.asarray(dim.coords)
    np.savez(args.out, **arrays)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)

    def add_compression(p: argparse.ArgumentParser) -> None:
        p.add_argument("--lossy", action="store_true", help="ZFP lossy compression")
        p.add_argument("--tolerance", type=float, default=0.01, help="ZFP tolerance (with --lossy)")
        p.add_argument("--overwrite", action="store_true")

    p = sub.add_parser("write-numpy", help="numpy_to_mdio from an .npz")
    p.add_argument("--out", type=Path, required=True)
    p.add_argument("--npz", type=Path, required=True)
    add_compression(p)
    p.set_defaults(func=cmd_write_numpy)

    p = sub.add_parser("ingest-segy", help="segy_to_mdio")
    p.add_argument("--segy", type=Path, required=True)
    p.add_argument("--out", type=Path, required=True)
    p.add_argument("--index-bytes", type=int, nargs="+", required=True)
    p.add_argument("--index-names", nargs="+")
    p.add_argument("--index-types", nargs="+")
    p.add_argument("--chunks", type=int, nargs="+")
    p.add_argument("--grid-overrides", help="JSON object")
    add_compression(p)
    p.set_defaults(func=cmd_ingest_segy)

    p = sub.add_parser("export-segy", help="mdio_to_segy")
    p.add_argument("--mdio", type=Path, required=True)
    p.add_argument("--out", type=Path, required=True)
    p.add_argument("--access-pattern", default="012")
    p.set_defaults(func=cmd_export_segy)

    p = sub.add_parser("read", help="MDIOReader -> .npz dump")
    p.add_argument("--mdio", type=Path, required=True)
    p.add_argument("--out", type=Path, required=True)
    p.add_argument("--access-pattern", default="012")
    p.set_defaults(func=cmd_read)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    args.func(args)
    return 0


if __name__ == "__main__":  # the reference's SEG-Y ingestion uses multiprocessing: keep the guard
    sys.exit(main())
