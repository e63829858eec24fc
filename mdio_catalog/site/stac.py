"""A STAC export of the catalog: one Catalog, one Collection for the catalog, one Item per built dataset.

Items use the datacube extension (dimensions with extents and steps, variables), processing (software versions,
lineage text), file (sizes and SHA-256 multihash checksums of the consolidated metadata) and version (the build
id of the current build; kept earlier builds in ``mdio:kept_versions``, the last verify in ``mdio:verify``).
Datasets never built have no Item (a STAC Item needs a datetime, and there is no data to point at).

Exports (SEG-Y deliveries) are further assets of their upstream dataset's Item, as STAC does for other encodings
of the same data: the file's URL, ``file:size``, ``file:checksum`` (the SHA-256 recorded when it was written, as a
multihash), ``file:byte_order``, and its state. An export whose dataset has no Item, or that was never written,
is listed in the summary instead.

Geometry: when a dataset has a CRS (``crs: EPSG:NNNN`` in its spec or the catalog's defaults, else ``--crs`` for
the whole export) and CDP X/Y headers, the convex hull of its live traces goes into ``proj:code``/``proj:bbox``/
``proj:geometry`` (projection extension) in that CRS, and reprojected by pyproj into ``geometry``/``bbox`` (WGS84
longitude/latitude, as STAC requires). Otherwise the geometry is null.
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from mdio_catalog.exceptions import ArgumentError
from mdio_catalog.site.footprint import check_known, footprint, to_wgs84
from mdio_catalog.site.model import _is_local, _size_on_disk
from mdio_catalog.specs.crs import check_epsg

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
ZARR_MEDIA_TYPE = "application/vnd+zarr"
SEGY_MEDIA_TYPE = "application/octet-stream"  # SEG-Y has no registered media type


def check_crs(crs: str | None) -> str | None:
    """``EPSG:NNNN`` (upper-cased) that PROJ knows, or None; anything else is an :class:`ArgumentError`."""
    if crs is None:
        return None
    try:
        text = check_epsg(crs)
    except ValueError as exc:
        raise ArgumentError(f"{str(exc).replace('crs', 'CRS', 1)}.") from None
    return check_known(text)


def write_stac(catalog: Catalog, out: str | Path, *, crs: str | None = None) -> dict[str, Any]:
    """Write ``catalog.json``, ``collection.json`` and ``items/NAME.json`` into ``out``; returns a summary."""
    default_crs = check_crs(crs)
    out = Path(out)
    (out / "items").mkdir(parents=True, exist_ok=True)
    items: list[dict[str, Any]] = []
    skipped: list[str] = []
    exports: list[Any] = []
    for status in catalog.status():  # datasets and exports, as `mdio-catalog status` lists them
        if status.name in catalog.spec.exports:
            exports.append(status)
        elif status.record is None:
            skipped.append(status.name)
        else:
            items.append(_item(catalog, status, check_crs(catalog.get(status.name).crs) or default_crs))
    by_id = {item["id"]: item for item in items}
    attached: list[str] = []
    for status in exports:
        upstream = by_id.get(catalog.spec.exports[status.name].dataset)
        if upstream is None or status.record is None:
            skipped.append(status.name)
            continue
        key = status.name if status.name not in upstream["assets"] else f"export-{status.name}"
        upstream["assets"][key] = _export_asset(catalog, status)
        attached.append(status.name)
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
    return {"out": str(out), "items": [i["id"] for i in items], "exports": attached, "not_built": skipped}


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
        "version": str(getattr(record, "build_id", "") or record.spec_hash[:12]),
        "mdio:state": status.state,
        "mdio:spec_hash": record.spec_hash,
        "mdio:trace_count": record.trace_count,
    }
    _trust(catalog, name, record, properties)
    extensions = [EXTENSIONS[k] for k in ("datacube", "processing", "file", "version")]
    geometry, bbox = None, None
    found = footprint(reader) if crs is not None else None
    if crs is not None and found is not None:
        extensions.append(EXTENSIONS["projection"])
        properties["proj:code"] = crs
        properties["proj:bbox"] = list(found.bbox)
        properties["proj:geometry"] = found.geometry()
        wgs84 = to_wgs84(found, crs)
        if wgs84 is not None:
            geometry, bbox = wgs84
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
        if (Path(output.removeprefix("file://")) / "zarr.json").is_file():  # a catalog dataset with format: v1
            data["title"] = "MDIO v1 dataset (Zarr v3)"
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


def _trust(catalog: Catalog, name: str, record: Any, properties: dict[str, Any]) -> None:
    """The kept earlier versions (build ids, newest first) and the last verify, when the catalog has them."""
    from mdio_catalog.site.model import _lock_entry_file
    from mdio_catalog.site.trust import last_verify_of, versions_of

    versions = versions_of(catalog, name, _lock_entry_file(catalog, name))
    kept = [v["build_id"] for v in versions or [] if not v["current"]]
    if kept:
        properties["mdio:kept_versions"] = kept
    verify = last_verify_of(catalog, name, record)
    if verify is not None:
        properties["mdio:verify"] = {k: verify.get(k) for k in ("state", "verified_at", "problems", "build")}


def _export_asset(catalog: Catalog, status: Any) -> dict[str, Any]:
    """A SEG-Y delivery as an asset of its dataset's Item: where, how big, its recorded SHA-256, its state."""
    export = catalog.spec.exports[status.name]
    recorded = status.record.parameters.get("export") or {}
    asset: dict[str, Any] = {
        "href": status.output or catalog.spec.export_url(status.name, catalog.base),
        "type": SEGY_MEDIA_TYPE,
        "title": f"SEG-Y export {status.name} ({export.endian}-endian)",
        "description": export.description or f"SEG-Y delivery of {export.dataset}",
        "roles": ["data", "segy"],
        "file:byte_order": f"{export.endian}-endian",
        "mdio:export": status.name,
        "mdio:state": status.state,
        "created": status.record.finished.astimezone(UTC).isoformat().replace("+00:00", "Z"),
    }
    if isinstance(recorded.get("size"), int):
        asset["file:size"] = recorded["size"]
    if recorded.get("sha256"):
        asset["file:checksum"] = "1220" + str(recorded["sha256"])  # multihash: sha2-256, 32 bytes
    if status.reasons:
        asset["mdio:reasons"] = list(status.reasons)
    return asset


def _lineage_text(record: Any) -> str:
    source = record.source
    origin = f"{source.kind} source {source.url}" if source.url else f"{source.kind} source"
    version = record.software.get("mdio_catalog", "?")
    return f"Built by mdio_catalog {version} from {origin} (spec {record.spec_hash[:12]})."


def _py(value: Any) -> Any:
    return value.item() if isinstance(value, np.generic) else value
