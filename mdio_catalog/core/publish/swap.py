"""Staging beside a target, the foreign-content check, and the swap that makes a complete version current
(``renameat2(RENAME_EXCHANGE)`` on local disks, copy with root metadata last on object stores)."""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import errno
import os
import stat
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from mdio_catalog.core.publish.leftovers import sweep
from mdio_catalog.core.publish.markers import (
    DEFAULT_MIN_AGE,
    OwnerMarker,
    new_token,
    old_name,
    owner_name,
    staging_name,
    target_lock,
)
from mdio_catalog.core.recording import recording
from mdio_catalog.core.store import ROOT_METADATA, Location, is_mdio, remove, storage_errors
from mdio_catalog.exceptions import ForeignContentError, MDIOAlreadyExistsError, MDIONotFoundError
from mdio_catalog.localfile import errors_name_the_target


# --- what may be replaced -------------------------------------------------------------------------------------------
def describe_foreign(path: Path) -> str | None:
    """Why the entry at ``path`` (not followed) is not a dataset we may replace, or None when it may be
    (absent, an empty folder, or a folder holding a Zarr group)."""
    try:
        info = path.lstat()
    except FileNotFoundError:
        return None
    if stat.S_ISLNK(info.st_mode):
        return f"a symbolic link (to {os.readlink(path)})"
    if not stat.S_ISDIR(info.st_mode):
        return "a file, not a dataset folder"
    if any((path / name).is_file() and not (path / name).is_symlink() for name in ROOT_METADATA):
        return None  # a Zarr group: .zgroup (v2, MDIO v0) or zarr.json (v3, MDIO v1)
    if not any(path.iterdir()):
        return None
    return "a folder that is not an MDIO dataset"


def move_aside(path: Path) -> Path:
    """Rename a foreign entry (a link is moved as a link) to ``NAME.foreign-TIMESTAMP`` beside it; keep it."""
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
    aside = path.with_name(f"{path.name}.foreign-{stamp}")
    counter = 1
    while os.path.lexists(aside):
        aside = path.with_name(f"{path.name}.foreign-{stamp}-{counter}")
        counter += 1
    os.rename(path, aside)
    return aside


def check_replaceable(
    target: Location,
    overwrite: bool,
    *,
    owned: Callable[[Location], bool] | None = None,
    force_aside: bool = False,
    how: str = "pass overwrite=True",
) -> Path | None:
    """Refuse unless ``target`` is free, or ``overwrite`` and it holds a dataset we may replace (an MDIO dataset;
    with ``owned``, one that check accepts). Foreign content is never deleted: it is refused with
    :class:`ForeignContentError`, or with ``force_aside`` moved aside (returned) and kept."""
    if not target.is_local:
        with storage_errors(target):
            fs, remote_path = target.filesystem()
            fs.invalidate_cache()
            if not fs.exists(remote_path):
                return None
        if not overwrite:
            raise MDIOAlreadyExistsError(f"{target} already exists; {how} to replace it (nothing was changed).")
        if not is_mdio(target) or (owned is not None and not owned(target)):
            raise ForeignContentError(
                f"{target} holds objects that are not {'a dataset this catalog built' if owned else 'an MDIO dataset'}"
                "; nothing was changed. Move or delete them yourself, or choose another output path."
            )
        return None
    path = Path(target.url)
    reason = describe_foreign(path)
    if reason is None:
        present = path.is_dir() and any(path.iterdir())
        if not present:
            return None
        if not overwrite:
            raise MDIOAlreadyExistsError(f"{target} already exists; {how} to replace it (nothing was changed).")
        if owned is None or owned(target):
            return None
        reason = "an MDIO dataset this catalog did not build (its provenance does not name this dataset and path)"
    if force_aside:
        return move_aside(path)
    raise ForeignContentError(
        f"{target} is {reason}; nothing was changed and nothing was deleted ("
        + ("a build only replaces datasets this catalog built" if owned else "overwrite only replaces MDIO datasets")
        + "). Move it away (or choose another output path)"
        + (", or rerun with --force to have it renamed aside and kept." if owned else ".")
    )


# --- the swap -------------------------------------------------------------------------------------------------------
_AT_FDCWD = -100
_RENAME_EXCHANGE = 2


def _renameat2() -> Any:
    with contextlib.suppress(OSError, AttributeError):
        libc = ctypes.CDLL(ctypes.util.find_library("c") or None, use_errno=True)
        function = libc.renameat2
        function.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
        function.restype = ctypes.c_int
        return function
    return None


_RENAMEAT2 = _renameat2()


def exchange(first: str, second: str) -> bool:
    """Swap two paths atomically (``renameat2(RENAME_EXCHANGE)``); False when the system cannot."""
    if _RENAMEAT2 is None:
        return False
    result = _RENAMEAT2(_AT_FDCWD, os.fsencode(first), _AT_FDCWD, os.fsencode(second), _RENAME_EXCHANGE)
    if result == 0:
        return True
    code = ctypes.get_errno()
    if code in (errno.ENOSYS, errno.EINVAL, errno.ENOTSUP, errno.EXDEV):
        return False
    raise OSError(code, os.strerror(code), second)


