"""Pin the version of a local dataset that a reader opened, so a rebuild published meanwhile never mixes in.

A rebuild publishes by exchanging folders (:mod:`mdio_catalog.core.publish`): the path then names the new
version while the old one is renamed aside and deleted. A reader that opened the old version holds its metadata;
reading chunk files by path afterwards would decode the new version's chunks under the old shapes and codecs.
A :class:`DatasetPin` is an open handle on the folder the reader's metadata came from: chunk files are opened
relative to it, so they are the old version's for as long as it exists, and once it is gone a missing chunk is
told apart from a never-written one by checking whether the path still names the pinned folder. Either the old
version or a clear :class:`~mdio_catalog.exceptions.DatasetReplacedError`, never a mix.

A pin also holds a shared ``flock`` on the folder: a kept version (``keep: N``, see
:mod:`mdio_catalog.core.publish.versions`) is pruned only when its exclusive lock can be taken, so a version that a
reader has open is left for the next build or ``gc``.

Object stores have no folder handles: there a reader sees whichever objects the store returns (see the README's
publishing notes).
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import weakref

from mdio_catalog.exceptions import DatasetReplacedError


class DatasetPin:
    """An open directory handle on one local dataset folder, and the identity it had when opened."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
        info = os.fstat(self.fd)
        self.identity = (info.st_dev, info.st_ino)
        self._moved = info.st_ctime_ns  # a rename changes a folder's ctime: see unmoved()
        # Shared: any number of readers; a prune that holds the exclusive lock is deleting this folder right now
        # (then the path no longer names it and reads report DatasetReplacedError or "not found").
        with contextlib.suppress(OSError):
            fcntl.flock(self.fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        self._closer = weakref.finalize(self, os.close, self.fd)

    @classmethod
    def try_open(cls, path: str) -> DatasetPin | None:
        """A pin on ``path``, or None when it is not an openable folder (opening then reports the real error)."""
        try:
            return cls(path)
        except OSError:
            return None

    def is_current(self) -> bool:
        """Whether ``path`` still names the pinned folder (not replaced by a rebuild, not deleted)."""
        try:
            info = os.stat(self.path)
        except OSError:
            return False
        return (info.st_dev, info.st_ino) == self.identity

    def unmoved(self) -> bool:
        """Whether ``path`` names the pinned folder and the folder was not renamed since it was pinned. A rollback
        can swap a version away and back (A, B, A again) while a reader reads metadata by path: the identity is
        the same afterwards, but the metadata may have come from B. A rename updates the folder's ctime."""
        try:
            info = os.stat(self.path)
        except OSError:
            return False
        return (info.st_dev, info.st_ino) == self.identity and info.st_ctime_ns == self._moved

    def open(self, relative: str) -> int:
        """Open a file of the pinned version (``FileNotFoundError`` when absent)."""
        return os.open(relative, os.O_RDONLY | os.O_CLOEXEC, dir_fd=self.fd)

    def check_missing(self, relative: str) -> None:
        """Called when ``relative`` is absent: fine for a never-written chunk of a current dataset; an error when
        the version this reader opened has been replaced (its chunks are being deleted)."""
        if not self.is_current():
            raise DatasetReplacedError(
                f"{self.path} was rebuilt or removed while this reader was open ({relative} of the version it "
                "opened is gone); open it again to read the new version."
            )

    def close(self) -> None:
        self._closer()
