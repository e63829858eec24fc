"""Finding and removing what dead writers left behind (staging, displaced old versions, markers, locks), by the
next write to a target and by ``mdio-catalog gc``; never what a live writer still uses."""

from __future__ import annotations

import contextlib
import fcntl
import os
import re
import shutil
import stat
import time
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from mdio_catalog.core.publish.markers import (
    _HOST,
    _LOCKFILE,
    _STAGED,
    DEFAULT_MIN_AGE,
    _claim_local,
    _pid_alive,
    _read_marker,
    describe_owner,
    is_staging_name,
    owner_name,
)
from mdio_catalog.core.store import ROOT_METADATA, Location, remove, storage_errors


# --- leftovers ----------------------------------------------------------------------------------------------------
@dataclass
class Leftover:
    """One path a writer left behind (or still uses: ``dead`` says which)."""

    path: str
    kind: str  # staging, old, owner, lock, nested
    size: int
    owner: str
    dead: bool
    why: str
    token: str | None = None
    marker: str | None = None  # the owner marker covering it

    def to_data(self) -> dict[str, Any]:
        return {
            "path": self.path, "kind": self.kind, "size_bytes": self.size, "owner": self.owner,
            "dead": self.dead, "why": self.why,
        }  # fmt: skip


def _tree_size(path: Path) -> int:
    try:
        info = path.lstat()
    except OSError:
        return 0
    if not stat.S_ISDIR(info.st_mode):
        return info.st_size
    total = 0
    for folder, dirs, files in os.walk(path, followlinks=False):
        for name in files + dirs:
            with contextlib.suppress(OSError):
                entry = os.lstat(os.path.join(folder, name))
                if not stat.S_ISDIR(entry.st_mode):
                    total += entry.st_size
    return total


def _newest_change(path: Path) -> float:
    newest = path.lstat().st_mtime
    if path.is_dir() and not path.is_symlink():
        for folder, dirs, files in os.walk(path, followlinks=False):
            for name in files + dirs:
                with contextlib.suppress(OSError):
                    newest = max(newest, os.lstat(os.path.join(folder, name)).st_mtime)
    return newest


def _root_target(name: str) -> str:
    """The dataset name a (possibly nested) staging name belongs to."""
    while (match := _STAGED.match(name)) is not None:
        name = match["target"]
    return name


def local_leftovers(
    folder: Path, *, target: str | Collection[str] | None = None, min_age: float = DEFAULT_MIN_AGE
) -> list[Leftover]:
    """Leftovers directly inside ``folder`` (all of them, or those of the dataset/file name(s) ``target``).

    Every name of ours starts with a dot, so for chosen targets the other entries (thousands of datasets in a
    large catalog's root) are skipped before any other work: a sweep costs one directory listing per folder."""
    targets = None if target is None else {target} if isinstance(target, str) else set(target)
    try:
        with os.scandir(folder) as listing:
            entries = sorted((e for e in listing if target is None or e.name.startswith(".")), key=lambda e: e.name)
    except (FileNotFoundError, NotADirectoryError):
        return []
    found: list[Leftover] = []
    names = {e.name for e in entries}
    for entry in entries:
        name = entry.name
        if (
            targets is not None
            and _root_target(name) not in targets
            and not ((m := _LOCKFILE.match(name)) is not None and _root_target(m["target"]) in targets)
        ):
            continue
        path = Path(folder, name)
        staged = _STAGED.match(name)
        if staged is not None:
            if entry.is_symlink():
                continue  # we never create links: not ours
            token = staged["token"]
            if staged["tmp"]:  # a marker killed before it was published: locked by its writer from the start
                with _claim_local(path) as (dead, info):
                    # nothing depends on a marker before it is published: one whose lock is free can go (a writer
                    # between creating and locking it starts over)
                    why = "an unpublished owner marker nobody holds" if dead else "its writer is running"
                    found.append(Leftover(str(path), "owner", _tree_size(path), describe_owner(info), dead, why, token))
                continue
            marker_name = owner_name(staged["target"], token)
            kind = {"partial": "staging", "old": "old", "owner": "owner"}[staged["kind"]]
            if kind != "owner" and is_staging_name(staged["target"]):
                kind = "nested"
            if marker_name in names or os.path.lexists(folder / marker_name):  # (a listing is no snapshot)
                with _claim_local(folder / marker_name) as (dead, info):
                    if info is None and name == marker_name:
                        continue  # a file of that name that is not our marker
                    why = "its writer is gone (owner lock free)" if dead else "its writer is running"
                    found.append(Leftover(str(path), kind, _tree_size(path), describe_owner(info), dead, why,
                                          token, str(folder / marker_name)))  # fmt: skip
                continue
            with contextlib.suppress(OSError):
                age = time.time() - _newest_change(path)
                dead = age >= min_age
                why = (f"no owner marker, unchanged for {age:.0f} s" if dead
                       else f"no owner marker, changed {age:.0f} s ago (< {min_age:.0f} s)")  # fmt: skip
                found.append(Leftover(str(path), kind, _tree_size(path), "-", dead, why, token))
            continue
        lock = _LOCKFILE.match(name)
        if lock is not None and entry.is_file(follow_symlinks=False):
            with _claim_local(path) as (dead, info):
                if info is None:  # not ours, or emptied by a writer killed between creating and filling it
                    with contextlib.suppress(OSError):
                        empty = path.lstat()
                        if dead and empty.st_size == 0 and time.time() - empty.st_mtime >= min_age:
                            found.append(Leftover(str(path), "lock", 0, "-", True, "an empty lock file nobody holds"))
                    continue
                why = "no writer holds it" if dead else "a writer holds it"
                found.append(Leftover(str(path), "lock", _tree_size(path), describe_owner(info), dead, why))
    return found


