"""Provenance of a built dataset, and the lock file that keeps one record per dataset beside the catalog.

A :class:`ProvenanceRecord` says what was built from what: the spec hash, the identity of the source (URL, size,
mtime or ETag, hashes of the file header and of sampled trace headers: cheap even for terabyte files), the byte
map used, software versions, UTC start and end, build parameters, shape, trace count, statistics and histogram.
It goes into the dataset's attributes and into ``catalog.lock`` (a :class:`LockFile`), which ``status`` compares
with the specs and sources to say what is stale and why.
"""

from __future__ import annotations

import hashlib
import math
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from pydantic import AwareDatetime, Field, StrictInt, field_validator, model_validator

from mdio_catalog.specs.base import StrictModel, located_errors
from mdio_catalog.specs.catalog import Problems
from mdio_catalog.specs.sources import IndexField, SourceKind

Sha256 = Annotated[str, Field(pattern=r"^[0-9a-f]{64}$", description="SHA-256, 64 lower-case hex digits.")]
NonNegativeInt = Annotated[StrictInt, Field(ge=0)]


def _utc(value: datetime) -> datetime:
    return value.astimezone(UTC)


class SourceIdentity(StrictModel):
    """Enough about a source to tell, cheaply, whether it changed since the build."""

    kind: SourceKind = Field(description="segy, numpy or empty.")
    url: str | None = Field(None, description="The source as opened (None for empty datasets).")
    size: NonNegativeInt | None = Field(None, description="Size in bytes.")
    mtime: AwareDatetime | None = Field(None, description="Modification time (UTC).")
    etag: str | None = Field(None, description="Object-store ETag or generation.")
    header_hash: Sha256 | None = Field(None, description="SHA-256 of the file header (3600 bytes for SEG-Y).")
    trace_header_hash: Sha256 | None = Field(None, description="SHA-256 of sampled trace headers.")
    sampled_traces: NonNegativeInt | None = Field(None, description="How many trace headers the hash covers.")

    @field_validator("mtime")
    @classmethod
    def _in_utc(cls, value: datetime | None) -> datetime | None:
        return None if value is None else _utc(value)


class Statistics(StrictModel):
    """The v0 summary statistics of the trace data."""

    mean: float
    std: float = Field(ge=0)
    rms: float = Field(ge=0)
    min: float
    max: float

    @model_validator(mode="after")
    def _finite(self) -> Statistics:
        problems: Problems = [
            ((k,), "must be a finite number") for k, v in self.model_dump().items() if not math.isfinite(v)
        ]
        if not problems and self.min > self.max:
            problems.append((("min",), f"min {self.min} is larger than max {self.max}"))
        if problems:
            raise located_errors("Statistics", problems)
        return self


class Histogram(StrictModel):
    """Sample-value histogram: ``len(edges) == len(counts) + 1``, edges increasing."""

    edges: Annotated[list[float], Field(min_length=2)]
    counts: Annotated[list[NonNegativeInt], Field(min_length=1)]

    @model_validator(mode="after")
    def _shape(self) -> Histogram:
        problems: Problems = []
        if len(self.edges) != len(self.counts) + 1:
            problems.append((("edges",), f"{len(self.edges)} edges for {len(self.counts)} counts: need counts + 1"))
        if any(not math.isfinite(e) for e in self.edges):
            problems.append((("edges",), "edges must be finite numbers"))
        elif any(b <= a for a, b in zip(self.edges, self.edges[1:], strict=False)):
            problems.append((("edges",), "edges must increase"))
        if problems:
            raise located_errors("Histogram", problems)
        return self

    @property
    def total(self) -> int:
        return sum(self.counts)


class DerivedFrom(StrictModel):
    """The upstream a derived dataset or an export was built from: a chain of these leads back to source files."""

    dataset: str = Field(description="The upstream dataset's name.")
    spec_hash: Sha256 = Field(description="The upstream's spec hash when it was read.")
    build: str = Field(description="The upstream's build id (its start time, as in its lock entry).")


