"""A STAC export of the catalog: one Catalog, one Collection for the catalog, one Item per built dataset.

Items use the datacube extension (dimensions with extents and steps, variables), processing (software versions,
lineage text), file (sizes and SHA-256 multihash checksums of the consolidated metadata) and version (the spec
hash). Datasets never built have no Item (a STAC Item needs a datetime, and there is no data to point at).

Geometry: when a CRS is given (``crs: EPSG:NNNN`` on the dataset, when the spec carries one, or ``--crs`` for the
whole export) the footprint of the live traces' CDP X/Y goes into ``proj:code``/``proj:bbox``/``proj:geometry``
(projection extension) in that CRS; ``geometry``/``bbox`` (which STAC requires in WGS84 longitude/latitude) are
filled only when the CRS is EPSG:4326, since reprojection would need PROJ, which is not a dependency. Otherwise
the geometry is null.
"""

from __future__ import annotations

import hashlib
import json
import re
from datetime import UTC
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from mdio_catalog.exceptions import ArgumentError
from mdio_catalog.site.model import _is_local, _size_on_disk

if TYPE_CHECKING:
    from mdio_catalog.catalog import Catalog

STAC_VERSION = "1.0.0"
EXTENSIONS = {
    "datacube": "https://stac-extensions.github.io/datacube/v2.2.0/schema.json",
    "processing": "https://stac-extensions.github.io/processing/v1.2.0/schema.json",
    "file": "https://stac-extensions.github.io/file/v2.1.0/schema.json",
    "version": "https://stac-extensions.github.io/version/v1.2.0/schema.json",
    "projection": "https://stac-extensions.github.io/projection/v2.0.0/schema.json",
}
_CRS = re.compile(r"^EPSG:(\d{4,6})$")
ZARR_MEDIA_TYPE = "application/vnd+zarr"


def check_crs(crs: str | None) -> str | None:
    """``EPSG:NNNN`` (upper-cased) or None; anything else is an :class:`ArgumentError`."""
    if crs is None:
        return None
    text = crs.strip().upper()
    if not _CRS.match(text):
        raise ArgumentError(f"CRS {crs!r} is not of the form EPSG:NNNN (for example EPSG:32631).")
    return text


def write_stac(catalog: Catalog, out: str | Path, *, crs: str | None = None) -> dict[str, Any]:
    """Write ``catalog.json``, ``collection.json`` and ``items/NAME.json`` into ``out``; returns a summary."""
    default_crs = check_crs(crs)
    out = Path(out)
    (out / "items").mkdir(parents=True, exist_ok=True)
    items: list[dict[str, Any]] = []
    skipped: list[str] = []
    for status in catalog.status(catalog.list()):  # datasets (exports are SEG-Y files, not pages)
        if status.record is None:
            skipped.append(status.name)
            continue
        spec_crs = check_crs(getattr(catalog.spec.datasets[status.name], "crs", None)) or default_crs
        items.append(_item(catalog, status, spec_crs))
    collection = _collection(catalog, items)
    root = {
        "type": "Catalog",
        "stac_version": STAC_VERSION,
        "id": catalog.name,
        "description": catalog.spec.description or f"MDIO catalog {catalog.name}",
        "links": [
            {"rel": "root", "href": "./catalog.json", "type": "application/json"},
            {"rel": "self", "href": "./catalog.json", "type": "application/json"},
            {"rel": "child", "href": "./collection.json", "type": "application/json"},
        ],
    }
    _dump(out / "catalog.json", root)
    _dump(out / "collection.json", collection)
    for item in items:
        _dump(out / "items" / f"{item['id']}.json", item)
    return {"out": str(out), "items": [i["id"] for i in items], "not_built": skipped}


def _dump(path: Path, data: dict[str, Any]) -> None:
    path.write_text(json.dumps(data, indent=2, sort_keys=False) + "\n", encoding="utf-8")


def _collection(catalog: Catalog, items: list[dict[str, Any]]) -> dict[str, Any]:
    times = sorted(i["properties"]["datetime"] for i in items)
    boxes = [i["bbox"] for i in items if i.get("bbox")]
    bbox = (
        [min(b[0] for b in boxes), min(b[1] for b in boxes), max(b[2] for b in boxes), max(b[3] for b in boxes)]
        if boxes
        else [-180.0, -90.0, 180.0, 90.0]
    )
    links = [
        {"rel": "root", "href": "./catalog.json", "type": "application/json"},
        {"rel": "parent", "href": "./catalog.json", "type": "application/json"},
        {"rel": "self", "href": "./collection.json", "type": "application/json"},
    ]
    links += [{"rel": "item", "href": f"./items/{i['id']}.json", "type": "application/geo+json"} for i in items]
    return {
        "type": "Collection",
        "stac_version": STAC_VERSION,
        "stac_extensions": [],
        "id": f"{catalog.name}-datasets",
        "title": catalog.name,
        "description": catalog.spec.description or f"Datasets of MDIO catalog {catalog.name}",
        "license": "proprietary",
        "extent": {
            "spatial": {"bbox": [bbox]},
            "temporal": {"interval": [[times[0], times[-1]] if times else [None, None]]},
        },
        "links": links,
    }


