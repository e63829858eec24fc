"""The last ``verify`` of each catalog dataset, kept beside the catalog file (never in the dataset).

``mdio-catalog verify NAME`` and :meth:`Catalog.verify <mdio_catalog.catalog.catalog.Catalog.verify>` record a
summary of their result in ``.mdio-catalog/verify/NAME.json`` beside the catalog file: when it ran, whether
everything was as recorded, how many chunks were checked and how many were missing, differed or unexpected, the
sample share, whether it was deep, and which build it verified (the ``started`` time of the provenance in the
dataset's attributes, the build id of lock entries). The folder is local state, not a lock entry: the lock
(``catalog.lock.d/``) never lists it, and a user may leave it out of git. Each file is replaced atomically
(written beside, fsync, rename), so a reader sees the previous result or the new one.

The read API, stable for ``status``, the catalog site and other callers:

- :func:`last_verify` ``(catalog_path, name) -> VerifyState | None``: one dataset (one small file read).
- :func:`verify_states` ``(catalog_path, names=None) -> dict[str, VerifyState]``: many at once (the folder is
  listed once; only datasets that were verified cost a read).
- :func:`verify_history` ``(catalog_path, name) -> list[VerifyState]``: the latest verify of each build that was
  verified, newest first (for a dataset's kept versions); :func:`verify_of_build` ``(catalog_path, name, record)``
  picks the one of a given build. Kept in ``.mdio-catalog/verify/history/NAME.json``.
- :class:`VerifyState`: the summary; :meth:`VerifyState.state` says ``"ok"``, ``"damaged"``, ``"no checksums"``
  (built before checksums existed) or ``"outdated"`` (it verified another build than the current one);
  :meth:`VerifyState.to_data` / :meth:`VerifyState.status_data` give plain JSON.

An unreadable or foreign file in the folder counts as no result (``None``): a verify state is advice, and status
must not fail on it.
"""

from __future__ import annotations

import contextlib
import json
import os
import uuid
from collections.abc import Iterable
from dataclasses import asdict, dataclass, fields
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from mdio_catalog.exceptions import StorageError

if TYPE_CHECKING:
    from mdio_catalog.catalog.catalog import Catalog
    from mdio_catalog.core.verify import VerifyReport
    from mdio_catalog.specs.provenance import ProvenanceRecord

#: The folder of verify results, relative to the folder of the catalog file.
VERIFY_DIR = Path(".mdio-catalog") / "verify"
SUFFIX = ".json"
#: Sub-folder of per-dataset histories: the latest result for each build verified (a folder: never a result).
HISTORY_DIR = "history"
#: Builds a history keeps (newest first): enough for the versions a dataset keeps (``keep: N``).
HISTORY_BUILDS = 32
#: Bumped when the file's fields change meaning (older files are still read: unknown keys are ignored).
FORMAT_VERSION = 1

Outcome = Literal["ok", "damaged", "no checksums"]
State = Literal["ok", "damaged", "no checksums", "outdated"]


