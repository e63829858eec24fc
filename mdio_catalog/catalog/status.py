"""Is a dataset fresh? Compare the lock entry with the spec, the source and the output as they are now."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from mdio_catalog.api.accessor import MDIOReader
from mdio_catalog.catalog.build import stored_provenance
from mdio_catalog.catalog.identity import identity_changes, source_identity
from mdio_catalog.core import layout
from mdio_catalog.core.store import Location, is_mdio
from mdio_catalog.exceptions import MDIOError
from mdio_catalog.specs.provenance import ProvenanceRecord
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
    location = Location.of(output_url, output_options)
    try:
        if not is_mdio(location):
            return ["output missing"]
        reader = MDIOReader(output_url, access_pattern=_pattern(record), storage_options=dict(output_options))
    except MDIOError as exc:
        return [f"output unreadable: {exc}"]
    stored = stored_provenance(reader)
    if stored is None:
        return ["output was replaced (it carries no build provenance)"]
    if stored.get("spec_hash") != record.spec_hash or stored.get("started") != record.to_data()["started"]:
        return ["output was replaced by another build"]
    # The consolidated metadata may still list arrays that were deleted: look for each pattern's own metadata.
    fs, root = location.filesystem()
    present = [p for p in record.access_patterns if fs.exists(f"{root}/{layout.data_array_path(p)}/.zarray")]
    missing = sorted(set(record.access_patterns) - set(present))
    if missing:
        return [f"output modified: access patterns {missing} missing"]
    if reader.shape != tuple(record.shape) or reader.trace_count != record.trace_count:
        return ["output modified: shape or trace count differ from the build"]
    return []


def _pattern(record: ProvenanceRecord) -> str:
    return "".join(str(i) for i in range(len(record.shape))) if record.shape else "012"
