"""Catalog datasets written as MDIO v1 (``format: v1``): the build, and reading their root attributes back.

A ``format: v1`` build runs the dataset's ordinary (v0) converter into a hidden folder inside the build's staging
(:data:`V0_FOLDER`; a folder, not one more staging level beside it, so the names of what the converter stages stay
within the length the name limits allow), then :func:`mdio_catalog.v1.convert.write_converted` writes the v1 layout
(Zarr v3, what multidimio 1.x opens) at the staging's root, copying the trace chunks as stored bytes where the codecs
allow, and the v0 folder is deleted. The staging is published like any other build: atomically, only when complete
(a failed or killed build loses the staging with the v0 folder in it).

The provenance record goes into the v1 root attributes (``zarr.json``) under the same key as in v0
(``mdio_catalog.provenance``); :func:`root_attributes` reads either format's root attributes with one small read,
which is what the ownership check of a rebuild and ``status`` need.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Mapping
from typing import Any

import zarr

from mdio_catalog.api.accessor import MDIOReader
from mdio_catalog.core.store import Location, open_store, remove, storage_errors
from mdio_catalog.exceptions import MDIOError
from mdio_catalog.v1 import layout as v1_layout

#: Where a v1 build keeps the dataset's v0 form inside its staging until the v1 layout is written from it.
V0_FOLDER = ".v0-build"


def build_v1(
    convert: Callable[[str], str],
    staging: Location,
    options: Mapping[str, Any],
    sample_dim: str | None = None,
) -> MDIOReader:
    """Run ``convert`` (the v0 converter: output URL -> main access pattern) into :data:`V0_FOLDER` inside
    ``staging``, write its v1 form at the staging's root, delete the v0 form; return a reader on the v1 dataset."""
    from mdio_catalog.v1.convert import write_converted  # (imports xarray: only builds of v1 datasets need it)

    work = Location(url=f"{staging.url.rstrip('/')}/{V0_FOLDER}", storage_options=staging.storage_options)
    pattern = convert(work.url)
    reader = MDIOReader(work.url, access_pattern=pattern, storage_options=dict(options))
    write_converted(reader, staging, "v1", sample_dim)
    del reader
    remove(work)
    return MDIOReader(staging.url, storage_options=dict(options))


def set_v1_attributes(staging: Location, attributes: Mapping[str, Any]) -> None:
    """Add ``attributes`` to the root attributes of the v1 (Zarr v3) dataset at ``staging``."""
    store = open_store(staging, read_only=False)
    with storage_errors(staging):
        root = zarr.open_group(store, mode="r+", zarr_format=3)
        root.attrs.update(dict(attributes))


def _read(location: Location, relative: str) -> bytes:
    if location.is_local:
        with open(os.path.join(location.url, *relative.split("/")), "rb") as handle:
            return handle.read()
    fs, root = location.filesystem()
    return bytes(fs.cat_file(f"{root}/{relative}"))


def root_attributes(location: Location) -> tuple[dict[str, Any], str] | None:
    """The root attributes of the dataset at ``location`` and its format ('v0' for Zarr v2's ``.zattrs``, 'v1'
    for Zarr v3's ``zarr.json``), from one small read; None when neither is there or readable."""
    for relative, fmt in ((".zattrs", "v0"), ("zarr.json", "v1")):
        try:
            with storage_errors(location):
                data = json.loads(_read(location, relative))
        except (MDIOError, OSError, ValueError):
            continue
        if not isinstance(data, dict):
            return None
        if fmt == "v1":
            attrs = data.get("attributes")
            return (attrs if isinstance(attrs, dict) else {}), fmt
        return data, fmt
    return None


def v1_output_problems(location: Location, attrs: Mapping[str, Any], shape: list[int]) -> list[str]:
    """What about a v1 output disagrees with its record's ``shape``: the data variable's metadata (one read)."""
    variable = v1_layout.default_variable(dict(attrs))
    try:
        with storage_errors(location):
            meta = json.loads(_read(location, f"{variable}/zarr.json"))
    except (MDIOError, OSError, ValueError):
        return [f"output modified: the data variable {variable!r} is missing"]
    if not isinstance(meta, dict) or meta.get("shape") != list(shape):
        return ["output modified: shape differs from the build"]
    return []