@dataclass(frozen=True)
class VerifyState:
    """The summary of one ``verify`` of a catalog dataset."""

    dataset: str
    #: When the verify finished (UTC).
    verified_at: datetime
    #: Everything as recorded (False as well when the dataset has no checksum record).
    ok: bool
    #: The dataset has a checksum record (False: built before checksums existed; nothing was compared).
    recorded: bool
    #: Chunks in the record, and how many of them were read and compared (fewer with ``sample``).
    chunks_recorded: int = 0
    chunks_checked: int = 0
    #: Chunk objects missing, whose bytes differ, present but not recorded.
    missing: int = 0
    differing: int = 0
    unexpected: int = 0
    #: Share of the recorded chunks checked (None: all).
    sample: float | None = None
    #: Whether the traces were also decoded and the statistics and live-trace count recomputed.
    deep: bool = False
    #: Differences the deep check found (statistics, trace count, undecodable chunks).
    deep_problems: int = 0
    #: The build verified: the ``started`` time of the provenance stored in the dataset (the lock's build id).
    build: str | None = None
    spec_hash: str | None = None
    #: Where the dataset was read, how much was read, and how long it took.
    url: str = ""
    bytes_read: int = 0
    seconds: float = 0.0

    @property
    def problems(self) -> int:
        """Chunks missing, differing or unexpected, plus deep differences."""
        return self.missing + self.differing + self.unexpected + self.deep_problems

    @property
    def outcome(self) -> Outcome:
        """What the verify found, whatever build is current now."""
        if not self.recorded:
            return "no checksums"
        return "ok" if self.ok else "damaged"

    def verified_build(self, record: ProvenanceRecord | None) -> bool:
        """Whether this verify read the build ``record`` describes (the current one when given the lock entry)."""
        if record is None or self.build is None:
            return False
        try:
            return datetime.fromisoformat(self.build) == record.started
        except ValueError:
            return False

    def state(self, current: ProvenanceRecord | None = None) -> State:
        """``outdated`` when ``current`` (the lock entry) is another build than the one verified, else the
        :attr:`outcome`. Without ``current`` the outcome alone."""
        if current is not None and not self.verified_build(current):
            return "outdated"
        return self.outcome

    def summary(self, current: ProvenanceRecord | None = None) -> str:
        """One short line for tables: ``ok 2026-12-06 07:52 UTC``, ``DAMAGED (3 problems) ...``, ``no checksums
        ...``, ``outdated (ok ...)``."""
        when = self.verified_at.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")
        sampled = f", {self.sample:g} sampled" if self.sample is not None else ""
        deep = ", deep" if self.deep else ""
        outcome = {"ok": "ok", "no checksums": "no checksums"}.get(self.outcome, f"DAMAGED ({self.problems} problems)")
        text = f"{outcome} {when}{sampled}{deep}"
        return f"outdated ({text})" if self.state(current) == "outdated" else text

    def to_data(self) -> dict[str, Any]:
        """Plain JSON (the file's content without its version key)."""
        data = asdict(self)
        data["verified_at"] = self.verified_at.astimezone(UTC).isoformat()
        return data

    def status_data(self, current: ProvenanceRecord | None = None) -> dict[str, Any]:
        """What ``status --json`` shows: :meth:`to_data` plus ``state`` and ``problems``."""
        return {"state": self.state(current), "problems": self.problems, **self.to_data()}

    @classmethod
    def from_data(cls, data: Any) -> VerifyState | None:
        """The state in ``data`` (a parsed file), None when it is not one."""
        if not isinstance(data, dict):
            return None
        known = {f.name for f in fields(cls)}
        values = {k: v for k, v in data.items() if k in known}
        try:
            values["verified_at"] = datetime.fromisoformat(str(values["verified_at"])).astimezone(UTC)
            state = cls(**values)
        except (KeyError, TypeError, ValueError):
            return None
        if not isinstance(state.dataset, str) or not isinstance(state.ok, bool) or not isinstance(state.recorded, bool):
            return None
        return state

    @classmethod
    def of_report(
        cls,
        name: str,
        report: VerifyReport,
        *,
        sample: float | None = None,
        deep: bool = False,
        provenance: dict[str, Any] | None = None,
        verified_at: datetime | None = None,
    ) -> VerifyState:
        """The summary of ``report``; ``provenance`` is the record stored in the verified dataset (its build)."""
        differences = (report.deep or {}).get("differences") or {}
        return cls(
            dataset=name,
            verified_at=(verified_at or datetime.now(UTC)).astimezone(UTC),
            ok=report.ok,
            recorded=report.recorded,
            chunks_recorded=sum(a.recorded for a in report.arrays),
            chunks_checked=sum(a.checked for a in report.arrays),
            missing=sum(len(a.missing) for a in report.arrays),
            differing=sum(len(a.differing) for a in report.arrays),
            unexpected=sum(len(a.unexpected) for a in report.arrays),
            sample=sample if sample is not None and sample < 1 else None,
            deep=deep,
            deep_problems=len(differences) if deep else 0,
            build=str(provenance["started"]) if provenance and provenance.get("started") else None,
            spec_hash=str(provenance["spec_hash"]) if provenance and provenance.get("spec_hash") else None,
            url=report.url,
            bytes_read=report.bytes_read,
            seconds=round(report.seconds, 3),
        )


# --- where and how ------------------------------------------------------------------------------------------------
def verify_dir(catalog_path: str | os.PathLike[str]) -> Path:
    """The folder of verify results of the catalog file ``catalog_path``."""
    return Path(catalog_path).parent / VERIFY_DIR


def verify_state_path(catalog_path: str | os.PathLike[str], name: str) -> Path:
    return verify_dir(catalog_path) / f"{name}{SUFFIX}"


def _read(path: Path) -> VerifyState | None:
    try:
        with open(path, "rb") as handle:
            data = json.loads(handle.read())
    except (OSError, ValueError):
        return None
    state = VerifyState.from_data(data)
    return state if state is not None and f"{state.dataset}{SUFFIX}" == path.name else None


