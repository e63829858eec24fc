"""A dataset's versions and its last verify, for its page and its STAC Item (issue 17), when the catalog has them.

Both are read through the catalog and feature-detected: a catalog without ``versions(name)`` (kept versions,
``keep: N``: :mod:`mdio_catalog.catalog.versions`) or ``last_verify(name)`` (:mod:`mdio_catalog.catalog.verifystate`)
simply has no such section, and a failure to read them leaves the section out rather than failing the page. Nothing
here opens a dataset: the lock entry, a listing of the hidden versions folder, one small JSON file per verify.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

from mdio_catalog.localfile import tree_size

if TYPE_CHECKING:
    from mdio_catalog.catalog import Catalog


def versions_of(catalog: Catalog, name: str, entry: dict[str, Any] | None) -> list[dict[str, Any]] | None:
    """The current build and the kept ones, newest first, when the dataset keeps earlier versions or was rolled
    back (else None: one version is nothing to show). ``entry`` is the lock entry file as read (rollback note)."""
    method = getattr(catalog, "versions", None)
    if not callable(method):
        return None
    try:
        found = list(method(name, sizes=False))
    except Exception:  # never built, an object store, an unreadable folder: no section
        return None
    rolled_back = bool(entry and entry.get("rolled_back_from"))
    if len(found) <= 1 and not rolled_back:
        return None
    rows = []
    for info in found:
        record = info.record
        rows.append(
            {
                "build_id": info.build_id,
                "current": bool(info.current),
                "finished": record.finished.isoformat(timespec="seconds"),
                "spec_hash": record.spec_hash,
                "shape": list(record.shape),
                "kept": info.kept.isoformat(timespec="seconds") if info.kept is not None else "",
                "size_bytes": None
                if info.current or "://" in info.path or not os.path.isdir(info.path)
                else tree_size(info.path),
                "checksums": bool(info.checksums),
                "rolled_back_from": (entry or {}).get("rolled_back_from") if info.current else None,
                "rolled_back_at": (entry or {}).get("rolled_back_at") if info.current else None,
            }
        )
    return rows


def last_verify_of(catalog: Catalog, name: str, record: Any) -> dict[str, Any] | None:
    """The last recorded ``verify`` of ``name``: its state against the current build (``ok``, ``damaged``, ``no
    checksums``, ``outdated``), when, what was checked; None when never verified or unknown to this catalog."""
    method = getattr(catalog, "last_verify", None)
    if not callable(method):
        return None
    try:
        state = method(name)
    except Exception:  # advice, never a reason for a page to fail
        return None
    if state is None:
        return None
    data: dict[str, Any] = dict(state.to_data()) if hasattr(state, "to_data") else {}
    data["state"] = state.state(record) if hasattr(state, "state") else ("ok" if data.get("ok") else "damaged")
    data["problems"] = int(getattr(state, "problems", 0))
    data["summary"] = state.summary(record) if hasattr(state, "summary") else data["state"]
    return data
