"""How a version becomes current: staging beside the target, owner markers, the per-target lock, the swap, and
finding (and removing) what dead writers left behind.

Every write of a whole dataset (or an exported SEG-Y file) goes to a staging path beside its target,
``.NAME.partial-TOKEN``, and becomes visible only when complete. Before the staging path is created its writer
publishes an **owner marker** beside it, ``.NAME.owner-TOKEN``: a small JSON file (pid, host, start time,
target) on which the writer holds an exclusive ``flock`` for as long as the staging exists. The marker is created
under a temporary name, locked, then renamed into place, so a visible marker is always locked by a live writer or
belongs to a dead one: a marker whose lock can be taken belongs to a writer that is gone, and its staging path,
its displaced old version (``.NAME.old-TOKEN``) and nested staging (``..NAME.partial-TOKEN.partial-OTHER``) are
leftovers. Those are removed by the next write to the same target and by ``mdio-catalog gc``; never those of a
live writer. Staging paths without a marker (written before markers existed) count as dead only when nothing in
them changed for ``min_age`` seconds.

**Publishing, local disks.** A new version replaces the old one with ``renameat2(RENAME_EXCHANGE)``: the two
folders swap names in one step, so a reader opening the dataset path sees the old or the new version, never
nothing and never a half-written folder; the old version (now under the staging name) is deleted afterwards. Where
the call is not available (not Linux, old glibc, a filesystem without it), the old version is renamed away and
the new one renamed in: two renames with a gap of microseconds during which the path does not exist. An accessor
opened before the swap keeps reading by path, so it reads the new version's files from then on; readers that must
not mix versions re-open after a publish (the ``mdio_catalog`` root attribute says which build they see).

**The lock.** A whole-dataset write holds an exclusive ``flock`` on ``.NAME.lock`` beside the target from before
its staging starts until the swap is done; a second writer of the same target is refused at once with
:class:`~mdio_catalog.exceptions.DatasetBusyError` naming the holder (or waits, with ``wait=``). The lock file is
removed on release (the inode is re-checked after locking, so a writer never holds a lock on an unlinked file).

**Object stores** (S3, GCS, ...) have neither rename nor locks. A publish copies every staged object server-side,
the root metadata (``.zgroup``) last, after deleting the old version root metadata first: between the two there
is a gap during which the dataset is "not found" (never half-valid: without ``.zgroup`` nothing opens), and a
reader that opened the old version may read a mix. No lock is taken: two writers of one dataset on an object
store must be serialised by the caller (one builder per catalog); owner markers carry pid, host and start time
only, so ``gc`` treats a remote leftover as dead when its writer ran on this host and is gone, or when it is older
than ``min_age``.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import errno
import fcntl
import json
import os
import re
import shutil
import socket
import stat
import time
import uuid
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from mdio_catalog.core.store import Location, is_mdio, remove, storage_errors
from mdio_catalog.exceptions import (
    DatasetBusyError,
    ForeignContentError,
    MDIOAlreadyExistsError,
    MDIONotFoundError,
)

#: Key every marker and lock file of ours carries (anything without it is not ours and is never deleted).
MARKER_KEY = "mdio_catalog_owner"
#: Seconds after which a leftover without an owner marker (or on an object store) counts as abandoned.
DEFAULT_MIN_AGE = 3600.0

_TOKEN = r"[0-9a-f]{12}"
_STAGED = re.compile(rf"^\.(?P<target>.+)\.(?P<kind>partial|old|owner)-(?P<token>{_TOKEN})(?P<tmp>\.tmp-{_TOKEN})?$")
_LOCKFILE = re.compile(r"^\.(?P<target>.+)\.lock$")
_HOST = socket.gethostname()


def new_token() -> str:
    return uuid.uuid4().hex[:12]


def staging_name(name: str, token: str) -> str:
    return f".{name}.partial-{token}"


def old_name(name: str, token: str) -> str:
    return f".{name}.old-{token}"


def owner_name(name: str, token: str) -> str:
    return f".{name}.owner-{token}"


def lock_name(name: str) -> str:
    return f".{name}.lock"


def is_staging_name(name: str) -> bool:
    """Whether ``name`` is one of our staging/old/owner names (such targets are protected by their owner)."""
    return _STAGED.match(name) is not None


def _process_start(pid: int) -> str | None:
    """The start time of ``pid`` (clock ticks since boot, from /proc), None when unknown or not running."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return text.rsplit(")", 1)[-1].split()[19]