def _item(catalog: Catalog, status: Any, crs: str | None) -> dict[str, Any]:
    record = status.record
    name = status.name
    reader = catalog.open(name)
    spec = record.spec or {}
    unit = {"depth": "m", "time": "ms"}.get(str(spec.get("domain")))
    dimensions: dict[str, Any] = {}
    for i, dim in enumerate(reader.grid.dims):
        values = np.asarray(dim.coords)
        entry: dict[str, Any] = {"type": "sample" if i == len(reader.grid.dims) - 1 else "index"}
        if values.size and values.dtype.kind in "iuf":
            entry["extent"] = [_py(values.min()), _py(values.max())]
            steps = np.unique(np.diff(values))
            entry["step"] = _py(steps[0]) if steps.size == 1 else None
        else:
            entry["values"] = [_py(v) for v in values]
        if i == len(reader.grid.dims) - 1 and unit:
            entry["unit"] = unit
        entry["description"] = f"{dim.name}: {values.size} coordinates"
        dimensions[dim.name] = entry
    names = list(dimensions)
    variables = {
        "data": {"type": "data", "dimensions": names, "description": "trace samples", "data_type": "float32"},
        "live_mask": {"type": "auxiliary", "dimensions": names[:-1], "description": "live traces"},
        "headers": {"type": "auxiliary", "dimensions": names[:-1], "description": "SEG-Y trace headers"},
    }
    finished = record.finished.astimezone(UTC).isoformat().replace("+00:00", "Z")
    properties: dict[str, Any] = {
        "datetime": finished,
        "created": record.started.astimezone(UTC).isoformat().replace("+00:00", "Z"),
        "description": catalog.spec.datasets[name].description or name,
        "cube:dimensions": dimensions,
        "cube:variables": variables,
        "processing:software": dict(record.software),
        "processing:lineage": _lineage_text(record),
        "processing:datetime": finished,
        "version": record.spec_hash[:12],
        "mdio:state": status.state,
        "mdio:spec_hash": record.spec_hash,
        "mdio:trace_count": record.trace_count,
    }
    extensions = [EXTENSIONS[k] for k in ("datacube", "processing", "file", "version")]
    geometry, bbox = None, None
    if crs is not None:
        footprint = _footprint(reader)
        if footprint is not None:
            extensions.append(EXTENSIONS["projection"])
            properties["proj:code"] = crs
            properties["proj:bbox"] = footprint["bbox"]
            properties["proj:geometry"] = footprint["geometry"]
            if crs == "EPSG:4326":
                geometry, bbox = footprint["geometry"], footprint["bbox"]
    item: dict[str, Any] = {
        "type": "Feature",
        "stac_version": STAC_VERSION,
        "stac_extensions": extensions,
        "id": name,
        "geometry": geometry,
        "properties": properties,
        "links": [
            {"rel": "root", "href": "../catalog.json", "type": "application/json"},
            {"rel": "parent", "href": "../collection.json", "type": "application/json"},
            {"rel": "collection", "href": "../collection.json", "type": "application/json"},
            {"rel": "self", "href": f"./{name}.json", "type": "application/geo+json"},
        ],
        "assets": _assets(status.output or catalog.output_url(name)),
        "collection": f"{catalog.name}-datasets",
    }
    if bbox is not None:
        item["bbox"] = bbox
    return item


def _assets(output: str) -> dict[str, Any]:
    href = output
    data: dict[str, Any] = {
        "href": href,
        "type": ZARR_MEDIA_TYPE,
        "title": "MDIO v0 dataset (Zarr v2)",
        "roles": ["data"],
    }
    size = _size_on_disk(output)
    if size is not None:
        data["file:size"] = size
    assets = {"data": data}
    if _is_local(output):
        meta = Path(output.removeprefix("file://")) / ".zmetadata"
        if meta.is_file():
            content = meta.read_bytes()
            assets["metadata"] = {
                "href": str(meta),
                "type": "application/json",
                "title": "consolidated Zarr metadata",
                "roles": ["metadata"],
                "file:size": len(content),
                "file:checksum": "1220" + hashlib.sha256(content).hexdigest(),  # multihash: sha2-256, 32 bytes
            }
    return assets


def _lineage_text(record: Any) -> str:
    source = record.source
    origin = f"{source.kind} source {source.url}" if source.url else f"{source.kind} source"
    version = record.software.get("mdio_catalog", "?")
    return f"Built by mdio_catalog {version} from {origin} (spec {record.spec_hash[:12]})."


def _footprint(reader: Any) -> dict[str, Any] | None:
    """Bounding box of the live traces' scaled CDP X/Y, or None when the headers have no CDP coordinates."""
    headers = reader.header_array
    fields = headers.dtype.names or ()
    if "cdp_x" not in fields or "cdp_y" not in fields:
        return None
    values = np.asarray(headers[...])
    live = np.asarray(reader.live_mask[...], dtype=bool)
    if not live.any():
        return None
    picked = values[live]
    scalar = picked["coordinate_scalar"].astype(np.float64) if "coordinate_scalar" in fields else np.zeros(len(picked))
    factor = np.where(scalar > 0, scalar, np.where(scalar < 0, -1.0 / np.where(scalar == 0, 1, scalar), 1.0))
    x = picked["cdp_x"].astype(np.float64) * factor
    y = picked["cdp_y"].astype(np.float64) * factor
    if not (x.any() or y.any()):  # no coordinates recorded (NumPy sources, headers left at zero)
        return None
    x0, x1, y0, y1 = float(x.min()), float(x.max()), float(y.min()), float(y.max())
    ring = [[x0, y0], [x1, y0], [x1, y1], [x0, y1], [x0, y0]]
    return {"bbox": [x0, y0, x1, y1], "geometry": {"type": "Polygon", "coordinates": [ring]}}


def _py(value: Any) -> Any:
    return value.item() if isinstance(value, np.generic) else value