def find_leftovers(location: Location, *, recursive: bool = True, min_age: float = DEFAULT_MIN_AGE) -> list[Leftover]:
    """Every leftover under ``location`` (a catalog root or any folder); local folders are walked without
    following symlinks and without entering datasets; object stores are listed."""
    if not location.is_local:
        return _remote_leftovers(location, min_age=min_age)
    found: list[Leftover] = []
    root = Path(location.url)
    if not root.is_dir():
        return []
    for folder, dirs, _files in os.walk(root, followlinks=False):
        here = Path(folder)
        found.extend(local_leftovers(here, min_age=min_age))
        if not recursive:
            break
        dirs[:] = sorted(d for d in dirs if not _STAGED.match(d) and not (here / d).is_symlink()
                         and not any((here / d / m).exists() for m in ROOT_METADATA))  # fmt: skip
    return found


def _remote_leftovers(location: Location, *, min_age: float) -> list[Leftover]:
    fs, base = location.filesystem()
    found: list[Leftover] = []
    with storage_errors(location):
        fs.invalidate_cache()
        listing = fs.find(base, withdirs=True, detail=True, maxdepth=None)
    tops: dict[str, dict[str, Any]] = {}
    for path, info in listing.items():
        relative = path[len(base) :].lstrip("/")
        parts = relative.split("/")
        for depth, part in enumerate(parts):
            if _STAGED.match(part):
                tops.setdefault("/".join([base, *parts[: depth + 1]]), {"size": 0, "mtime": 0.0})
                top = tops["/".join([base, *parts[: depth + 1]])]
                top["size"] += int(info.get("size") or 0) if info.get("type") != "directory" else 0
                modified = info.get("LastModified") or info.get("mtime") or info.get("updated")
                if isinstance(modified, datetime):
                    top["mtime"] = max(top["mtime"], modified.timestamp())
                break
    for path, info in sorted(tops.items()):
        name = path.rsplit("/", 1)[-1]
        match = _STAGED.match(name)
        assert match is not None
        marker = path.rsplit("/", 1)[0] + "/" + owner_name(match["target"], match["token"])
        owner: dict[str, Any] | None = None
        with contextlib.suppress(Exception):
            owner = _read_marker(fs.cat_file(marker))
        age = time.time() - info["mtime"] if info["mtime"] else float("inf")
        if owner is not None and owner.get("host") == _HOST:
            dead = not _pid_alive(int(owner.get("pid", -1)), owner.get("process_start"))
            why = "its writer (on this host) is gone" if dead else "its writer is running"
        else:
            dead = age >= min_age
            why = f"unchanged for {age:.0f} s" + ("" if dead else f" (< {min_age:.0f} s)")
        kind = {"partial": "staging", "old": "old", "owner": "owner"}[match["kind"]]
        found.append(Leftover(f"{location.protocol}://{path}", kind, int(info["size"]), describe_owner(owner),
                              dead, why, match["token"], None))  # fmt: skip
    return found