def _pid_alive(pid: int, start: str | None) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    now = _process_start(pid)
    return start is None or now is None or now == start


def _owner_info(kind: str, target: str) -> dict[str, Any]:
    return {
        MARKER_KEY: 1,
        "pid": os.getpid(),
        "host": _HOST,
        "process_start": _process_start(os.getpid()),
        "started": datetime.now(UTC).isoformat(timespec="seconds"),
        "kind": kind,
        "target": target,
    }


def _read_marker(data: bytes) -> dict[str, Any] | None:
    try:
        info = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return None
    return info if isinstance(info, dict) and MARKER_KEY in info else None


def describe_owner(info: dict[str, Any] | None) -> str:
    if not info:
        return "-"
    return f"pid {info.get('pid')} on {info.get('host')} since {info.get('started')}"


# --- owner markers ------------------------------------------------------------------------------------------------
class OwnerMarker:
    """The marker of one staged write, locked by this process until :meth:`release`."""

    def __init__(self, location: Location, token: str, kind: str, target: str) -> None:
        self.location = location
        self.token = token
        self._fd: int | None = None
        body = json.dumps(_owner_info(kind, target)).encode()
        with storage_errors(location):
            if location.is_local:
                self._fd = self._publish_local(Path(location.url), body)
            else:
                fs, path_ = location.filesystem()
                fs.pipe_file(path_, body)

    @staticmethod
    def _publish_local(path: Path, body: bytes) -> int:
        """Create the marker under a temporary name, lock it, fill it, rename it into place; return its locked fd.
        A gc may delete a temporary marker whose lock it can take (nothing depends on it yet): then start over."""
        for attempt in range(5):
            temporary = path.with_name(f"{path.name}.tmp-{new_token()}")
            fd = os.open(temporary, os.O_RDWR | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o644)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX)  # locked before it becomes visible under its real name
                os.write(fd, body)
                os.rename(temporary, path)
                return fd
            except FileNotFoundError:
                os.close(fd)
                if attempt == 4:
                    raise
            except BaseException:
                os.close(fd)
                with contextlib.suppress(OSError):
                    temporary.unlink()
                raise
        raise AssertionError("unreachable")  # pragma: no cover

    def release(self) -> None:
        """Remove the marker (after the staging it covers is gone or published)."""
        with contextlib.suppress(Exception):
            if self.location.is_local:
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(self.location.url)
            else:
                fs, path = self.location.filesystem()
                fs.rm_file(path)
        if self._fd is not None:
            with contextlib.suppress(OSError):
                os.close(self._fd)
            self._fd = None


@contextlib.contextmanager
def _claim_local(marker: Path) -> Iterator[tuple[bool, dict[str, Any] | None]]:
    """Try to take the lock of a local owner marker: (dead, info). The lock is held for the block (so a dead
    writer's leftovers are deleted under it), and released after."""
    try:
        fd = os.open(marker, os.O_RDONLY | os.O_CLOEXEC)
    except FileNotFoundError:
        yield False, None
        return
    try:
        info = _read_marker(os.read(fd, 65536))
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False, info
            return
        yield True, info
    finally:
        os.close(fd)


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