def promote_local(
    staging: Location, target: Location, token: str, retire: Callable[[Location], None] | None = None
) -> None:
    """Make ``staging`` the version at ``target`` (see the module docstring) and delete the old version, or hand
    it to ``retire`` (which keeps it: :mod:`.versions`; it must not raise, the new version is current by then)."""
    retire = retire or remove
    with storage_errors(target):
        if not os.path.lexists(staging.url):
            raise MDIONotFoundError(f"Nothing was written for {target}; the previous content is unchanged.")
        if not os.path.lexists(target.url):
            os.rename(staging.url, target.url)
            return
        if exchange(staging.url, target.url):
            retire(staging)  # the old version, now under the staging name
            return
        old = target.sibling(old_name(target.name, token))
        os.replace(target.url, old.url)
        try:
            os.replace(staging.url, target.url)
        except BaseException:
            os.replace(old.url, target.url)  # put the previous version back before reporting the failure
            raise
        retire(old)


@contextlib.contextmanager
def staged(
    target: Location,
    *,
    kind: str,
    sweep_min_age: float = DEFAULT_MIN_AGE,
) -> Iterator[tuple[Location, str]]:
    """A staging path beside ``target`` covered by an owner marker: yields (staging, token). The caller promotes;
    on failure the staging is removed. The marker is released when the block ends."""
    sweep(target, sweep_min_age)
    token = new_token()
    with errors_name_the_target():  # a failure names the target, never the staging path (issue 15)
        marker = OwnerMarker(target.sibling(owner_name(target.name, token)), token, kind, target.url)
        staging = target.sibling(staging_name(target.name, token))
        try:
            try:
                yield staging, token
            except BaseException:
                with contextlib.suppress(Exception):
                    remove(staging)
                raise
        finally:
            marker.release()


#: Root metadata files: copied last on object stores, so a target is only recognised once everything is there
#: (``zarr.json``: the root of a Zarr v3 / MDIO v1 dataset).
_ROOT_MARKERS = (".zmetadata", ".zattrs", "zarr.json", ".zgroup")


def promote_remote(staging: Location, target: Location) -> None:
    """Object stores have no rename: copy every staged object server-side, root metadata last, then drop the
    staging prefix. The old version's ``.zgroup`` is deleted first, so from then until the new ``.zgroup`` is
    copied the dataset is "not found" (the publish gap of object stores; never a half-valid dataset). An
    interruption leaves a target without ``.zgroup`` (not a dataset) and the staging copy."""
    fs, dst = target.filesystem()
    _, src = staging.filesystem()
    fs.invalidate_cache()
    files = [path for path in fs.find(src) if not path.endswith("/")]
    if not files:
        raise MDIONotFoundError(f"Nothing was written for {target}; the previous content is unchanged.")
    relative = [path[len(src) :].lstrip("/") for path in files]
    body = [r for r in relative if r not in _ROOT_MARKERS]
    markers = [r for r in _ROOT_MARKERS if r in relative]  # .zgroup last: the dataset appears when complete
    if fs.exists(dst):
        for marker in reversed(_ROOT_MARKERS):  # .zgroup first: the old dataset stops looking valid at once
            if fs.exists(f"{dst}/{marker}"):
                fs.rm_file(f"{dst}/{marker}")
        fs.rm(dst, recursive=True)
    if body:
        fs.copy([f"{src}/{r}" for r in body], [f"{dst}/{r}" for r in body])
    for marker in markers:
        fs.copy(f"{src}/{marker}", f"{dst}/{marker}")
    fs.rm(src, recursive=True)
    fs.invalidate_cache()


def promote(
    staging: Location, target: Location, token: str, retire: Callable[[Location], None] | None = None
) -> None:
    """Make the complete ``staging`` the current version at ``target`` (``retire``: see :func:`promote_local`;
    object stores always delete the old version)."""
    if target.is_local:
        promote_local(staging, target, token, retire)
        return
    with storage_errors(target):
        promote_remote(staging, target)


@contextlib.contextmanager
def staged_write(
    location: Location,
    overwrite: bool,
    *,
    owned: Callable[[Location], bool] | None = None,
    force_aside: bool = False,
    on_aside: Callable[[Path], None] | None = None,
    wait: float = 0.0,
    on_published: Callable[[], None] | None = None,
    retire: Callable[[Location], None] | None = None,
) -> Iterator[Location]:
    """Write a whole dataset beside ``location`` and make it current only when complete.

    Under the target's lock (a second writer is refused with :class:`DatasetBusyError`, or waits ``wait``
    seconds): refuse foreign content (:func:`check_replaceable`), remove dead writers' leftovers of this target,
    yield a staging location covered by an owner marker, then swap it in (:func:`promote`). On any failure
    (including KeyboardInterrupt) the staging is deleted and the previous version is untouched. With
    ``force_aside``, foreign content found at the target is renamed aside (``on_aside`` is told where) just before
    the swap, never deleted. ``on_published`` runs after the swap, still under the lock (a catalog records its
    lock entry there, so two writers of one target record in the order they published). ``retire`` receives the
    displaced old version on local disks instead of it being deleted (a catalog keeping versions moves it aside).
    """
    with errors_name_the_target(), target_lock(location, wait=wait):
        if not (force_aside and location.is_local):
            check_replaceable(location, overwrite, owned=owned)
        with staged(location, kind="dataset") as (staging, token), recording(staging.url) as recorder:
            yield staging
            if location.is_local and force_aside:
                reason = describe_foreign(Path(location.url))
                if reason is not None or (owned is not None and is_mdio(location) and not owned(location)):
                    aside = move_aside(Path(location.url))
                    if on_aside is not None:
                        on_aside(aside)
            else:
                check_replaceable(location, overwrite, owned=owned)  # nothing appeared meanwhile
            from mdio_catalog.core.verify import record_published  # (the verify layer reads through chunkfetch)

            record_published(staging, recorder)  # checksums of what is about to become current
            promote(staging, location, token, retire)
            if on_published is not None:
                on_published()
