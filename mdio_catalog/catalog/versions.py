"""Dataset versions: keeping the versions a rebuild replaces (``keep: N``), listing them, rolling back to one
without a rebuild, and pruning the oldest beyond ``keep``.

Where they live and how they move is :mod:`mdio_catalog.core.publish.versions` (a hidden ``.NAME.versions/``
folder beside the dataset, one folder per build id, renames only). This module keeps the lock in step: the lock
entry of a dataset (``catalog.lock.d/NAME.json``) lists its kept versions with their provenance, and after a
rollback records the rolled-back build as ``current`` with ``rolled_back_from``/``rolled_back_at``; ``status``
then compares the specs and sources of today with that build's, and says what no longer matches.

- A rebuild under ``keep: N`` moves the version it replaces into the versions folder (:class:`Retention`), then
  removes the oldest builds beyond N; never the current one, never one a reader has open (it stays listed and
  is tried again by the next build or ``gc``).
- :func:`rollback` exchanges a kept version with the current one under the dataset's lock
  (``renameat2(RENAME_EXCHANGE)``: a reader sees the old or the new version, never nothing); the one that was
  current becomes a kept version.
- Object stores have no rename: ``keep > 0`` and rollback are refused there
  (:class:`~mdio_catalog.exceptions.VersionsUnsupportedError`) before anything is built.
"""

from __future__ import annotations

import contextlib
import json
import os
import warnings
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from mdio_catalog.core import layout
from mdio_catalog.core.publish import target_lock
from mdio_catalog.core.publish.versions import (
    check_versions_folder,
    keep_version,
    remove_version,
    rename_version,
    rescue_displaced,
    swap_in,
    sweep_versions,
    versions_folder,
)
from mdio_catalog.core.store import Location, remove
from mdio_catalog.exceptions import (
    CatalogError,
    DatasetBusyError,
    ForeignContentError,
    MDIOError,
    VersionNotFoundError,
    VersionsUnsupportedError,
    did_you_mean,
)
from mdio_catalog.localfile import tree_size
from mdio_catalog.specs.provenance import PROVENANCE_KEY, KeptVersion, LockEntry, ProvenanceRecord

if TYPE_CHECKING:
    from mdio_catalog.catalog.catalog import Catalog


def provenance_at(path: str) -> ProvenanceRecord | None:
    """The provenance a catalog build wrote into the local dataset at ``path`` (``.zattrs``, or the attributes in
    ``zarr.json`` of a v1 dataset); None when there is none or it does not parse."""
    for name in (".zattrs", "zarr.json"):
        try:
            with open(os.path.join(path, name), "rb") as handle:
                data = json.loads(handle.read())
        except (OSError, ValueError):
            continue
        attrs = data.get("attributes") if name == "zarr.json" and isinstance(data, dict) else data
        catalog = attrs.get(layout.ATTR_CATALOG) if isinstance(attrs, dict) else None
        record = catalog.get(PROVENANCE_KEY) if isinstance(catalog, dict) else None
        if isinstance(record, dict):
            with contextlib.suppress(MDIOError):
                return ProvenanceRecord.from_data(record)
        return None
    return None


def local_target(catalog: Catalog, name: str) -> str | None:
    """The local path of dataset ``name``'s output, None when it is on an object store."""
    url = catalog.output_url(name)
    if "://" in url and not url.startswith("file://"):
        return None
    return os.path.abspath(os.path.expanduser(url.removeprefix("file://")))


def _unsupported(name: str, what: str) -> VersionsUnsupportedError:
    return VersionsUnsupportedError(
        f"dataset {name!r}: {what} needs a local root; on an object store a version cannot be kept or restored by "
        "a rename (set keep: 0 for it, or keep copies yourself); nothing was changed."
    )


def _where(version: KeptVersion, target: str) -> str:
    """The folder of a kept version: as recorded, or under the same name beside the dataset (a moved catalog)."""
    if os.path.isdir(version.path):
        return version.path
    return os.path.join(versions_folder(target), os.path.basename(version.path))


def current_build(entry: LockEntry, target: str, name: str) -> ProvenanceRecord:
    """The build the dataset folder holds: the provenance in it when it is a build of ``name``, else the lock's
    (a rollback killed between its swap and its lock entry leaves the lock one build behind the folder)."""
    found = provenance_at(target)
    return found if found is not None and found.dataset == name else entry.current