class GitProvenance(StrictModel):
    """Where a build's spec stood in git: the commit of the work tree holding the catalog file, and whether the
    files the dataset's spec comes from (the catalog file, the template file it uses) had uncommitted changes.
    Not part of the spec hash: a new commit alone does not make a dataset stale."""

    # Every field is required (None where git has no answer), so lock entries always show all five.
    commit: str | None = Field(description="HEAD commit (None in a repository without commits).")
    branch: str | None = Field(description="Branch checked out (None on a detached HEAD).")
    dirty: bool = Field(description="Whether any of the spec files differed from HEAD.")
    dirty_files: list[str] = Field(description="Spec files modified, staged or untracked (relative to the work tree).")
    remote: str | None = Field(description="The remote's URL, credentials stripped (None without a remote).")


#: Key of the provenance record inside the dataset's ``mdio_catalog`` root attribute.
PROVENANCE_KEY = "provenance"


def same_time(text: Any, when: datetime) -> bool:
    """Whether ``text`` (an ISO time as written in a record) is the instant ``when``."""
    try:
        return datetime.fromisoformat(str(text)) == when
    except ValueError:
        return False


class ProvenanceRecord(StrictModel):
    """What one build produced, from what, with what."""

    schema_name = "provenance"
    size_bounded = False

    dataset: str = Field(description="Dataset name in the catalog.")
    spec_hash: Sha256 = Field(description="Hash of the resolved spec (mdio_catalog.specs.spec_hash).")
    spec: dict[str, Any] | None = Field(None, description="The resolved spec used, secrets redacted.")
    source: SourceIdentity
    byte_map: list[IndexField] = Field(default_factory=list, description="SEG-Y index bytes used.")
    coordinates: dict[str, Any] = Field(default_factory=dict, description="Coordinate header words kept.")
    grid_overrides: dict[str, Any] = Field(default_factory=dict, description="Grid overrides applied (reference form).")
    software: dict[str, str] = Field(default_factory=dict, description="Versions: mdio_catalog, python, numpy, zarr...")
    parameters: dict[str, Any] = Field(
        default_factory=dict, description="Host-independent build parameters (chunks, compression, ...)."
    )
    started: AwareDatetime = Field(description="Build start (UTC).")
    finished: AwareDatetime = Field(description="Build end (UTC).")
    dimensions: list[str] = Field(default_factory=list, description="Dimension names, sample axis last.")
    shape: list[NonNegativeInt] = Field(default_factory=list, description="Shape of the trace data.")
    trace_count: NonNegativeInt = Field(0, description="Live traces.")
    statistics: Statistics | None = None
    histogram: Histogram | None = None
    access_patterns: list[str] = Field(default_factory=list, description="Access patterns written.")
    format: Literal["v0", "v1"] = Field(
        "v0", description="Layout written: v0 (Zarr v2) or v1 (Zarr v3, multidimio 1.x)."
    )
    output: str = Field(description="Where the dataset was written.")
    derived_from: DerivedFrom | None = Field(None, description="The upstream of a derived dataset or an export.")
    git: GitProvenance | None = Field(
        None, description="The spec's git commit and uncommitted changes (None outside a git work tree)."
    )

    @field_validator("started", "finished")
    @classmethod
    def _in_utc(cls, value: datetime) -> datetime:
        return _utc(value)

    @model_validator(mode="after")
    def _consistent(self) -> ProvenanceRecord:
        problems: Problems = []
        if self.finished < self.started:
            problems.append((("finished",), f"finished {self.finished.isoformat()} is before started"))
        if self.dimensions and self.shape and len(self.dimensions) != len(self.shape):
            problems.append((("shape",), f"{len(self.shape)} sizes for {len(self.dimensions)} dimensions"))
        if self.shape:
            cells = math.prod(self.shape[:-1])
            if self.trace_count > cells:
                problems.append((("trace_count",), f"{self.trace_count} traces do not fit {cells} grid cells"))
        if problems:
            raise located_errors("ProvenanceRecord", problems)
        return self

    @property
    def duration_seconds(self) -> float:
        return (self.finished - self.started).total_seconds()

    @property
    def build_id(self) -> str:
        """The id of this build: its start time (UTC, to the second) and 8 hex digits of a hash of the exact start
        time and the spec hash, e.g. ``20260314T101502Z-3fa94c1d``; stable, sortable, a folder name."""
        digest = hashlib.sha256(f"{self.started.isoformat()} {self.spec_hash}".encode()).hexdigest()[:8]
        return f"{self.started.astimezone(UTC).strftime('%Y%m%dT%H%M%SZ')}-{digest}"


