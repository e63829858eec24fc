"""Kept versions of a local dataset: the folder they live in, moving a displaced version there, swapping one back
in, and removing one that nobody reads.

A dataset ``ROOT/NAME`` that keeps earlier versions (``keep: N`` in the catalog) keeps them in a hidden folder
beside it, ``ROOT/.NAME.versions/BUILD_ID/``: one complete dataset folder per version, named by the build id of
the provenance it carries. Moving a version there, and swapping one back, is a ``rename`` inside one filesystem:
no data is copied, and the checksum record (``checksums/`` inside the dataset) moves with it, so a version that
becomes current again verifies exactly as it did when it was built.

- **Publishing** a new version under ``keep > 0``: the swap (:func:`~mdio_catalog.core.publish.promote_local`)
  leaves the old version under the staging name; :func:`keep_version` renames it into the versions folder instead
  of deleting it.
- **Rollback**: :func:`swap_in` exchanges a kept version with the current one (``renameat2(RENAME_EXCHANGE)``, so
  a reader opening the path sees the old or the new version, never nothing), then the caller renames the displaced
  one to its own build id.
- **Pruning**: :func:`remove_version` takes the folder's exclusive ``flock`` without waiting; a reader holds a
  shared one (:class:`~mdio_catalog.core.pin.DatasetPin`), so a version being read is left alone (False) for the
  next build or ``gc``. Under the lock the folder is renamed to a leftover name covered by an owner marker
  (``.BUILD_ID.old-TOKEN``) and then deleted: a prune killed half-way leaves a leftover that ``gc`` removes.
- **Foreign content**: a symbolic link or a file where the versions folder should be is never written through or
  replaced (:class:`~mdio_catalog.exceptions.ForeignContentError`); entries in it that were not moved there by a
  build are never pruned (the catalog prunes only the versions its lock lists).

The leftover rules of :mod:`.leftovers` do not match these names (``.NAME.versions`` has no token), so a sweep
never takes a kept version for a dead writer's leftover. Object stores have no rename: keeping versions there is
refused by the catalog (see the README).
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import shutil
import stat
from collections.abc import Callable
from pathlib import Path

from mdio_catalog.core.publish.leftovers import local_leftovers, remove_leftovers
from mdio_catalog.core.publish.markers import (
    DEFAULT_MIN_AGE,
    OwnerMarker,
    _claim_local,
    new_token,
    old_name,
    owner_name,
)
from mdio_catalog.core.publish.swap import exchange
from mdio_catalog.core.store import Location
from mdio_catalog.exceptions import ForeignContentError, MDIONotFoundError

#: Suffix of the hidden folder of kept versions beside a dataset: ``.NAME.versions``.
VERSIONS_SUFFIX = ".versions"


def versions_folder(target_path: str) -> str:
    """The folder of kept versions of the local dataset at ``target_path``."""
    head, name = os.path.split(os.path.abspath(target_path).rstrip(os.sep))
    return os.path.join(head, f".{name}{VERSIONS_SUFFIX}")


def check_versions_folder(target_path: str) -> None:
    """Refuse a versions folder that is a symbolic link or not a folder (nothing is written through a link)."""
    folder = versions_folder(target_path)
    try:
        info = os.lstat(folder)
    except FileNotFoundError:
        return
    if stat.S_ISLNK(info.st_mode):
        what = f"a symbolic link (to {os.readlink(folder)})"
    elif not stat.S_ISDIR(info.st_mode):
        what = "a file, not a folder"
    else:
        return
    raise ForeignContentError(
        f"{folder} is {what}; the catalog keeps earlier versions of {target_path} only in a folder of its own there "
        "and changed nothing. Move it away, or set keep: 0 for this dataset."
    )


def _free_name(folder: str, name: str) -> str:
    candidate, counter = os.path.join(folder, name), 1
    while os.path.lexists(candidate):
        counter += 1
        candidate = os.path.join(folder, f"{name}-{counter}")
    return candidate


def keep_version(displaced: str, target_path: str, build_id: str) -> str:
    """Rename the folder ``displaced`` (a version of ``target_path`` just replaced) into the versions folder as
    ``build_id`` (``build_id-2``... when that name is taken); return its new path. Call under the target's lock."""
    check_versions_folder(target_path)
    folder = versions_folder(target_path)
    with contextlib.suppress(FileExistsError):
        os.mkdir(folder)
    destination = _free_name(folder, build_id)
    os.rename(displaced, destination)
    return destination


