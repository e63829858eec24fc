"""The template registry: the ready templates of ``templates/*.yaml`` plus the user's own, by name or path.

Where the ready templates come from: the ``templates/`` folder at the top of the source tree, found relative to
this package (``<repo>/mdio_catalog/specs/registry.py`` -> ``<repo>/templates``), which is where an editable
install (``pip install -e .``) runs from. A wheel does not ship that folder; there, :func:`builtin_template_dir`
returns None and the registry starts empty unless ``MDIO_CATALOG_TEMPLATES`` names folders or files (separated by
the OS path separator) or the caller adds paths. Users add their own templates with :meth:`TemplateRegistry.with_paths`
(a file or a folder of ``*.yaml``/``*.yml``/``*.json``), from a catalog's ``templates:`` list, or name a template
file directly in a dataset (``template: ./my_template.yaml``).

Like the segy library's standards registry, :meth:`TemplateRegistry.get` hands out deep copies: a caller that
mutates what it got cannot change the template for the next caller.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator, Mapping
from functools import lru_cache
from pathlib import Path
from typing import Final

from mdio_catalog.exceptions import SpecValidationError, TemplateNotFoundError, did_you_mean
from mdio_catalog.specs.errors import SpecIssue, issues_error
from mdio_catalog.specs.template import TemplateSpec

#: File suffixes read as templates when a folder is added.
TEMPLATE_SUFFIXES: Final = (".yaml", ".yml", ".json")
#: Environment variable with extra template folders/files for :meth:`TemplateRegistry.default`.
TEMPLATES_ENV: Final = "MDIO_CATALOG_TEMPLATES"


def builtin_template_dir() -> Path | None:
    """``<repo>/templates`` next to the package source, or None when the package was installed without it."""
    candidate = Path(__file__).resolve().parents[2] / "templates"
    return candidate if candidate.is_dir() else None


def is_template_path(ref: str) -> bool:
    """A dataset's ``template:`` names a file when it has a path separator or a template file suffix."""
    return "/" in ref or "\\" in ref or ref.lower().endswith(TEMPLATE_SUFFIXES)


def template_files(path: Path) -> list[Path]:
    """A template file, or the template files of a folder (sorted)."""
    if path.is_dir():
        return sorted(p for p in path.iterdir() if p.suffix.lower() in TEMPLATE_SUFFIXES and p.is_file())
    if path.is_file():
        return [path]
    raise TemplateNotFoundError(f"template path {str(path)!r} does not exist")


@lru_cache(maxsize=64)
def _load(path: str, mtime_ns: int, size: int) -> TemplateSpec:
    return TemplateSpec.from_file(path)


def load_template_file(path: str | Path) -> TemplateSpec:
    """Read and validate one template file (cached while the file is unchanged); errors name file and line."""
    path = Path(path)
    try:
        stat = path.stat()
    except OSError:
        raise TemplateNotFoundError(f"template file {str(path)!r} does not exist") from None
    if not path.is_file():
        raise TemplateNotFoundError(f"template path {str(path)!r} is not a file")
    return _load(str(path.resolve()), stat.st_mtime_ns, stat.st_size)


class TemplateRegistry:
    """Templates by name; immutable: ``with_paths``/``with_templates`` return a new registry."""

    def __init__(self, templates: Iterable[TemplateSpec] = (), *, sources: Mapping[str, str] | None = None) -> None:
        self._templates: dict[str, TemplateSpec] = {}
        self._sources: dict[str, str] = {}
        for template in templates:
            self._add(template, (sources or {}).get(template.name, "<python>"))

    # --- construction --------------------------------------------------------------------------------------------
    @classmethod
    def builtin(cls) -> TemplateRegistry:
        """The ready templates of ``templates/`` (empty when the folder is not there)."""
        folder = builtin_template_dir()
        return cls().with_paths([folder]) if folder is not None else cls()

    @classmethod
    def default(cls) -> TemplateRegistry:
        """The ready templates plus the paths listed in ``$MDIO_CATALOG_TEMPLATES``."""
        extra = [p for p in os.environ.get(TEMPLATES_ENV, "").split(os.pathsep) if p.strip()]
        return cls.builtin().with_paths(extra)

    @classmethod
    def from_paths(cls, paths: Iterable[str | Path], *, builtin: bool = True) -> TemplateRegistry:
        """The ready templates (unless ``builtin=False``) plus the templates found at ``paths``."""
        return (cls.builtin() if builtin else cls()).with_paths(paths)

    def copy(self) -> TemplateRegistry:
        new = TemplateRegistry()
        new._templates = dict(self._templates)
        new._sources = dict(self._sources)
        return new

    def with_templates(self, *templates: TemplateSpec, source: str = "<python>") -> TemplateRegistry:
        """A new registry that also holds ``templates``; a name that exists already is an error."""
        new = self.copy()
        for template in templates:
            new._add(template, source)
        return new

    def with_paths(self, paths: Iterable[str | Path]) -> TemplateRegistry:
        """A new registry that also holds the template files at ``paths`` (files or folders)."""
        new = self.copy()
        issues: list[SpecIssue] = []
        for path in paths:
            for file in template_files(Path(path)):
                try:
                    new._add(load_template_file(file), str(file.resolve()))
                except SpecValidationError as exc:
                    issues.extend(i for i in exc.issues if isinstance(i, SpecIssue))
        if issues:
            raise issues_error(issues, "templates")
        return new

    def _add(self, template: TemplateSpec, source: str) -> None:
        known = self._templates.get(template.name)
        if known is not None and self._sources[template.name] == source and known == template:
            return  # the same file added again (a catalog's templates on a registry that holds them already)
        if known is not None:
            raise issues_error(
                [
                    SpecIssue(
                        ("name",),
                        f"template {template.name!r} is already defined in {self._sources[template.name]}",
                        source,
                    )
                ]
            )
        self._templates[template.name] = template
        self._sources[template.name] = source

    # --- lookup --------------------------------------------------------------------------------------------------
    def get(self, ref: str, *, base: str | Path | None = None) -> TemplateSpec:
        """A deep copy of the template called ``ref``, or read from the file ``ref`` (relative to ``base``)."""
        if is_template_path(ref):
            path = Path(ref)
            if not path.is_absolute() and base is not None:
                path = Path(base) / path
            return load_template_file(path).model_copy(deep=True)
        try:
            return self._templates[ref].model_copy(deep=True)
        except KeyError:
            known = ", ".join(sorted(self._templates)) or "none"
            raise TemplateNotFoundError(
                f"unknown template {ref!r}{did_you_mean(ref, self._templates)} (known: {known}; or give a path "
                "to a template file)"
            ) from None

    def source_of(self, name: str) -> str:
        """The file a template came from (``<python>`` for templates added as objects)."""
        if name not in self._sources:
            self.get(name)  # raises the did-you-mean error
        return self._sources[name]

    def names(self) -> list[str]:
        return sorted(self._templates)

    def __contains__(self, name: object) -> bool:
        return name in self._templates

    def __iter__(self) -> Iterator[str]:
        return iter(self.names())

    def __len__(self) -> int:
        return len(self._templates)

    def __repr__(self) -> str:
        return f"TemplateRegistry({self.names()})"