BuildId = Annotated[
    str, Field(pattern=r"^[0-9]{8}T[0-9]{6}Z-[0-9a-f]{8}$", description="Build id (ProvenanceRecord.build_id).")
]


class KeptVersion(StrictModel):
    """An earlier version of a dataset kept for rollback (``keep: N``): where it is and what it was built from."""

    build_id: BuildId
    path: str = Field(description="Its folder (in the hidden .NAME.versions folder beside the dataset).")
    kept: AwareDatetime = Field(description="When it stopped being current (UTC).")
    record: ProvenanceRecord = Field(description="Its provenance, as it was when it was current.")


class LockEntry(StrictModel):
    """One file of ``catalog.lock.d/`` (``NAME.json``): the provenance of one dataset's current build.

    One small file per dataset keeps the cost of recording a build, and of reading one dataset's provenance,
    independent of how many datasets the catalog has, and two builds of different datasets never write the same
    file. ``versions`` lists the earlier versions a dataset keeps (``keep: N``), newest build first; after a
    rollback ``rolled_back_from`` names the build that was current before and ``rolled_back_at`` says when.
    """

    schema_name = "lock-entry"
    size_bounded = False  # written by this package

    version: Literal[1] = Field(description="Lock entry format version.")
    catalog: str = Field(description="Name of the catalog.")
    current: ProvenanceRecord = Field(description="Provenance of the version the dataset path holds.")
    versions: list[KeptVersion] = Field(
        default_factory=list, description="Earlier versions kept for rollback, newest build first."
    )
    rolled_back_from: BuildId | None = Field(None, description="The build that was current before a rollback.")
    rolled_back_at: AwareDatetime | None = Field(None, description="When the rollback happened (UTC).")


class LockFile(StrictModel):
    """The provenance of every built dataset of one catalog, by dataset name: the whole ``catalog.lock`` of
    catalogs written before ``catalog.lock.d/`` (read, and migrated on the first write), or every entry at once."""

    schema_name = "lock"
    size_bounded = False  # written by this package; thousands of entries are normal

    version: Literal[1] = Field(description="Lock file format version.")
    catalog: str = Field(description="Name of the catalog.")
    entries: dict[str, ProvenanceRecord] = Field(default_factory=dict, description="Provenance by dataset name.")

    @model_validator(mode="after")
    def _keys(self) -> LockFile:
        problems: Problems = [
            (("entries", name, "dataset"), f"the entry {name!r} records dataset {record.dataset!r}")
            for name, record in self.entries.items()
            if record.dataset != name
        ]
        if problems:
            raise located_errors("LockFile", problems)
        return self

    @classmethod
    def empty(cls, catalog: str) -> LockFile:
        return cls(version=1, catalog=catalog)

    def with_entry(self, record: ProvenanceRecord) -> LockFile:
        """A new lock file with ``record`` added or replaced (entries kept sorted by name)."""
        entries = {**self.entries, record.dataset: record}
        return self.model_copy(update={"entries": dict(sorted(entries.items()))})

    def without(self, *names: str) -> LockFile:
        """A new lock file without the entries of ``names``."""
        return self.model_copy(update={"entries": {k: v for k, v in self.entries.items() if k not in names}})

    def get(self, name: str) -> ProvenanceRecord | None:
        return self.entries.get(name)