def kept_versions(entry: LockEntry | None, target: str, name: str, current: str | None = None) -> list[KeptVersion]:
    """The kept versions of ``entry`` whose folders exist, plus versions of ``name`` found in the versions folder
    that the lock does not list (a build killed between keeping a version and recording it), newest build first,
    without the build ``current`` (default: the lock's). Each folder is identified by the provenance it holds, not
    by its name."""
    found: dict[str, KeptVersion] = {}
    for version in entry.versions if entry is not None else []:
        path = _where(version, target)
        if version.build_id in (*found, current) or not os.path.isdir(path):
            continue
        stored = provenance_at(path)  # one small read: the folder must still hold that build (else: the scan)
        if stored is not None and stored.build_id == version.build_id:
            found[version.build_id] = version.model_copy(update={"path": path})
    folder = versions_folder(target)
    listed = {os.path.basename(v.path) for v in found.values()}
    if current is None and entry is not None:
        current = entry.current.build_id
    with contextlib.suppress(OSError):
        for item in os.scandir(folder):
            if item.name.startswith(".") or item.name in listed or not item.is_dir(follow_symlinks=False):
                continue
            record = provenance_at(item.path)
            if record is not None and record.dataset == name and record.build_id not in (*found, current):
                stamp = datetime.fromtimestamp(item.stat(follow_symlinks=False).st_mtime, UTC)
                found[record.build_id] = KeptVersion(
                    build_id=record.build_id, path=item.path, kept=stamp, record=record
                )
    return sorted(found.values(), key=lambda v: v.record.started, reverse=True)


class Retention:
    """One build of one dataset: keeps the version it replaces (``keep > 0``), prunes beyond ``keep``, and writes
    the lock entry listing what is kept. Its methods run under the dataset's lock (the publish step calls them)."""

    def __init__(self, catalog: Catalog, name: str) -> None:
        self.catalog = catalog
        self.name = name
        self.keep = catalog.get(name).keep
        self.target = local_target(catalog, name)
        self.kept: KeptVersion | None = None
        self.in_use: list[str] = []  # versions beyond keep left alone because a reader has them open
        self.pruned: list[str] = []
        self.busy = False  # gc: the dataset was being written, nothing was pruned

    def check(self) -> None:
        """Before anything is built: refuse keep > 0 on an object store, or a foreign entry where versions go; keep
        what a killed publish left displaced (:meth:`rescue`) before the sweep would delete it."""
        if self.keep and self.target is None:
            raise _unsupported(self.name, f"keep: {self.keep}")
        if self.keep and self.target is not None:
            check_versions_folder(self.target)
            self.rescue()

    def rescue(self) -> list[str]:
        """A publish killed after its folder exchange and before keeping the replaced build leaves that build under
        the dead writer's staging name, while the lock still calls it current and the dataset folder holds another
        build: move it into the versions folder (the next build lists it). Anything else there stays a leftover."""
        locks = self.catalog._locks
        entry = locks.get_entry(self.name) if locks is not None else None
        if entry is None or self.target is None or self.keep == 0:
            return []
        now = provenance_at(self.target)
        recorded = entry.current.build_id

        def build_of(path: str) -> str | None:
            found = provenance_at(path)
            displaced = found is not None and found.dataset == self.name and found.build_id == recorded
            return recorded if displaced and (now is None or now.build_id != recorded) else None

        return rescue_displaced(self.target, build_of)

    def retire(self, old: Location) -> None:
        """The version just replaced (under its staging name): kept under its build id, or deleted (keep: 0, or
        no readable provenance). Never raises: the new version is current already."""
        if not self.keep or self.target is None:
            remove(old)
            return
        try:
            record = provenance_at(old.url)
            if record is None or record.dataset != self.name:
                remove(old)
                return
            path = keep_version(old.url, self.target, record.build_id)
            self.kept = KeptVersion(build_id=record.build_id, path=path, kept=datetime.now(UTC), record=record)
        except (OSError, MDIOError) as exc:
            warnings.warn(
                f"dataset {self.name!r}: the replaced version could not be kept ({exc}); deleted", stacklevel=2
            )
            with contextlib.suppress(Exception):
                remove(old)

    def published(self, record: ProvenanceRecord) -> None:
        """Record ``record`` as current with the kept versions, after pruning beyond ``keep``."""
        locks = self.catalog._locks
        if locks is None:
            return
        entry = locks.get_entry(self.name)
        versions = kept_versions(entry, self.target, self.name, record.build_id) if self.target is not None else []
        if self.kept is not None:
            versions = [self.kept, *(v for v in versions if v.build_id != self.kept.build_id)]
        versions = [v for v in versions if v.build_id != record.build_id]
        locks.write_entry(
            LockEntry(version=1, catalog=self.catalog.name, current=record, versions=self.prune(versions))
        )

    def prune(self, versions: list[KeptVersion]) -> list[KeptVersion]:
        """The versions still kept: the ``keep`` newest builds, plus older ones a reader has open; the others are
        deleted, oldest first."""
        if self.target is not None:
            sweep_versions(self.target)  # what killed prunes left (their owner markers are free)
        ordered = sorted(versions, key=lambda v: v.record.started, reverse=True)
        kept = ordered[: self.keep]
        for version in reversed(ordered[self.keep :]):  # the oldest first
            try:
                removed = remove_version(version.path)
            except (OSError, MDIOError):  # (called after a publish: a failure to prune keeps the version listed)
                removed = False
            if removed:
                self.pruned.append(version.build_id)
            else:
                self.in_use.append(version.build_id)
                kept.append(version)
        return sorted(kept, key=lambda v: v.record.started, reverse=True)


