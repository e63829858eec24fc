"""Specs traced to git: which files a dataset's spec comes from, and their git state, asked once per command.

A dataset's spec comes from the catalog file and, when it names one, its template file (a catalog's own template
or a path; a ready template of this package counts too when it lies in the same work tree). A derived dataset or
an export is specified in the catalog file alone (its upstream carries its own record). :func:`build_trace`
asks git once per ``build`` (commit, branch, remote, which of those files are dirty: a handful of git commands
whatever the number of datasets) and hands each built dataset its :class:`GitProvenance`; :func:`status_trace`
asks only which files are dirty (two git commands) for ``status``'s warning. Neither enters the spec hash:
committing a spec does not make its datasets stale.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from mdio_catalog.catalog.gitinfo import GitState, git_state, relative_paths, uncommitted
from mdio_catalog.exceptions import UncommittedSpecError
from mdio_catalog.specs.provenance import GitProvenance
from mdio_catalog.specs.registry import is_template_path

if TYPE_CHECKING:
    from mdio_catalog.catalog.catalog import Catalog


@dataclass(frozen=True)
class SpecTrace:
    """The git state of the spec files of some datasets of one catalog (one question to git for all of them)."""

    root: Path
    #: Spec files of each dataset, relative to the work tree root (files outside it are left out).
    files: dict[str, tuple[str, ...]]
    #: Of all those files, the ones that differ from HEAD (modified, staged or untracked).
    dirty: frozenset[str]
    #: Commit, branch and remote (asked by builds only; None for status).
    state: GitState | None = None
    #: Every dataset whose spec files are dirty, in the order asked.
    dirty_datasets: list[str] = field(default_factory=list)

    def dirty_files(self, name: str) -> list[str]:
        """The spec files of ``name`` with uncommitted changes (sorted)."""
        return sorted(f for f in self.files.get(name, ()) if f in self.dirty)

    def all_dirty_files(self) -> list[str]:
        return sorted({f for name in self.dirty_datasets for f in self.dirty_files(name)})

    def provenance(self, name: str) -> GitProvenance | None:
        """What the build of ``name`` records (None when the commit was not asked)."""
        if self.state is None:
            return None
        dirty = self.dirty_files(name)
        return GitProvenance(
            commit=self.state.commit, branch=self.state.branch, dirty=bool(dirty), dirty_files=dirty,
            remote=self.state.remote,
        )  # fmt: skip

    def to_data(self) -> dict[str, object]:
        """For ``status --json``: the work tree and every dirty spec file of the datasets asked about."""
        return {"root": str(self.root), "dirty": bool(self.dirty_datasets), "dirty_files": self.all_dirty_files()}


def spec_files(catalog: Catalog, name: str, _templates: dict[str, Path | None] | None = None) -> list[Path]:
    """The files the spec of ``name`` comes from: the catalog file, then the template file it uses (if any)."""
    if catalog.path is None:
        return []
    files = [catalog.path]
    if name in catalog.spec.datasets:
        ref = catalog.get(name).template
        if ref is not None:
            cache = _templates if _templates is not None else {}
            if ref not in cache:
                cache[ref] = _template_file(catalog, ref)
            template = cache[ref]
            if template is not None:
                files.append(template)
    return files


def _template_file(catalog: Catalog, ref: str) -> Path | None:
    if is_template_path(ref):
        path = Path(ref)
        return path if path.is_absolute() or catalog.base is None else Path(catalog.base) / path
    source = catalog.registry.source_of(ref)
    return Path(source) if not source.startswith("<") else None  # "<python>": added as an object, no file


def _trace(catalog: Catalog, names: Iterable[str], *, full: bool) -> SpecTrace | None:
    names = list(names)
    if catalog.path is None or not names or not catalog.path.is_file():  # a catalog built in Python: no spec file
        return None
    templates: dict[str, Path | None] = {}
    by_name = {name: spec_files(catalog, name, templates) for name in names}
    unique = list(dict.fromkeys(p for files in by_name.values() for p in files))  # the catalog file first
    state: GitState | None = None
    if full:
        state = git_state(unique)
        if state is None:
            return None
        root, dirty = Path(state.root), state.dirty_files
    else:
        found = uncommitted(unique)
        if found is None:
            return None
        root, dirty = found
    inside = dict(zip(unique, _relative_each(root, unique), strict=True))  # each file resolved once, not per dataset
    files = {name: tuple(r for p in paths if (r := inside[p]) is not None) for name, paths in by_name.items()}
    dirty_set = frozenset(dirty)
    dirty_datasets = [name for name in names if any(f in dirty_set for f in files[name])]
    return SpecTrace(root=root, files=files, dirty=dirty_set, state=state, dirty_datasets=dirty_datasets)


def _relative_each(root: Path, paths: list[Path]) -> list[str | None]:
    out: list[str | None] = []
    for path in paths:
        found = relative_paths(root, [path])
        out.append(found[0] if found else None)
    return out


def status_trace(catalog: Catalog, names: Iterable[str]) -> SpecTrace | None:
    """Which spec files of ``names`` have uncommitted changes (two git commands); None outside a work tree."""
    return _trace(catalog, names, full=False)


def build_trace(catalog: Catalog, names: Iterable[str], *, require_clean: bool = False) -> SpecTrace | None:
    """The git state for a build of ``names`` (commit, branch, remote, dirty spec files), asked once; with
    ``require_clean``, :class:`UncommittedSpecError` when any of their spec files has uncommitted changes."""
    trace = _trace(catalog, names, full=True)
    if require_clean and trace is not None and trace.dirty_datasets:
        shown = trace.dirty_datasets[:5]
        more = f" and {len(trace.dirty_datasets) - 5} more" if len(trace.dirty_datasets) > 5 else ""
        raise UncommittedSpecError(
            f"the spec of {', '.join(shown)}{more} has uncommitted changes in {', '.join(trace.all_dirty_files())} "
            f"(work tree {trace.root}); commit them, or build without --require-clean. Nothing was built."
        )
    return trace