def remove_leftovers(leftovers: list[Leftover], storage_options: dict[str, Any] | None = None) -> int:
    """Delete the dead ones (re-checking each owner under its lock); return the bytes freed."""
    freed = 0
    by_marker: dict[str | None, list[Leftover]] = {}
    for item in leftovers:
        if item.dead:
            by_marker.setdefault(item.marker, []).append(item)
    for marker, items in by_marker.items():
        if marker is None:
            for item in items:
                freed += _remove_path(item, storage_options)
            continue
        with _claim_local(Path(marker)) as (dead, _info):
            if not dead:
                continue  # a writer took it meanwhile (cannot happen for a random token, but never guess)
            # the staging and old folders first, the marker last: a crash here leaves a marker that says "dead"
            for item in sorted(items, key=lambda i: i.kind == "owner"):
                freed += _remove_path(item, storage_options)
    return freed


def _remove_path(item: Leftover, storage_options: dict[str, Any] | None) -> int:
    location = Location(url=item.path, storage_options=dict(storage_options or {}))
    if not location.is_local:
        remove(location)
        return item.size
    path = Path(item.path)
    if item.kind == "lock":
        return item.size if _remove_lock_file(path) else 0
    try:
        info = path.lstat()
    except FileNotFoundError:
        return 0
    if stat.S_ISLNK(info.st_mode):
        return 0  # never follow or delete a link
    if stat.S_ISDIR(info.st_mode):
        shutil.rmtree(path)
    else:
        path.unlink()
    return item.size


def _remove_lock_file(path: Path) -> bool:
    """Unlink a lock file only while holding its lock, and only if it is still the file locked."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    except FileNotFoundError:
        return False
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        with contextlib.suppress(FileNotFoundError):
            content = os.pread(fd, 65536, 0)
            if os.stat(path).st_ino == os.fstat(fd).st_ino and (not content or _read_marker(content) is not None):
                os.unlink(path)
                return True
        return False
    finally:
        os.close(fd)


def sweep(target: Location, min_age: float = DEFAULT_MIN_AGE) -> int:
    """Remove the dead leftovers of ``target`` (local disks only; a lock held by this process or another counts
    as alive); return the bytes freed."""
    if not target.is_local:
        return 0
    with contextlib.suppress(OSError):
        return remove_leftovers(local_leftovers(Path(target.url).parent, target=target.name, min_age=min_age))
    return 0


def sweep_many(targets: Iterable[Location], min_age: float = DEFAULT_MIN_AGE) -> int:
    """:func:`sweep` for many targets, listing each folder once (a catalog's root holds thousands of datasets)."""
    by_folder: dict[Path, set[str]] = {}
    for target in targets:
        if target.is_local:
            by_folder.setdefault(Path(target.url).parent, set()).add(target.name)
    freed = 0
    for folder, names in by_folder.items():
        with contextlib.suppress(OSError):
            freed += remove_leftovers(local_leftovers(folder, target=names, min_age=min_age))
    return freed


#: zarr's LocalStore writes each file as ``NAME.<32 hex>.partial`` and renames it into place.
_ZARR_TEMPORARY = re.compile(r"\.[0-9a-f]{32}\.partial$")


def remove_zarr_temporaries(location: Location, folders: Iterable[str]) -> int:
    """Delete the temporary files a killed zarr writer left in ``folders`` (relative to a local dataset); call it
    only while holding the dataset's lock. Returns the number removed."""
    if not location.is_local:
        return 0
    removed = 0
    for folder in folders:
        with contextlib.suppress(OSError):
            for entry in os.scandir(os.path.join(location.url, folder)):
                if _ZARR_TEMPORARY.search(entry.name) and entry.is_file(follow_symlinks=False):
                    with contextlib.suppress(FileNotFoundError):
                        os.unlink(entry.path)
                        removed += 1
    return removed