def last_verify(catalog_path: str | os.PathLike[str], name: str) -> VerifyState | None:
    """The last recorded verify of dataset ``name`` of the catalog file ``catalog_path``; None when it was never
    verified (or its file is unreadable)."""
    return _read(verify_state_path(catalog_path, name))


def verify_states(catalog_path: str | os.PathLike[str], names: Iterable[str] | None = None) -> dict[str, VerifyState]:
    """The last recorded verify of every dataset (or of ``names``) that has one, by name: the folder is listed
    once, and only verified datasets cost a file read."""
    folder = verify_dir(catalog_path)
    wanted = set(names) if names is not None else None
    found: dict[str, VerifyState] = {}
    with contextlib.suppress(FileNotFoundError, NotADirectoryError):
        for entry in os.scandir(folder):
            if entry.name.startswith(".") or not entry.name.endswith(SUFFIX):
                continue
            name = entry.name[: -len(SUFFIX)]
            if wanted is not None and name not in wanted:
                continue
            state = _read(Path(entry.path))
            if state is not None:
                found[name] = state
    return found


def _write_json(path: Path, data: dict[str, Any]) -> None:
    """``data`` into ``path`` atomically (beside, fsync, rename)."""
    text = json.dumps(data, indent=2, allow_nan=False) + "\n"
    temporary = path.with_name(f".{path.name}.tmp-{uuid.uuid4().hex[:12]}")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o644)
        with os.fdopen(fd, "wb") as handle:
            handle.write(text.encode("utf-8"))
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    except OSError as exc:
        raise StorageError(f"Cannot record the verify result in {path}: {exc.strerror or exc}.") from None
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)


def verify_history_path(catalog_path: str | os.PathLike[str], name: str) -> Path:
    return verify_dir(catalog_path) / HISTORY_DIR / f"{name}{SUFFIX}"


def verify_history(catalog_path: str | os.PathLike[str], name: str) -> list[VerifyState]:
    """The latest recorded verify of each build of ``name`` that was verified, newest first (at most
    :data:`HISTORY_BUILDS`); the last verify alone when no history was kept."""
    try:
        with open(verify_history_path(catalog_path, name), "rb") as handle:
            data = json.loads(handle.read())
        builds = data.get("builds") if isinstance(data, dict) else None
    except (OSError, ValueError):
        builds = None
    if not isinstance(builds, list):
        last = last_verify(catalog_path, name)
        return [last] if last is not None else []
    states = [VerifyState.from_data(item) for item in builds]
    return [state for state in states if state is not None and state.dataset == name]


def verify_of_build(catalog_path: str | os.PathLike[str], name: str, record: ProvenanceRecord) -> VerifyState | None:
    """The latest recorded verify of the build ``record`` describes (a kept version's, or the current one's)."""
    return next((state for state in verify_history(catalog_path, name) if state.verified_build(record)), None)


def record_verify(catalog_path: str | os.PathLike[str], state: VerifyState) -> Path:
    """Write ``state`` as the last verify of its dataset, and as the latest of its build in the dataset's history,
    each file atomically (two verifies of one dataset at once: each file holds one of them whole); return the path
    of the last-verify file."""
    earlier = [s for s in verify_history(catalog_path, state.dataset) if s.build != state.build]
    builds = [state, *earlier][:HISTORY_BUILDS]
    history = {"version": FORMAT_VERSION, "dataset": state.dataset, "builds": [s.to_data() for s in builds]}
    _write_json(verify_history_path(catalog_path, state.dataset), history)
    path = verify_state_path(catalog_path, state.dataset)
    _write_json(path, {"version": FORMAT_VERSION, **state.to_data()})
    return path


def verify_and_record(
    catalog: Catalog, name: str, *, sample: float | None = None, deep: bool = False, client: Any = None
) -> VerifyReport:
    """Verify catalog dataset ``name`` (read-only on the dataset) and record the summary beside the catalog file
    (when the catalog has one)."""
    from mdio_catalog.catalog.build import stored_provenance
    from mdio_catalog.core.verify import verify_dataset

    reader = catalog.open(name)
    provenance = stored_provenance(reader)  # the build verified: read first (a rebuild meanwhile shows outdated)
    if provenance is None and (record := catalog.lock_entry(name)) is not None:
        provenance = {"started": record.started.isoformat(), "spec_hash": record.spec_hash}
    report = verify_dataset(reader.url, reader.storage_options or None, sample=sample, deep=deep, client=client)
    if catalog.path is not None:
        record_verify(catalog.path, VerifyState.of_report(name, report, sample=sample, deep=deep,
                                                          provenance=provenance))  # fmt: skip
    return report