def prune_versions(catalog: Catalog, name: str) -> Retention:
    """Prune the kept versions of ``name`` beyond its ``keep`` (``gc``; versions a reader had open at the last
    build go now if nobody reads them any more); the lock entry is rewritten when something changed."""
    retention = Retention(catalog, name)
    locks = catalog._locks
    if retention.target is None or locks is None:
        return retention
    if retention.keep:
        retention.rescue()  # before gc's leftover sweep would delete what a killed publish displaced
    first = locks.get_entry(name)
    if first is None or (not first.versions and not os.path.isdir(versions_folder(retention.target))):
        return retention  # nothing kept: no lock taken (gc asks this of every dataset)
    try:
        with target_lock(Location(url=retention.target), what="prune"):
            entry = locks.get_entry(name)
            if entry is None:
                return retention
            before = kept_versions(entry, retention.target, name, current_build(entry, retention.target, name).build_id)
            after = retention.prune(before)
            if [v.build_id for v in after] != [v.build_id for v in entry.versions]:
                locks.write_entry(entry.model_copy(update={"versions": after}))
    except DatasetBusyError:
        retention.busy = True  # a build of it is running: that build prunes when it publishes
    return retention


# --- listing ----------------------------------------------------------------------------------------------------
@dataclass
class VersionInfo:
    """One version of a dataset as ``versions`` lists it."""

    build_id: str
    current: bool
    path: str
    record: ProvenanceRecord
    kept: datetime | None
    size: int | None
    checksums: bool
    verify: str | None = None  # the last verify of this build when one is recorded (summary line); None: unknown

    def to_data(self) -> dict[str, Any]:
        record = self.record
        return {
            "build_id": self.build_id,
            "current": self.current,
            "path": self.path,
            "started": record.started.isoformat(),
            "finished": record.finished.isoformat(),
            "kept": self.kept.isoformat() if self.kept is not None else None,
            "spec_hash": record.spec_hash,
            "source": record.source.to_data(),
            "shape": record.shape,
            "trace_count": record.trace_count,
            "size_bytes": self.size,
            "checksums": self.checksums,
            "verify": self.verify,
        }


def list_versions(catalog: Catalog, name: str, *, sizes: bool = True) -> list[VersionInfo]:
    """The current version of ``name`` and its kept versions, newest build first (current first)."""
    catalog.get(name)
    entry = catalog._locks.get_entry(name) if catalog._locks is not None else None
    if entry is None:
        raise CatalogError(f"Dataset {name!r} was never built; run build first.")
    target = local_target(catalog, name)
    if target is None:
        return [_info(entry.current, catalog.output_url(name), None, True, False)]
    current = current_build(entry, target, name)
    rows = [_info(current, target, None, True, sizes)]
    rows += [
        _info(v.record, v.path, v.kept, False, sizes) for v in kept_versions(entry, target, name, current.build_id)
    ]
    for row in rows:
        state = _verify_of(catalog, name, row.record)
        row.verify = state.summary() if state is not None else None
    return rows


def _verify_of(catalog: Catalog, name: str, record: ProvenanceRecord) -> Any:
    """The latest recorded verify of the build ``record`` describes (:mod:`.verifystate`), None when there is none
    or it is unreadable."""
    if catalog.path is None:
        return None
    try:
        from mdio_catalog.catalog.verifystate import verify_of_build

        return verify_of_build(catalog.path, name, record)
    except (ImportError, OSError, MDIOError):
        return None


