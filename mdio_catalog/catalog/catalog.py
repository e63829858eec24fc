"""The catalog: datasets declared in a YAML/JSON file, built into MDIO by name, with a lock file of provenance.

``Catalog.from_file("catalog.yaml")`` validates the whole file (structure, templates, names) before anything else;
``status()`` says what is fresh, stale (and why) or never built; ``build()`` rebuilds what is not fresh (or
everything with ``force``), each dataset atomically; ``open(name)`` hands back an accessor.
"""

from __future__ import annotations

import builtins
import os
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mdio_catalog.catalog.graph import LineageGraph
from mdio_catalog.catalog.lineage import check_graph, lineage_of, upstream_changes, upstream_of
from mdio_catalog.catalog.lockfile import LockStore
from mdio_catalog.catalog.status import DatasetStatus, dataset_status
from mdio_catalog.exceptions import (
    CatalogError,
    DatasetNotFoundError,
    InvalidModeError,
    MDIOError,
    MDIONotFoundError,
    did_you_mean,
)
from mdio_catalog.specs.catalog import CatalogSpec, is_url
from mdio_catalog.specs.provenance import LockFile, ProvenanceRecord
from mdio_catalog.specs.registry import TemplateRegistry
from mdio_catalog.specs.resolve import ResolvedDataset, catalog_registry, resolve_all

if TYPE_CHECKING:
    from mdio_catalog.catalog.gittrace import SpecTrace
    from mdio_catalog.catalog.verifystate import VerifyState
    from mdio_catalog.core.verify import VerifyReport

#: Threads that check datasets' freshness side by side (their time goes into waiting for small reads).
STATUS_THREADS = 16


@dataclass
class BuildReport:
    """What a build did (or, for a dry run, would do)."""

    planned: list[DatasetStatus] = field(default_factory=list)
    built: list[ProvenanceRecord] = field(default_factory=list)
    skipped: list[DatasetStatus] = field(default_factory=list)
    dry_run: bool = False
    #: Foreign content found at an output path and renamed aside (kept) by a forced build: name -> new path.
    moved_aside: dict[str, str] = field(default_factory=dict)

    def to_data(self) -> dict[str, Any]:
        return {
            "dry_run": self.dry_run,
            "planned": [s.to_data() for s in self.planned],
            "built": [r.dataset for r in self.built],
            "skipped": [s.name for s in self.skipped],
            "moved_aside": dict(self.moved_aside),
        }


