"""How a version becomes current: staging beside the target, owner markers, the per-target lock, the swap, and
finding (and removing) what dead writers left behind.

The package: :mod:`.markers` (owner markers, the per-target lock), :mod:`.swap` (staging, the foreign-content
check, the swap), :mod:`.leftovers` (leftover detection, ``gc``).

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
nothing and never a half-written folder; the old version (now under the staging name) is deleted afterwards, or
for a catalog dataset that keeps versions (``keep: N``) renamed into ``.NAME.versions/`` (:mod:`.versions`). Where
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

from mdio_catalog.core.publish.leftovers import (
    Leftover,
    find_leftovers,
    local_leftovers,
    remove_leftovers,
    remove_zarr_temporaries,
    sweep,
    sweep_many,
)
from mdio_catalog.core.publish.markers import (
    DEFAULT_MIN_AGE,
    MARKER_KEY,
    OwnerMarker,
    describe_owner,
    is_staging_name,
    lock_name,
    new_token,
    old_name,
    owner_name,
    staging_name,
    target_lock,
)
from mdio_catalog.core.publish.swap import (
    check_replaceable,
    describe_foreign,
    exchange,
    move_aside,
    promote,
    promote_local,
    promote_remote,
    staged,
    staged_write,
)

__all__ = [
    "DEFAULT_MIN_AGE",
    "MARKER_KEY",
    "Leftover",
    "OwnerMarker",
    "check_replaceable",
    "describe_foreign",
    "describe_owner",
    "exchange",
    "find_leftovers",
    "is_staging_name",
    "local_leftovers",
    "lock_name",
    "move_aside",
    "new_token",
    "old_name",
    "owner_name",
    "promote",
    "promote_local",
    "promote_remote",
    "remove_leftovers",
    "remove_zarr_temporaries",
    "staged",
    "staged_write",
    "staging_name",
    "sweep",
    "sweep_many",
    "target_lock",
]