def rescue_displaced(target_path: str, build_of: Callable[[str], str | None]) -> list[str]:
    """Move into the versions folder what a publish killed between its folder exchange and keeping the replaced
    version left under its staging name: dead staging folders of ``target_path`` for which ``build_of`` (given the
    folder) names a build to keep. Each is moved while holding its dead owner marker's lock, so a concurrent sweep
    or ``gc`` never deletes it half-way. Returns the new paths. Call before sweeping the target."""
    head, name = os.path.split(os.path.abspath(target_path).rstrip(os.sep))
    moved = []
    for item in local_leftovers(Path(head), target=name):
        if item.kind != "staging" or not item.dead or item.marker is None:
            continue
        build_id = build_of(item.path)
        if build_id is None:
            continue
        with _claim_local(Path(item.marker)) as (dead, _info):
            if dead and os.path.isdir(item.path) and not os.path.islink(item.path):
                moved.append(keep_version(item.path, target_path, build_id))
    return moved


def rename_version(path: str, target_path: str, build_id: str) -> str:
    """Give a kept version at ``path`` the name ``build_id`` in the versions folder (unchanged when it has it)."""
    if os.path.basename(path) == build_id:
        return path
    destination = _free_name(versions_folder(target_path), build_id)
    os.rename(path, destination)
    return destination


def swap_in(version_path: str, target_path: str) -> bool:
    """Make the kept version at ``version_path`` current at ``target_path``; the version that was current is then
    at ``version_path`` (True), or there was none (False). Atomic with ``renameat2(RENAME_EXCHANGE)``; elsewhere
    three renames with a gap of microseconds during which the path does not exist. Call under the target's lock."""
    if not os.path.isdir(version_path) or os.path.islink(version_path):
        raise MDIONotFoundError(f"The kept version {version_path} is gone; nothing was changed.")
    if not os.path.lexists(target_path):
        os.rename(version_path, target_path)
        return False
    if exchange(version_path, target_path):
        return True
    head, name = os.path.split(version_path)
    aside = os.path.join(head, old_name(name, new_token()))
    os.rename(target_path, aside)
    try:
        os.rename(version_path, target_path)
    except BaseException:
        os.rename(aside, target_path)
        raise
    os.rename(aside, version_path)
    return True


def is_pinned(path: str) -> bool:
    """Whether a reader has the folder at ``path`` open (holds its shared lock)."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC)
    except OSError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        os.close(fd)
    return False


def remove_version(path: str) -> bool:
    """Delete the kept version at ``path`` unless a reader has it open: True when it is gone (or was already),
    False when it is in use and was left alone."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC)
    except FileNotFoundError:
        return True
    except OSError:
        return False  # a link or a file where a version should be: not ours to delete
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        head, name = os.path.split(path)
        token = new_token()
        marker = OwnerMarker(Location(url=os.path.join(head, owner_name(name, token))), token, "prune", path)
        try:
            trash = os.path.join(head, old_name(name, token))
            os.rename(path, trash)  # under the lock: a reader arriving now finds nothing, never a half-deleted folder
            os.close(fd)
            fd = -1
            shutil.rmtree(trash, ignore_errors=True)
        finally:
            marker.release()
        return True
    finally:
        if fd >= 0:
            os.close(fd)


def sweep_versions(target_path: str, min_age: float = DEFAULT_MIN_AGE) -> int:
    """Remove what killed prunes left in the versions folder (their owner markers are free); return bytes freed."""
    folder = versions_folder(target_path)
    if not os.path.isdir(folder) or os.path.islink(folder):
        return 0
    with contextlib.suppress(OSError):
        return remove_leftovers(local_leftovers(Path(folder), min_age=min_age))
    return 0
