"""Owner markers and the per-target lock: who is writing a target, and whether that writer is still alive.

A marker (``.NAME.owner-TOKEN``) and a lock file (``.NAME.lock``) are small JSON files on which their writer
holds an exclusive ``flock``; a lock that can be taken means the writer is gone. See :mod:`mdio_catalog.core.publish`.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import re
import socket
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from mdio_catalog.core.store import Location, storage_errors
from mdio_catalog.exceptions import DatasetBusyError

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
