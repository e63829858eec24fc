"""Is a dataset fresh? Compare the lock entry with the spec, the source and the output as they are now."""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from fsspec.core import split_protocol

from mdio_catalog.catalog.identity import identity_changes, source_identity
from mdio_catalog.catalog.v1_output import root_attributes, v1_output_problems
from mdio_catalog.core import layout
from mdio_catalog.core.store import Location, is_mdio, storage_errors
from mdio_catalog.exceptions import MDIOError
from mdio_catalog.specs.provenance import PROVENANCE_KEY, ProvenanceRecord, same_time
from mdio_catalog.specs.resolve import ResolvedDataset, spec_hash

State = Literal["fresh", "stale", "never built"]


@dataclass(frozen=True)
class DatasetStatus:
    """The state of one dataset and, when stale, every reason."""

    name: str
    state: State
    reasons: list[str] = field(default_factory=list)
    output: str = ""
    record: ProvenanceRecord | None = None

    @property
    def needs_build(self) -> bool:
        return self.state != "fresh"

    def to_data(self) -> dict[str, Any]:
        data: dict[str, Any] = {"name": self.name, "state": self.state, "reasons": self.reasons, "output": self.output}
        if self.record is not None:
            data["built"] = self.record.finished.isoformat()
            data["shape"] = self.record.shape
            data["trace_count"] = self.record.trace_count
            if self.record.derived_from is not None:
                data["derived_from"] = self.record.derived_from.to_data()
            if "quality" in self.record.parameters:
                data["quality"] = self.record.parameters["quality"]
        return data


def dataset_status(
    resolved: ResolvedDataset,
    record: ProvenanceRecord | None,
    *,
    source_url: str | None,
    source_options: Mapping[str, Any],
    output_url: str,
    output_options: Mapping[str, Any],
) -> DatasetStatus:
    """Fresh when the lock has an entry whose spec hash, source identity and output all still match."""
    if record is None:
        return DatasetStatus(resolved.name, "never built", ["no entry in catalog.lock"], output_url)
    reasons: list[str] = []
    if spec_hash(resolved) != record.spec_hash:
        reasons.append("spec changed since the build")
    try:
        now = source_identity(resolved.kind, source_url, source_options, resolved.segy_open_options())
        reasons += identity_changes(record.source, now)
    except MDIOError as exc:
        reasons.append(f"source unreadable: {exc}")
    reasons += _output_problems(record, output_url, output_options)
    return DatasetStatus(resolved.name, "stale" if reasons else "fresh", reasons, output_url, record)


def _output_problems(record: ProvenanceRecord, output_url: str, output_options: Mapping[str, Any]) -> list[str]:
    """What about the output disagrees with the record, from its small metadata files only (the root attributes,
    the main pattern's ``.zarray`` and whether the others are there: a handful of reads whatever the dataset's
    size, no accessor opened; reading every chunk is ``verify``'s job)."""
    location = Location(url=output_url, storage_options=dict(output_options))
    if location.is_local:  # the path as given (no resolve(): a syscall per folder level, per dataset)
        location = Location(url=os.path.abspath(os.path.expanduser(split_protocol(output_url)[1])))
    else:
        location = Location.of(output_url, output_options)
    try:
        if not is_mdio(location):
            return ["output missing"]
        if record.format == "v1":  # Zarr v3: the root attributes are in zarr.json
            found = root_attributes(location)
            attrs = found[0] if found is not None else {}
        else:
            attrs = _read_json(location, ".zattrs")
    except (MDIOError, OSError, ValueError) as exc:
        return [f"output unreadable: {exc}"]
    catalog = attrs.get(layout.ATTR_CATALOG) if isinstance(attrs, dict) else None
    stored = catalog.get(PROVENANCE_KEY) if isinstance(catalog, dict) else None
    if not isinstance(stored, dict):
        return ["output was replaced (it carries no build provenance)"]
    if stored.get("spec_hash") != record.spec_hash or not same_time(stored.get("started"), record.started):
        return ["output was replaced by another build"]
    if record.format == "v1":  # one data variable: its zarr.json says the shape
        return v1_output_problems(location, attrs, record.shape)
    # The consolidated metadata may still list arrays that were deleted: look for each pattern's own metadata.
    # The main pattern's metadata is read (its shape); the others only need to be there.
    patterns = record.access_patterns
    main_pattern = _pattern(record) if _pattern(record) in patterns else next(iter(patterns), None)
    main: Any = None
    missing = []
    for pattern in record.access_patterns:
        relative = f"{layout.data_array_path(pattern)}/.zarray"
        try:
            if pattern == main_pattern:
                main = _read_json(location, relative)
            elif not _exists(location, relative):
                missing.append(pattern)
        except (MDIOError, OSError, ValueError):
            missing.append(pattern)
    if missing:
        return [f"output modified: access patterns {sorted(missing)} missing"]
    shape = main.get("shape") if isinstance(main, dict) else None
    trace_count = int(attrs.get(layout.ATTR_TRACE_COUNT, 0) or 0)
    if not record.access_patterns or shape != list(record.shape) or trace_count != record.trace_count:
        return ["output modified: shape or trace count differ from the build"]
    return []


def _exists(location: Location, relative: str) -> bool:
    with storage_errors(location):
        if location.is_local:
            return os.path.isfile(os.path.join(location.url, *relative.split("/")))
        fs, root = location.filesystem()
        return bool(fs.exists(f"{root}/{relative}"))


def _read_json(location: Location, relative: str) -> Any:
    """One small JSON file of a dataset (local: a plain read; object stores: one GET)."""
    with storage_errors(location):
        if location.is_local:
            with open(os.path.join(location.url, *relative.split("/")), "rb") as handle:
                text = handle.read()
        else:
            fs, root = location.filesystem()
            text = fs.cat_file(f"{root}/{relative}")
    return json.loads(text)


def _pattern(record: ProvenanceRecord) -> str:
    return "".join(str(i) for i in range(len(record.shape))) if record.shape else "012"