def local_leftovers(folder: Path, *, target: str | None = None, min_age: float = DEFAULT_MIN_AGE) -> list[Leftover]:
    """Leftovers directly inside ``folder`` (all of them, or those of dataset/file name ``target``)."""
    try:
        entries = sorted(os.scandir(folder), key=lambda e: e.name)
    except (FileNotFoundError, NotADirectoryError):
        return []
    found: list[Leftover] = []
    names = {e.name for e in entries}
    for entry in entries:
        name = entry.name
        if (
            target is not None
            and _root_target(name) != target
            and not ((m := _LOCKFILE.match(name)) is not None and _root_target(m["target"]) == target)
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
        dirs[:] = sorted(d for d in dirs if not _STAGED.match(d) and not (here / d / ".zgroup").exists()
                         and not (here / d).is_symlink())  # fmt: skip
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


# --- the per-target lock --------------------------------------------------------------------------------------------
@contextlib.contextmanager
def target_lock(target: Location, *, wait: float = 0.0, what: str = "write") -> Iterator[None]:
    """Hold ``.NAME.lock`` beside a local target (no-op on object stores: see the module docstring)."""
    if not target.is_local or is_staging_name(target.name):
        yield
        return
    path = Path(target.url).with_name(lock_name(target.name))
    deadline = time.monotonic() + max(wait, 0.2)  # a moment for a gc that is checking the lock file
    with storage_errors(target):
        path.parent.mkdir(parents=True, exist_ok=True)  # the write would create it anyway
    while True:
        with storage_errors(target):
            fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = _read_marker(os.pread(fd, 65536, 0))
            os.close(fd)
            if time.monotonic() < deadline:
                time.sleep(0.05)
                continue
            raise DatasetBusyError(
                f"{target} is being written by another process ({describe_owner(holder)}); nothing was changed. "
                "Wait for it to finish and run again."
            ) from None
        try:
            same = os.stat(path).st_ino == os.fstat(fd).st_ino
        except FileNotFoundError:
            same = False
        if same:
            break
        os.close(fd)  # the holder removed the file between our open and lock: take the new one
    try:
        os.ftruncate(fd, 0)
        os.pwrite(fd, json.dumps(_owner_info(what, target.url)).encode(), 0)
        yield
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(path)
        os.close(fd)


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
    if (path / ".zgroup").is_file() and not (path / ".zgroup").is_symlink():
        return None
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


def promote_local(staging: Location, target: Location, token: str) -> None:
    """Make ``staging`` the version at ``target`` (see the module docstring) and delete the old version."""
    with storage_errors(target):
        if not os.path.lexists(staging.url):
            raise MDIONotFoundError(f"Nothing was written for {target}; the previous content is unchanged.")
        if not os.path.lexists(target.url):
            os.rename(staging.url, target.url)
            return
        if exchange(staging.url, target.url):
            remove(staging)  # the old version, now under the staging name
            return
        old = target.sibling(old_name(target.name, token))
        os.replace(target.url, old.url)
        try:
            os.replace(staging.url, target.url)
        except BaseException:
            os.replace(old.url, target.url)  # put the previous version back before reporting the failure
            raise
        remove(old)


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


#: Root metadata files: copied last on object stores, so a target is only recognised once everything is there.
_ROOT_MARKERS = (".zmetadata", ".zattrs", ".zgroup")


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


def promote(staging: Location, target: Location, token: str) -> None:
    """Make the complete ``staging`` the current version at ``target``."""
    if target.is_local:
        promote_local(staging, target, token)
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
) -> Iterator[Location]:
    """Write a whole dataset beside ``location`` and make it current only when complete.

    Under the target's lock (a second writer is refused with :class:`DatasetBusyError`, or waits ``wait``
    seconds): refuse foreign content (:func:`check_replaceable`), remove dead writers' leftovers of this target,
    yield a staging location covered by an owner marker, then swap it in (:func:`promote`). On any failure
    (including KeyboardInterrupt) the staging is deleted and the previous version is untouched. With
    ``force_aside``, foreign content found at the target is renamed aside (``on_aside`` is told where) just before
    the swap, never deleted.
    """
    with target_lock(location, wait=wait):
        if not (force_aside and location.is_local):
            check_replaceable(location, overwrite, owned=owned)
        with staged(location, kind="dataset") as (staging, token):
            yield staging
            if location.is_local and force_aside:
                reason = describe_foreign(Path(location.url))
                if reason is not None or (owned is not None and is_mdio(location) and not owned(location)):
                    aside = move_aside(Path(location.url))
                    if on_aside is not None:
                        on_aside(aside)
            else:
                check_replaceable(location, overwrite, owned=owned)  # nothing appeared meanwhile
            promote(staging, location, token)
