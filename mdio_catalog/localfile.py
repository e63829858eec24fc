"""Local input files must be regular files: checked before they are opened, so nothing waits on them.

Opening a FIFO for reading blocks until some other process writes to it (forever, in a build); a device may be
endless or have side effects when opened; a symlink loop makes ``open`` fail with ELOOP and ``Path.resolve``
with a bare ``RuntimeError``. Every local input (SEG-Y and NumPy sources, catalog and template files) goes through
:func:`check_regular_file` or :func:`open_regular_file`, which refuse all of these at once with a
:class:`~mdio_catalog.exceptions.NotRegularFileError` naming the path and what it is.
"""

from __future__ import annotations

import contextlib
import errno
import os
import re
import stat
from collections.abc import Iterator
from typing import Final

from mdio_catalog.exceptions import MDIOError, MDIONotFoundError, NotRegularFileError, StorageError

_KINDS: Final = (
    (stat.S_ISDIR, "a directory"),
    (stat.S_ISFIFO, "a FIFO (named pipe)"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISSOCK, "a socket"),
)

#: URL prefixes of local files (a plain path has none).
_LOCAL_PREFIXES: Final = ("file://", "local://")


def local_path(url: str | os.PathLike[str]) -> str | None:
    """The local path of ``url`` (a plain path or a ``file://`` URL), or None for a remote URL (s3://, ...)."""
    text = os.fspath(url)
    for prefix in _LOCAL_PREFIXES:
        if text.startswith(prefix):
            return text[len(prefix) :]
    if "://" in text or "::" in text:
        return None
    return os.path.expanduser(text)


def describe_mode(mode: int) -> str:
    """``'a FIFO (named pipe)'``, ``'a directory'``, ... for a file mode (``'a regular file'`` for a file)."""
    if stat.S_ISREG(mode):
        return "a regular file"
    return next((text for test, text in _KINDS if test(mode)), "not a regular file")


def _not_regular(path: str, mode: int, what: str) -> NotRegularFileError:
    return NotRegularFileError(
        f"{path} is {describe_mode(mode)}, not a regular file: the {what} must be a regular file"
    )


def _stat_error(path: str, exc: OSError, what: str) -> Exception:
    if isinstance(exc, FileNotFoundError):
        return MDIONotFoundError(f"{what} not found: {path}")
    if exc.errno == errno.ELOOP:
        return NotRegularFileError(
            f"{path} is a symlink loop (too many levels of symbolic links): point the {what} path at a regular file"
        )
    return StorageError(f"Cannot read the {what} {path}: {exc.strerror or exc}")


def check_regular_file(path: str | os.PathLike[str], what: str = "file") -> os.stat_result:
    """The ``os.stat`` of ``path`` (symlinks followed) when it is a regular file; else a typed error at once:
    :class:`NotRegularFileError` for FIFOs, devices, sockets, directories and symlink loops,
    :class:`MDIONotFoundError` when nothing is there."""
    text = os.fspath(path)
    try:
        info = os.stat(text)
    except OSError as exc:
        raise _stat_error(text, exc, what) from None
    except (RuntimeError, ValueError) as exc:  # an embedded NUL byte, ...
        raise NotRegularFileError(f"{text!r} is not a usable path for the {what}: {exc}") from None
    if not stat.S_ISREG(info.st_mode):
        raise _not_regular(text, info.st_mode, what)
    return info


def open_regular_file(path: str | os.PathLike[str], what: str = "file") -> int:
    """A read-only descriptor on ``path``, which must be a regular file.

    Checked before opening (a device is never opened), and opened non-blocking and checked again on the
    descriptor, so a file swapped for a FIFO in between cannot block the caller either.
    """
    text = os.fspath(path)
    check_regular_file(text, what)
    flags = os.O_RDONLY | getattr(os, "O_BINARY", 0) | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0)
    try:
        fd = os.open(text, flags)
    except OSError as exc:
        raise _stat_error(text, exc, what) from None
    try:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            raise _not_regular(text, mode, what)
        if hasattr(os, "set_blocking"):
            os.set_blocking(fd, True)
    except BaseException:
        os.close(fd)
        raise
    return fd


#: A staging, old-version or owner name beside a target (see core/publish/markers.py): ``.TARGET.partial-<hex>``.
_STAGED_NAME: Final = re.compile(r"^\.(?P<target>.+)\.(?:partial|old|owner)-[0-9a-f]{12}$")


def check_output_name(url: str | os.PathLike[str], what: str = "output") -> None:
    """Refuse a local output whose file or folder name could not be staged: writes go to a longer name beside the
    target first (``.NAME.partial-<12 hex>``), and file systems allow 255 bytes per name. Raises ArgumentError
    naming the target (never the internal staging name) before anything is written."""
    from mdio_catalog.exceptions import ArgumentError
    from mdio_catalog.specs.limits import MAX_OUTPUT_NAME_BYTES

    path = local_path(url)
    if path is None:
        return
    name = os.path.basename(os.path.normpath(path))
    while (staged := _STAGED_NAME.match(name)) is not None:  # a caller's staging path: its target is what counts
        name = staged["target"]
    size = len(name.encode("utf-8", "surrogateescape"))
    if size > MAX_OUTPUT_NAME_BYTES:
        raise ArgumentError(
            f"The {what} name {name[:40]!r}... is {size} bytes; at most {MAX_OUTPUT_NAME_BYTES} bytes fit beside the "
            "longer names a write is staged under (file systems allow 255): choose a shorter name "
            "(nothing was written)."
        )


#: A staging, old-version, owner, temporary or lock name inside a path or message: ``.NAME.partial-<hex>``, nested
#: ``..NAME.partial-<hex>.partial-<hex>``, ``.NAME.owner-<hex>.tmp-<hex>``, ``.NAME.lock``: it stands for NAME.
_STAGED_IN_TEXT: Final = re.compile(
    r"(?<![^/\s'\"(])\.+(?P<target>[^/\s'\"]+?)(?:(?:\.(?:partial|old|owner)-[0-9a-f]{12})+(?:\.tmp-[0-9a-f]{12})?|\.lock)"
    r"(?=$|[/\s'\":,;).])"
)


def without_staging_names(text: str) -> str:
    """``text`` with every internal staging name replaced by the name of its target (what a user asked for)."""
    return _STAGED_IN_TEXT.sub(lambda match: match["target"], text)


@contextlib.contextmanager
def errors_name_the_target() -> Iterator[None]:
    """Errors raised inside name the target, not the staging path a write went through (issue 15): the message
    of our errors and OSErrors is rewritten in place (type and traceback kept)."""
    try:
        yield
    except (MDIOError, OSError) as exc:
        exc.args = tuple(without_staging_names(a) if isinstance(a, str) else a for a in exc.args)
        if isinstance(exc, OSError):
            for attribute in ("filename", "filename2"):
                value = getattr(exc, attribute, None)
                if isinstance(value, str):
                    setattr(exc, attribute, without_staging_names(value))
        raise


def tree_size(path: str | os.PathLike[str]) -> int | None:
    """Bytes of the files under the local folder ``path`` (links not followed), None when it does not exist."""
    if not os.path.lexists(path):
        return None
    total = 0
    for folder, _dirs, files in os.walk(path, followlinks=False):
        for name in files:
            with contextlib.suppress(OSError):
                total += os.lstat(os.path.join(folder, name)).st_size
    return total
