"""Drive multidimio 1.x from the command line (run by ITS virtual environment's Python, never ours).

The v1 tests call it through a subprocess; both sides only exchange files (MDIO stores, SEG-Y files, ``.npz``).

Subcommands
-----------
ingest  --segy FILE --out DIR --template NAME [--zarr-format 2|3] [--offset-byte 37]
    ``mdio.segy_to_mdio`` with the SEG-Y rev1 standard spec (text/binary headers saved); ``--offset-byte`` adds an
    ``offset`` trace-header field for the CDP-gather templates.
read    --mdio DIR --out OUT.npz
    ``mdio.open_mdio`` and dump: ``data`` (the default variable), ``trace_mask``, ``headers`` (raw bytes, uint8)
    with ``headers_descr`` (JSON dtype descr), ``dims`` (JSON), ``coord_<dim>``, ``cdp_x``/``cdp_y`` when present.
export  --mdio DIR --out FILE
    ``mdio.mdio_to_segy`` with the rev1 standard spec, samples in the stored ``data_sample_format``.
"""

from __future__ import annotations

import argparse
import json
import os
import sys

os.environ.setdefault("MDIO__IMPORT__SAVE_SEGY_FILE_HEADER", "true")


def _spec(offset_byte: int | None = None):
    from segy.schema import HeaderField
    from segy.standards import get_segy_standard

    spec = get_segy_standard(1.0)
    if offset_byte:
        spec = spec.customize(trace_header_fields=[HeaderField(name="offset", byte=offset_byte, format="int32")])
    return spec


def cmd_ingest(args: argparse.Namespace) -> None:
    import mdio
    import zarr
    from mdio.builder.template_registry import get_template_registry

    zarr.config.set({"default_zarr_format": int(args.zarr_format)})
    template = get_template_registry().get(args.template)
    mdio.segy_to_mdio(_spec(args.offset_byte), template, args.segy, args.out, overwrite=True)


def cmd_read(args: argparse.Namespace) -> None:
    import numpy as np
    from mdio import open_mdio

    ds = open_mdio(args.mdio)
    name = ds.attrs.get("attributes", {}).get("defaultVariableName", "amplitude")
    data = ds[name]
    out = {
        "data": data.values,
        "trace_mask": ds["trace_mask"].values,
        "dims": json.dumps(list(data.dims)),
        "attrs": json.dumps(ds.attrs, default=str),
    }
    if "headers" in ds:
        headers = np.ascontiguousarray(ds["headers"].values)
        out["headers"] = headers.view(np.uint8).reshape(*headers.shape, headers.dtype.itemsize)
        out["headers_descr"] = json.dumps(np.lib.format.dtype_to_descr(headers.dtype))
    for dim in data.dims:
        if dim in ds.coords:
            out[f"coord_{dim}"] = ds[dim].values
    for coord in ("cdp_x", "cdp_y"):
        if coord in ds.coords:
            out[coord] = ds[coord].values
    np.savez(args.out, **out)


#: SEG-Y sample format codes -> the segy library's scalar types.
SAMPLE_FORMATS = {1: "ibm32", 2: "int32", 3: "int16", 5: "float32", 6: "float64", 8: "int8"}


def cmd_export(args: argparse.Namespace) -> None:
    """Export with the rev1 spec, its sample format set from the stored binary header: multidimio 1.x writes the
    stored ``data_sample_format`` into the file but encodes samples in the spec's format (IBM by default)."""
    from mdio import mdio_to_segy, open_mdio
    from segy.schema import ScalarType, TraceDataSpec

    spec = _spec()
    ds = open_mdio(args.mdio)
    binary = ds["segy_file_header"].attrs.get("binaryHeader", {}) if "segy_file_header" in ds else {}
    code = int(binary.get("data_sample_format", 1))
    if code in SAMPLE_FORMATS:
        spec = spec.customize(trace_data_spec=TraceDataSpec(format=ScalarType(SAMPLE_FORMATS[code])))
    mdio_to_segy(spec, args.mdio, args.out)


def main() -> None:
    parser = argparse.ArgumentParser()
    sub = parser.add_subparsers(dest="cmd", required=True)
    ingest = sub.add_parser("ingest")
    ingest.add_argument("--segy", required=True)
    ingest.add_argument("--out", required=True)
    ingest.add_argument("--template", required=True)
    ingest.add_argument("--zarr-format", default="3")
    ingest.add_argument("--offset-byte", type=int, default=None)
    read = sub.add_parser("read")
    read.add_argument("--mdio", required=True)
    read.add_argument("--out", required=True)
    export = sub.add_parser("export")
    export.add_argument("--mdio", required=True)
    export.add_argument("--out", required=True)
    args = parser.parse_args()
    {"ingest": cmd_ingest, "read": cmd_read, "export": cmd_export}[args.cmd](args)


if __name__ == "__main__":
    sys.exit(main())