def _info(record: ProvenanceRecord, path: str, kept: datetime | None, current: bool, sizes: bool) -> VersionInfo:
    size = tree_size(path) if sizes else None
    checksums = os.path.isdir(os.path.join(path, "checksums")) if "://" not in path else False
    return VersionInfo(record.build_id, current, path, record, kept, size, checksums)


def find_version(catalog: Catalog, name: str, build_id: str) -> tuple[str, ProvenanceRecord]:
    """The folder and provenance of version ``build_id`` of ``name`` (the current one too)."""
    for info in list_versions(catalog, name, sizes=False):
        if info.build_id == build_id:
            return info.path, info.record
    ids = [info.build_id for info in list_versions(catalog, name, sizes=False)]
    raise VersionNotFoundError(
        f"dataset {name!r} has no version {build_id!r}{did_you_mean(build_id, ids)}; versions: {ids} "
        "(mdio-catalog versions NAME lists them)."
    )


# --- rollback ---------------------------------------------------------------------------------------------------
@dataclass
class RollbackReport:
    """What a rollback did."""

    name: str
    from_build: str | None
    to_build: str
    kept_path: str | None  # where the version that was current is kept now
    record: ProvenanceRecord = field(repr=False)

    def to_data(self) -> dict[str, Any]:
        return {"dataset": self.name, "from": self.from_build, "to": self.to_build, "kept_path": self.kept_path,
                "spec_hash": self.record.spec_hash}  # fmt: skip


def rollback(catalog: Catalog, name: str, to: str | None = None) -> RollbackReport:
    """Make kept version ``to`` (default: the newest kept build) of ``name`` current, atomically and without a
    rebuild; the version that was current becomes a kept version and the lock records the rollback."""
    from mdio_catalog.catalog.build import built_here

    catalog.get(name)
    target = local_target(catalog, name)
    if target is None:
        raise _unsupported(name, "rollback")
    locks = catalog._locks
    if locks is None:
        raise CatalogError(f"dataset {name!r}: a catalog without a file has no lock, so no versions to roll back to.")
    with target_lock(Location(url=target), what="rollback"):
        entry = locks.get_entry(name)
        if entry is None:
            raise CatalogError(f"Dataset {name!r} was never built; run build first.")
        present = os.path.lexists(target)
        displaced = current_build(entry, target, name) if present else None
        versions = kept_versions(entry, target, name, displaced.build_id if displaced is not None else None)
        if not versions:
            raise VersionNotFoundError(
                f"dataset {name!r} keeps no earlier version (keep: {catalog.get(name).keep}); nothing was changed."
            )
        chosen = versions[0] if to is None else next((v for v in versions if v.build_id == to), None)
        if chosen is None:
            ids = [v.build_id for v in versions]
            current = " (that is the current build)" if displaced is not None and to == displaced.build_id else ""
            raise VersionNotFoundError(
                f"dataset {name!r} keeps no version {to!r}{current}{did_you_mean(str(to), ids)}; kept: {ids}; "
                "nothing was changed."
            )
        stored = provenance_at(chosen.path)
        if stored is None or stored.build_id != chosen.build_id:
            raise ForeignContentError(
                f"{chosen.path} does not hold build {chosen.build_id} of {name!r} any more; nothing was changed."
            )
        if present and not built_here(Location(url=target), name, catalog.output_url(name), entry.current):
            raise ForeignContentError(
                f"{target} holds something this catalog did not build; a rollback replaces only the catalog's own "
                "dataset, and nothing was changed. Move it away first."
            )
        swapped = swap_in(chosen.path, target)
        now = datetime.now(UTC)
        others = [v for v in versions if v.build_id != chosen.build_id]
        from_build = displaced.build_id if displaced is not None else None

        def record(kept: list[KeptVersion]) -> None:
            ordered = sorted(kept, key=lambda v: v.record.started, reverse=True)
            locks.write_entry(LockEntry(version=1, catalog=catalog.name, current=chosen.record, versions=ordered,
                                        rolled_back_from=from_build, rolled_back_at=now))  # fmt: skip

        kept_path = None
        if swapped:
            old = displaced or entry.current
            # Recorded at once where it is (under the chosen build's folder name), then renamed to its own id and
            # recorded again: a crash in between leaves a lock that says where every build is.
            record([KeptVersion(build_id=old.build_id, path=chosen.path, kept=now, record=old), *others])
            kept_path = rename_version(chosen.path, target, old.build_id)
            others = [KeptVersion(build_id=old.build_id, path=kept_path, kept=now, record=old), *others]
        record(others)
    return RollbackReport(name, from_build, chosen.build_id, kept_path, chosen.record)
