"""``catalog.lock`` beside the catalog file: read it (empty when absent) and replace it atomically."""

from __future__ import annotations

import os
import uuid
from pathlib import Path

from mdio_catalog.specs.provenance import LockFile

LOCK_NAME = "catalog.lock"


def lock_path_for(catalog_path: Path) -> Path:
    return catalog_path.with_name(LOCK_NAME)


def read_lock(path: Path, catalog_name: str) -> LockFile:
    """The lock file at ``path``, or an empty one for ``catalog_name`` when there is none yet."""
    if not path.exists():
        return LockFile.empty(catalog_name)
    return LockFile.from_file(path)


def write_lock(path: Path, lock: LockFile) -> None:
    """Write beside and rename, so a crash never leaves a truncated lock file."""
    partial = path.with_name(f".{path.name}.{uuid.uuid4().hex[:8]}")
    partial.write_text(lock.to_yaml(), encoding="utf-8")
    os.replace(partial, path)
