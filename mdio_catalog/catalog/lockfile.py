"""The catalog's lock: the provenance of every built dataset, one small file per dataset.

``catalog.lock.d/NAME.json`` beside the catalog file holds one :class:`~mdio_catalog.specs.provenance.LockEntry`
as indented JSON in a stable key order: readable, and a rebuild changes exactly one file in a git diff.

- **Constant cost per dataset.** Recording a build writes one file (beside, under a temporary name, fsync, then
  rename over: a reader sees the old entry or the new one, never a torn one); reading one dataset's provenance
  reads one file. Neither grows with the number of datasets.
- **No lost update.** Builds of different datasets write different files, so two at once are both recorded.
  Builds of one dataset are serialised by that dataset's lock
  (:func:`~mdio_catalog.core.publish.target_lock`), and the catalog writes the entry while it still holds it.
- **Old catalogs.** Catalogs written before this layout have one ``catalog.lock`` file. It is still read (an
  entry in the folder wins over it), and the first write migrates it: under an exclusive ``flock`` on the folder,
  every old entry the folder does not have yet is linked in (``link`` never replaces a newer entry), then the old
  file is removed. A crash in between leaves both, with the same meaning, and the next write finishes the job.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import stat
import threading
import time
import uuid
from pathlib import Path
from typing import Any

from mdio_catalog.core.publish import Leftover
from mdio_catalog.exceptions import SpecValidationError, StorageError
from mdio_catalog.specs.provenance import LockEntry, LockFile, ProvenanceRecord

#: The single lock file of catalogs written before ``catalog.lock.d/`` (read, and migrated on the first write).
LOCK_NAME = "catalog.lock"
#: The folder of per-dataset entries beside the catalog file.
LOCK_DIR_NAME = "catalog.lock.d"
ENTRY_SUFFIX = ".json"
#: Temporary entries are ``.NAME.json.tmp-TOKEN`` (hidden: never taken for an entry).
TEMPORARY_MARK = ".tmp-"


def lock_path_for(catalog_path: Path) -> Path:
    """The old single-file lock beside ``catalog_path``."""
    return catalog_path.with_name(LOCK_NAME)


def lock_dir_for(catalog_path: Path) -> Path:
    """The folder of per-dataset lock entries beside ``catalog_path``."""
    return catalog_path.with_name(LOCK_DIR_NAME)


def dump_entry(value: Any, indent: str = "") -> str:
    """Strict JSON, one line per key, a list of plain values on one line: short and clean to diff."""
    inner = indent + "  "
    if isinstance(value, dict) and value:
        items = [f"{inner}{json.dumps(str(k), ensure_ascii=False)}: {dump_entry(v, inner)}" for k, v in value.items()]
        return "{\n" + ",\n".join(items) + f"\n{indent}}}"
    if isinstance(value, list) and any(isinstance(v, dict | list) for v in value):
        return "[\n" + ",\n".join(f"{inner}{dump_entry(v, inner)}" for v in value) + f"\n{indent}]"
    return json.dumps(value, ensure_ascii=False, allow_nan=False, separators=(", ", ": "))


class LockStore:
    """The lock entries of one catalog file: read one, several or all; write one atomically."""

    def __init__(self, catalog_path: Path, catalog: str) -> None:
        self.catalog = catalog
        self.folder = lock_dir_for(catalog_path)
        self._folder = str(self.folder)
        self.legacy_path = lock_path_for(catalog_path)
        self._legacy: LockFile | None = None  # parsed once per store, only while an old lock file exists
        self._parsing = threading.Lock()

    def entry_path(self, name: str) -> Path:
        return self.folder / f"{name}{ENTRY_SUFFIX}"

    # --- reading ---------------------------------------------------------------------------------------------------
    def get(self, name: str) -> ProvenanceRecord | None:
        """The recorded provenance of ``name`` (one file read), None when it was never built."""
        record = self._read_entry(name)
        if record is not None:
            return record
        legacy = self._legacy_lock()
        if legacy is not None:
            return legacy.get(name)
        # No old file (any more): a migration that finished meanwhile linked every entry before removing it.
        return self._read_entry(name)

    def names(self) -> list[str]:
        """Every dataset with an entry, sorted."""
        legacy = self._legacy_lock()  # before listing the folder: a migration removes the file only when done
        found = set(legacy.entries) if legacy is not None else set()
        with contextlib.suppress(FileNotFoundError, NotADirectoryError):
            for entry in os.scandir(self.folder):
                if entry.name.endswith(ENTRY_SUFFIX) and not entry.name.startswith("."):
                    found.add(entry.name[: -len(ENTRY_SUFFIX)])
        return sorted(found)

    def read_all(self) -> LockFile:
        """Every entry at once (reads every file: for callers that need them all)."""
        entries = {name: record for name in self.names() if (record := self.get(name)) is not None}
        return LockFile(version=1, catalog=self.catalog, entries=entries)

    def get_entry(self, name: str) -> LockEntry | None:
        """The whole lock entry of ``name`` (current build, kept versions, rollback note), None when never built."""
        entry = self._read_lock_entry(name)
        if entry is not None:
            return entry
        record = self.get(name)  # an old catalog.lock: the current build only
        return None if record is None else LockEntry(version=1, catalog=self.catalog, current=record)

    def _read_entry(self, name: str) -> ProvenanceRecord | None:
        entry = self._read_lock_entry(name)
        return None if entry is None else entry.current

    def _read_lock_entry(self, name: str) -> LockEntry | None:
        path = os.path.join(self._folder, f"{name}{ENTRY_SUFFIX}")  # (a str: no Path objects per dataset)
        flags = os.O_RDONLY | os.O_NONBLOCK | os.O_NOFOLLOW | os.O_CLOEXEC  # a FIFO or a link never blocks us
        try:
            fd = os.open(path, flags)
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise SpecValidationError(f"{path}: cannot read this lock entry ({exc.strerror}); "
                                      "remove it and rebuild the dataset.") from None  # fmt: skip
        try:
            if not stat.S_ISREG(os.fstat(fd).st_mode):
                raise SpecValidationError(f"{path}: a lock entry must be a regular file; remove it and rebuild.")
            with os.fdopen(os.dup(fd), "rb") as handle:
                text = handle.read()
        finally:
            os.close(fd)
        try:
            data = json.loads(text)
        except ValueError as exc:
            raise SpecValidationError(f"{path}: not a valid lock entry ({exc}); remove it and rebuild the dataset."
                                      ) from None  # fmt: skip
        entry = LockEntry.from_data(data, source=path)
        if entry.current.dataset != name:
            raise SpecValidationError(
                f"{path}: records dataset {entry.current.dataset!r}, not {name!r}; remove it and rebuild."
            )
        return entry

    def _legacy_lock(self) -> LockFile | None:
        if self._legacy is None and self.legacy_path.exists():
            with self._parsing, contextlib.suppress(FileNotFoundError):  # (gone: migrated, the folder has all)
                if self._legacy is None:  # parsed once, also when several threads ask at once
                    self._legacy = LockFile.from_file(self.legacy_path)
        return self._legacy if self._legacy is not None and self.legacy_path.exists() else None

    def leftovers(self, min_age: float) -> list[Leftover]:
        """Temporary entries (``.NAME.json.tmp-TOKEN``) of writers killed between writing and renaming, unchanged
        for ``min_age`` seconds (a live writer renames its own within milliseconds)."""
        found = []
        with contextlib.suppress(FileNotFoundError, NotADirectoryError):
            for entry in os.scandir(self.folder):
                if not (entry.name.startswith(".") and TEMPORARY_MARK in entry.name):
                    continue
                with contextlib.suppress(FileNotFoundError):
                    info = entry.stat(follow_symlinks=False)
                    if not stat.S_ISREG(info.st_mode):
                        continue
                    age = time.time() - info.st_mtime
                    dead = age >= min_age
                    why = f"unrenamed lock entry, unchanged for {age:.0f} s" + ("" if dead else f" (< {min_age:.0f} s)")
                    found.append(Leftover(entry.path, "lock-entry", info.st_size, "-", dead, why))
        return found

    # --- writing ---------------------------------------------------------------------------------------------------
    def write(self, record: ProvenanceRecord) -> None:
        """Record ``record`` as the current build of its dataset (migrating an old lock file first); the kept
        versions the entry lists stay listed (:meth:`write_entry` replaces them)."""
        previous = self._read_lock_entry(record.dataset)
        versions = previous.versions if previous is not None else []
        self.write_entry(LockEntry(version=1, catalog=self.catalog, current=record, versions=versions))

    def write_entry(self, entry: LockEntry) -> None:
        """Write a whole entry (current build, kept versions, rollback note) atomically."""
        self.migrate()
        self._write_entry(entry.current, replace=True, entry=entry)

    def migrate(self) -> int:
        """Move the entries of an old ``catalog.lock`` into the folder; return how many were added."""
        if not self.legacy_path.exists():
            return 0
        self._make_folder()
        fd = os.open(self.folder, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)  # one migration at a time; builds of other datasets go on meanwhile
            if not self.legacy_path.exists():
                return 0
            legacy = LockFile.from_file(self.legacy_path)
            added = sum(self._write_entry(record, replace=False) for record in legacy.entries.values())
            with contextlib.suppress(FileNotFoundError):
                os.unlink(self.legacy_path)
            self._legacy = None
            return added
        finally:
            os.close(fd)

    def _make_folder(self) -> None:
        try:
            self.folder.mkdir(exist_ok=True)
        except OSError as exc:
            raise StorageError(f"Cannot create the lock folder {self.folder}: {exc.strerror}.") from None

    def _write_entry(self, record: ProvenanceRecord, *, replace: bool, entry: LockEntry | None = None) -> bool:
        """Write beside and rename (``replace``) or link (never over an existing entry); True when written."""
        self._make_folder()
        entry = entry if entry is not None else LockEntry(version=1, catalog=self.catalog, current=record)
        text = dump_entry(entry.to_data()) + "\n"
        path = self.entry_path(record.dataset)
        temporary = self.folder / f".{path.name}{TEMPORARY_MARK}{uuid.uuid4().hex[:12]}"
        try:
            fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o644)
            try:
                with os.fdopen(os.dup(fd), "wb") as handle:
                    handle.write(text.encode("utf-8"))
                    handle.flush()
                    os.fsync(handle.fileno())
            finally:
                os.close(fd)
            if replace:
                os.replace(temporary, path)
                return True
            try:
                os.link(temporary, path)
            except FileExistsError:
                return False
            return True
        except OSError as exc:
            raise StorageError(f"Cannot write the lock entry {path}: {exc.strerror or exc}.") from None
        finally:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(temporary)