class Catalog:
    """A validated catalog and the place its lock file lives."""

    def __init__(
        self,
        spec: CatalogSpec,
        *,
        path: str | os.PathLike[str] | None = None,
        registry: TemplateRegistry | None = None,
        env: Mapping[str, str] | None = None,
    ) -> None:
        self.spec = spec
        self.path = Path(path).resolve() if path is not None else None
        self.base = str(self.path.parent) if self.path is not None else spec.base_dir
        self.env = env
        self.registry = catalog_registry(spec, registry, self.base)
        self._resolved = resolve_all(spec, self.registry, base=self.base)  # nothing is built from an invalid file
        self._graph = check_graph(spec)  # unknown upstreams and cycles: located errors, before anything runs
        self._locks = LockStore(self.path, self.name) if self.path is not None else None

    # --- construction -----------------------------------------------------------------------------------------
    @classmethod
    def from_file(
        cls,
        path: str | os.PathLike[str],
        *,
        registry: TemplateRegistry | None = None,
        env: Mapping[str, str] | None = None,
    ) -> Catalog:
        """Load and validate a catalog file (errors name the file, line and path)."""
        path = Path(path)
        if not path.is_file():
            if os.path.lexists(path):  # a FIFO, a device, a folder, a symlink loop: refused before it is opened
                from mdio_catalog.localfile import check_regular_file

                check_regular_file(path, "catalog file")
            raise MDIONotFoundError(f"No catalog file at {path}.")
        return cls(CatalogSpec.from_file(path), path=path, registry=registry, env=env)

    @classmethod
    def from_model(
        cls,
        spec: CatalogSpec,
        *,
        base_dir: str | os.PathLike[str] | None = None,
        registry: TemplateRegistry | None = None,
        env: Mapping[str, str] | None = None,
    ) -> Catalog:
        """A catalog built in Python; relative paths and the lock file are relative to ``base_dir``."""
        path = Path(base_dir) / "catalog.yaml" if base_dir is not None else None
        return cls(spec, path=path, registry=registry, env=env)

    # --- queries ----------------------------------------------------------------------------------------------
    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def lock_path(self) -> Path | None:
        """The folder of lock entries (``catalog.lock.d`` beside the catalog file; see :mod:`.lockfile`)."""
        return self._locks.folder if self._locks is not None else None

    def lock(self) -> LockFile:
        """Every lock entry at once (empty when nothing was built yet); reads one file per built dataset, so
        prefer :meth:`lock_entry` for one dataset."""
        return self._locks.read_all() if self._locks is not None else LockFile.empty(self.name)

    def lock_entry(self, name: str) -> ProvenanceRecord | None:
        """The lock's record of ``name`` (one small file read), None when it was never built."""
        return self._locks.get(name) if self._locks is not None else None

    def list(self) -> builtins.list[str]:
        """Dataset names, in file order."""
        return list(self.spec.datasets)

    def get(self, name: str) -> ResolvedDataset:
        """The resolved spec of ``name`` (template and defaults merged)."""
        if name not in self._resolved:
            raise DatasetNotFoundError(
                f"No dataset {name!r} in catalog {self.name!r}{did_you_mean(name, self._resolved)}; "
                f"datasets: {self.list()}."
            )
        return self._resolved[name]

    def output_url(self, name: str) -> str:
        self.get(name)
        return self.spec.output_url(name, self.base)

    def _locations(self, name: str) -> dict[str, Any]:
        upstream = upstream_of(self.spec, name)  # a derived dataset reads its upstream's published output
        return {
            "source_url": self.output_url(upstream) if upstream else self.spec.source_url(name, self.base),
            "source_options": (
                self.spec.root_storage_options(self.env)
                if upstream
                else self.spec.source_storage_options(name, self.env)
            ),
            "output_url": self.spec.output_url(name, self.base),
            "output_options": self.spec.root_storage_options(self.env),
        }

    def status(self, names: Iterable[str] | None = None) -> builtins.list[DatasetStatus]:
        """Fresh / stale (with reasons) / never built, for each dataset (default: all), in order.

        Each dataset costs a few small reads (its lock entry, the output's root attributes and array metadata, the
        source's identity); with outputs on an object store they are spread over threads, so thousands of datasets
        wait for their requests side by side rather than one after another."""
        chosen = self._names(names)
        needed = self._graph.order({*chosen, *(u for n in chosen for u in self._graph.upstream(n))})
        if len(needed) <= 1 or not is_url(self.spec.root_url(self.base)):
            # Local outputs: a check is ~0.5 ms of Python on files in the page cache; threads would only contend
            # for the interpreter (2,000 checks: 1.0 s in one thread, 2.1 s on 16).
            found = [self._status_of(n) for n in needed]
        else:
            with ThreadPoolExecutor(max_workers=min(STATUS_THREADS, len(needed))) as pool:
                found = list(pool.map(self._status_of, needed))
        by_name = {s.name: s for s in found}
        for name in needed:  # graph order: an upstream's final state is known before its downstreams'
            upstream = upstream_of(self.spec, name)
            if upstream is None:
                continue
            up, own = by_name[upstream], by_name[name]
            reasons = upstream_changes(upstream, own.record, up.record, up.needs_build)
            if reasons and own.record is not None:
                by_name[name] = DatasetStatus(name, "stale", [*own.reasons, *reasons], own.output, own.record)
        return [by_name[n] for n in chosen]

    def graph(self) -> LineageGraph:
        """The lineage graph: SEG-Y/NumPy sources, datasets and exports, edges labelled with their operation."""
        return self._graph

    def lineage(self, name: str) -> dict[str, builtins.list[str]]:
        """``{"upstream": [...], "downstream": [...]}``: the products ``name`` comes from and feeds, nearest first."""
        graph = self.graph()  # through the method: a subclass may describe its lineage otherwise
        if name not in graph.nodes:
            self.get(name)
        return dict(lineage_of(graph, name))

    def _status_of(self, name: str) -> DatasetStatus:
        if name in self.spec.exports:
            from mdio_catalog.catalog.exports import export_status

            return export_status(self, name)
        return dataset_status(self.get(name), self.lock_entry(name), **self._locations(name))

    def _names(self, names: Iterable[str] | None) -> builtins.list[str]:
        """Datasets and exports (default: all, datasets first), each checked to exist."""
        chosen = [*self.list(), *self.spec.exports] if names is None else list(names)
        for name in chosen:
            if name not in self.spec.exports:
                self.get(name)
        return chosen

    # --- building ---------------------------------------------------------------------------------------------
    def build(
        self,
        names: Iterable[str] | None = None,
        force: bool = False,
        dry_run: bool = False,
        on_start: Callable[[DatasetStatus], None] | None = None,
        *,
        client: Any = None,
        upstream: bool = False,
        downstream: bool = False,
        require_clean: bool = False,
    ) -> BuildReport:
        """Build what is not fresh (everything with ``force``); ``dry_run`` only reports the plan.

        Each dataset is written beside its target and replaces it only when complete; its lock entry is written
        right after, while the dataset's lock is still held, so an interruption keeps what was finished and two
        processes building different datasets are both recorded. Only datasets this catalog
        built are replaced: anything else at an output path (a user's folder or file, a symbolic link) is refused
        with ForeignContentError, or with ``force`` renamed aside to ``NAME.foreign-TIMESTAMP`` and kept (listed
        in ``BuildReport.moved_aside``); never deleted. A dataset another process is building is refused with
        DatasetBusyError. ``client`` (a
        ``distributed.Client``) runs the heavy steps (SEG-Y ingestion, access patterns) on that dask cluster; the
        result and the lock entries are the same as without it. Datasets are built in the lineage graph's order
        (every upstream first); ``upstream``/``downstream`` add everything the named datasets come from / feed.
        When the catalog file is in a git work tree, each record carries ``git`` (commit, branch, remote without
        credentials, which of its spec files had uncommitted changes), asked once per build; ``require_clean``
        refuses with UncommittedSpecError, before anything is built, when a planned dataset's spec files are dirty.
        """
        chosen = self._names(names)
        extra = [
            *(self._graph.upstream(n) for n in chosen if upstream),
            *(self._graph.downstream(n) for n in chosen if downstream),
        ]
        chosen = self._graph.order({*chosen, *(m for group in extra for m in group)})
        datasets = [n for n in chosen if n in self.spec.datasets]
        self.spec.check_environment(datasets, self.env)
        report = BuildReport(dry_run=dry_run)
        for status in self.status(chosen):
            if status.needs_build:
                report.planned.append(status)
            elif force:
                report.planned.append(DatasetStatus(status.name, "stale", ["forced"], status.output, status.record))
            else:
                report.skipped.append(status)
        git = None
        if require_clean or not dry_run:
            from mdio_catalog.catalog.gittrace import build_trace

            git = build_trace(self, [s.name for s in report.planned], require_clean=require_clean)
        if dry_run:
            return report
        self._check_sources([s.name for s in report.planned if s.name in self.spec.datasets])
        from mdio_catalog.catalog.versions import Retention

        retention = {s.name: Retention(self, s.name) for s in report.planned if s.name in self.spec.datasets}
        for keeper in retention.values():
            keeper.check()  # keep: N on an object store, or a foreign entry where versions go: before any work
        self._sweep([s.name for s in (*report.planned, *report.skipped) if s.name in self.spec.datasets])
        root_url = self.spec.root_url(self.base)
        for status in report.planned:
            if on_start is not None:
                on_start(status)

            def aside(path: Path, name: str = status.name) -> None:
                report.moved_aside[name] = str(path)

            if status.name in self.spec.exports:
                from mdio_catalog.catalog.exports import build_export

                ready = self._upstream_ready(status.name)
                assert ready is not None
                spec_git = git.provenance(status.name) if git is not None else None
                report.built.append(build_export(self, status.name, ready, client=client, force=force, git=spec_git))
                continue
            from mdio_catalog.catalog.build import build_dataset

            record = build_dataset(
                self.get(status.name), **self._locations(status.name), client=client, root_url=root_url,
                previous=status.record, force_aside=force, on_aside=aside,
                on_published=retention[status.name].published, retire=retention[status.name].retire,
                upstream=self._upstream_ready(status.name),
                git=git.provenance(status.name) if git is not None else None,
            )  # fmt: skip
            report.built.append(record)
        return report

    def _upstream_ready(self, name: str) -> ProvenanceRecord | None:
        """The lock entry of the upstream of a derived dataset, once its select/step were checked on its grid."""
        from mdio_catalog.catalog.lineage import check_selection

        upstream = upstream_of(self.spec, name)
        if upstream is None:
            return None
        record = self.lock_entry(upstream)
        if record is None:
            raise CatalogError(
                f"dataset {name!r} is derived from {upstream!r}, which was never built; "
                f"build it first (or: build {name} --upstream)."
            )
        if name in self.spec.datasets:
            check_selection(self.spec, name, self.open(upstream))
        return record

    def _sweep(self, names: builtins.list[str]) -> None:
        """Remove what dead writers left beside these datasets (fresh ones too: a build killed after publishing
        leaves its old version or owner marker behind); never through a symbolic link below the root."""
        from mdio_catalog.catalog.build import check_no_links
        from mdio_catalog.core.publish import sweep_many
        from mdio_catalog.core.store import Location

        root_url = self.spec.root_url(self.base)
        targets = []
        for name in names:
            url = self.output_url(name)
            if "://" in url:
                continue
            try:
                check_no_links(root_url, url)
            except MDIOError:
                continue  # the build of this dataset reports it
            targets.append(Location(url=os.path.abspath(url)))
        sweep_many(targets)  # each folder listed once, not once per dataset

    def _check_sources(self, names: builtins.list[str]) -> None:
        """Every planned source must exist before anything is built, as a regular file (a FIFO would block the
        build forever) and, for NumPy sources, readable without pickle; problems are reported with their place
        in the catalog file, all at once."""
        from mdio_catalog.catalog.identity import source_problem

        problems = []
        for name in names:
            url = self.spec.source_url(name, self.base)
            if url is None:
                continue
            resolved = self.get(name)
            problem = source_problem(resolved.source, url, self.spec.source_storage_options(name, self.env))
            if problem is not None:
                kind, message = problem
                problems.append((kind, str(self.spec.issue(("datasets", name, "source", resolved.kind), message))))
        if problems:
            kinds = [kind for kind, _ in problems if kind is not MDIONotFoundError] or [MDIONotFoundError]
            raise kinds[0]("; ".join(text for _, text in problems) + " (nothing was built)")

    # --- opening ----------------------------------------------------------------------------------------------
    def open(
        self,
        name: str,
        mode: str = "r",
        as_xarray: bool = False,
        *,
        version: str | None = None,
        **accessor_options: Any,
    ) -> Any:
        """An accessor on dataset ``name`` (``mode`` 'r' for MDIOReader, 'r+' or 'w' for MDIOWriter), or with
        ``as_xarray=True`` a lazy ``xarray.Dataset`` of it (see :func:`mdio_catalog.api.xarray_view.to_xarray`).
        ``version`` (a build id, see :meth:`versions`) opens that kept version instead, read-only: any other mode
        is refused with InvalidModeError, an unknown build id with VersionNotFoundError."""
        if as_xarray:
            return self.open(name, mode, version=version, **accessor_options).to_xarray()
        url = self.output_url(name)
        options = {"storage_options": self.spec.root_storage_options(self.env), **accessor_options}
        record = self.lock_entry(name)
        if version is not None:
            from mdio_catalog.catalog.versions import find_version

            if mode != "r":
                raise InvalidModeError(
                    f"Version {version!r} of {name!r} opens read-only (mode 'r'), not {mode!r}: kept versions are "
                    "never written; roll back to it (mdio-catalog rollback) to make it current."
                )
            url, record = find_version(self, name, version)
        if "access_pattern" not in options and record is not None and record.shape:
            options["access_pattern"] = "".join(str(i) for i in range(len(record.shape)))
        from mdio_catalog.api.accessor import MDIOReader, MDIOWriter

        if mode == "r":
            return MDIOReader(url, **options)
        if mode in ("r+", "w"):
            return MDIOWriter(url, **options)
        raise InvalidModeError(f"Invalid mode {mode!r}; use 'r', 'r+' or 'w'.")

    # --- versions ---------------------------------------------------------------------------------------------
    def versions(self, name: str, *, sizes: bool = True) -> Any:
        """The current version of ``name`` and the earlier versions it keeps (``keep: N``), newest build first, as
        :class:`~mdio_catalog.catalog.versions.VersionInfo` (``sizes``: walk each folder for its size on disk)."""
        from mdio_catalog.catalog.versions import list_versions

        return list_versions(self, name, sizes=sizes)

    def rollback(self, name: str, to: str | None = None) -> Any:
        """Make kept version ``to`` (a build id; default: the newest kept build) of ``name`` current, atomically
        and without a rebuild; the current version becomes a kept one and the lock records the rollback
        (:func:`mdio_catalog.catalog.versions.rollback`)."""
        from mdio_catalog.catalog.versions import rollback

        return rollback(self, name, to)

    def prune_versions(self, names: Iterable[str] | None = None) -> dict[str, Any]:
        """Remove kept versions beyond each dataset's ``keep`` (oldest first; never one a reader has open);
        returns the :class:`~mdio_catalog.catalog.versions.Retention` of each local dataset with a lock entry."""
        from mdio_catalog.catalog.versions import local_target, prune_versions

        chosen = [n for n in self._names(names) if n in self.spec.datasets]
        return {n: prune_versions(self, n) for n in chosen if local_target(self, n) is not None}

    def record(self, name: str) -> ProvenanceRecord:
        """The provenance of the last build of ``name`` (a dataset or an export)."""
        if name not in self.spec.exports:
            self.get(name)
        record = self.lock_entry(name)
        if record is None:
            raise CatalogError(f"Dataset {name!r} was never built; run build first.")
        return record

    # --- git and verify state ---------------------------------------------------------------------------------
    def spec_changes(self, names: Iterable[str] | None = None) -> SpecTrace | None:
        """Which spec files of these datasets (default: all; the catalog file, the templates they use) have
        uncommitted changes in git: two git commands whatever the number of datasets; None when the catalog file
        is not in a git work tree (see :mod:`.gittrace`)."""
        from mdio_catalog.catalog.gittrace import status_trace

        return status_trace(self, self._names(names))

    def verify(
        self, name: str, *, sample: float | None = None, deep: bool = False, client: Any = None
    ) -> VerifyReport:
        """Verify dataset ``name`` against its checksum record (:func:`mdio_catalog.core.verify.verify_dataset`;
        the dataset is never modified; on the workers of ``client`` when given) and record the result beside the
        catalog (:mod:`.verifystate`)."""
        from mdio_catalog.catalog.verifystate import verify_and_record

        return verify_and_record(self, name, sample=sample, deep=deep, client=client)

    def last_verify(self, name: str) -> VerifyState | None:
        """The last recorded verify of ``name`` (None: never verified, or the catalog has no file)."""
        from mdio_catalog.catalog.verifystate import last_verify

        self.get(name)
        return last_verify(self.path, name) if self.path is not None else None
