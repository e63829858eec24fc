"""From a catalog entry to a fully resolved dataset spec, its hash, and the whole-catalog check.

:func:`resolve` merges template, catalog defaults and the dataset entry into a :class:`ResolvedDataset` in which
every field is explicit; :func:`spec_hash` is the SHA-256 of its canonical JSON (sorted keys), leaving out what
does not change the data: free text (description, tags), metadata (crs), retention (keep), names and places
(name, output, template reference) and access (storage options, credentials). :func:`check_catalog` resolves every
dataset and reports every problem at once with its file and line; :func:`load_catalog` reads, validates and checks a
catalog file.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Final

import numpy as np
from pydantic import Field

from mdio_catalog.exceptions import DatasetNotFoundError, SpecValidationError, TemplateNotFoundError, did_you_mean
from mdio_catalog.specs.base import StrictModel
from mdio_catalog.specs.catalog import (
    V1_PATTERNS_MESSAGE,
    CatalogSpec,
    DatasetSpec,
    OutputFormat,
    Problems,
    chunk_count_message,
    join_location,
    redact_storage_options,
)
from mdio_catalog.specs.errors import SpecIssue, issues_error
from mdio_catalog.specs.grid_overrides import GridOverrides
from mdio_catalog.specs.registry import TemplateRegistry
from mdio_catalog.specs.sources import (
    SAMPLE_DIM,
    TRACE_DIM,
    DatasetSource,
    EmptySource,
    IndexField,
    NumpySource,
    RangeSpec,
    SegySource,
    Source,
    SourceKind,
    check_index,
    source_kind,
)
from mdio_catalog.specs.template import Domain, TemplateSpec
from mdio_catalog.specs.variables import Chunks, CompressionSpec, CreateSpec, VariableSpec

#: Bumped when the hash payload changes shape, so that old lock entries read as stale rather than equal.
SPEC_HASH_VERSION: Final = 1

#: Fields of a resolved dataset that do not change the data it holds.
HASH_EXCLUDED: Final = frozenset({"name", "description", "tags", "output", "fields", "template", "crs", "keep"})
#: Fields of a resolved source that only say how to reach it.
HASH_EXCLUDED_SOURCE: Final = frozenset({"storage_options", "credentials"})


class ResolvedDataset(StrictModel):
    """A dataset with template and defaults merged in: everything a build needs, every field explicit.

    For SEG-Y, ``chunks`` has one entry per index plus the sample axis (the converters' ``chunksize``) while
    ``dimensions`` and ``access_patterns`` also count the 'trace' axis that NonBinned/HasDuplicates add.
    """

    schema_name = "resolved-dataset"

    name: str
    kind: SourceKind
    template: str | None = Field(None, description="Template reference as written (name or path).")
    domain: Domain | None = Field(None, description="Domain of the sample axis (from the template).")
    source: Source
    dimensions: tuple[str, ...] | None = Field(description="Every dimension, sample axis last (None: from the file).")
    chunks: Chunks | None = Field(description="Chunks (None: the converter's default for the shape).")
    compression: CompressionSpec
    access_patterns: dict[str, Chunks] = Field(default_factory=dict)
    format: OutputFormat = Field("v0", description="Layout written: v0 (Zarr v2) or v1 (Zarr v3, multidimio 1.x).")
    output: str = Field(description="Path of the dataset inside the catalog root.")
    fields: dict[str, str] = Field(default_factory=dict, description="Fields of the name's pattern.")
    description: str = ""
    tags: tuple[str, ...] = ()
    keep: int = Field(0, description="Earlier versions kept for rollback (not part of the spec hash).")
    crs: str | None = Field(None, description="CRS of the CDP X/Y headers, EPSG:NNNN (metadata, not hashed).")

    # --- convenience views ---------------------------------------------------------------------------------------
    @property
    def index(self) -> list[IndexField]:
        """The SEG-Y index (empty for other sources)."""
        return list(self.source.index or []) if isinstance(self.source, SegySource) else []

    @property
    def grid_overrides(self) -> GridOverrides:
        return (
            (self.source.grid_overrides or GridOverrides()) if isinstance(self.source, SegySource) else GridOverrides()
        )

    # --- hashing and provenance ----------------------------------------------------------------------------------
    def hash_payload(self) -> dict[str, Any]:
        """What the spec hash covers: the resolved spec without free text, names, places and access."""
        data = self.model_dump(mode="json", by_alias=True, exclude=set(HASH_EXCLUDED))
        data["source"] = {k: v for k, v in data["source"].items() if k not in HASH_EXCLUDED_SOURCE}
        for key in ("snr_db", "psnr_db"):  # added later: absent when unset, so earlier builds keep their hash
            if data["compression"].get(key) is None:
                data["compression"].pop(key, None)
        if data.get("format") == "v0":  # added later: absent for v0, so earlier builds keep their hash
            data.pop("format")
        return data

    def redacted_data(self) -> dict[str, Any]:
        """Every field written out, secret-looking storage options shown as ``***`` (for provenance)."""
        return redact_storage_options(self.to_data(exclude_defaults=False))

    # --- arguments of the converters -----------------------------------------------------------------------------
    def segy_to_mdio_kwargs(
        self,
        source_url: str,
        output_url: str,
        *,
        storage_options_input: dict[str, Any] | None = None,
        storage_options_output: dict[str, Any] | None = None,
        overwrite: bool = False,
    ) -> dict[str, Any]:
        """Keyword arguments of :func:`mdio_catalog.segy_to_mdio` for this dataset.

        ``endian`` and ``sample_format`` are not among them (see :meth:`segy_open_options`).
        """
        if not isinstance(self.source, SegySource):
            raise SpecValidationError(f"dataset {self.name!r} has a {self.kind} source, not SEG-Y")
        overrides = self.grid_overrides
        return {
            "segy_path": source_url,
            "mdio_path_or_buffer": output_url,
            "index_bytes": [f.byte for f in self.index],
            "index_names": [f.name for f in self.index],
            "index_types": [f.type for f in self.index],
            "chunksize": tuple(self.chunks) if self.chunks is not None else None,
            "lossless": self.compression.lossless,
            "compression_tolerance": self.compression.compression_tolerance,
            "storage_options_input": storage_options_input,
            "storage_options_output": storage_options_output,
            "overwrite": overwrite,
            "grid_overrides": overrides.to_reference() if overrides.active else None,
        }

    def segy_open_options(self) -> dict[str, Any]:
        """``endian`` and ``sample_format`` overrides for :class:`mdio_catalog.segy.reader.SegyFile`."""
        if not isinstance(self.source, SegySource):
            return {}
        return {"endian": self.source.endian, "sample_format": self.source.sample_format}

    def numpy_to_mdio_kwargs(
        self,
        output_url: str,
        shape: tuple[int, ...],
        *,
        storage_options: dict[str, Any] | None = None,
        overwrite: bool = False,
    ) -> dict[str, Any]:
        """Keyword arguments of :func:`mdio_catalog.numpy_to_mdio` except ``array``, for an array of ``shape``."""
        source = self.source
        if not isinstance(source, NumpySource):
            raise SpecValidationError(f"dataset {self.name!r} has a {self.kind} source, not NumPy")
        names = list(source.index_names) if source.index_names is not None else None
        if names is not None and len(names) != len(shape):
            raise SpecValidationError(
                f"dataset {self.name!r}: index_names {names} has {len(names)} entries for an array of shape {shape}"
            )
        coords: dict[str, np.ndarray] | None = None
        if source.index_coords:
            coords = {}
            for name, values in source.index_coords.items():
                size = shape[names.index(name)] if names else 0
                if isinstance(values, RangeSpec):
                    coords[name] = values.start + values.step * np.arange(size)
                else:
                    coords[name] = np.asarray(values)
            for name in names or []:
                coords.setdefault(name, np.arange(shape[names.index(name)]))  # type: ignore[union-attr]
        if self.chunks is not None:
            chunks = tuple(self.chunks)
        else:
            from mdio_catalog.core.chunks import default_chunks

            chunks = default_chunks(shape)
        return {
            "mdio_path_or_buffer": output_url,
            "chunksize": chunks,
            "index_names": names,
            "index_coords": coords,
            "lossless": self.compression.lossless,
            "compression_tolerance": self.compression.compression_tolerance,
            "storage_options": storage_options,
            "overwrite": overwrite,
        }

    def create_spec(self, output_url: str) -> CreateSpec:
        """The :class:`CreateSpec` of an empty dataset: the main variable plus one per access pattern."""
        source = self.source
        if not isinstance(source, EmptySource):
            raise SpecValidationError(f"dataset {self.name!r} has a {self.kind} source, not empty")
        compressor = self.compression.to_compressor()
        main = "".join(str(i) for i in range(len(source.empty)))
        variables = [
            VariableSpec(
                name=f"chunked_{suffix}",
                dtype=source.dtype,
                chunks=chunks,
                compressors=compressor,
                header_dtype=source.header_dtype,
            )
            for suffix, chunks in {main: self.chunks, **self.access_patterns}.items()
        ]
        return CreateSpec(path=output_url, dimensions=list(source.empty), variables=variables)


def spec_hash(resolved: ResolvedDataset) -> str:
    """SHA-256 (hex) of the canonical JSON of :meth:`ResolvedDataset.hash_payload`."""
    text = json.dumps(
        {"spec_hash_version": SPEC_HASH_VERSION, "spec": resolved.hash_payload()},
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
        allow_nan=False,
    )
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


# --- resolution ---------------------------------------------------------------------------------------------------
def catalog_registry(
    catalog: CatalogSpec, registry: TemplateRegistry | None = None, base: str | Path | None = None
) -> TemplateRegistry:
    """``registry`` (default: :meth:`TemplateRegistry.default`) plus the catalog's ``templates:`` paths."""
    registry = registry if registry is not None else TemplateRegistry.default()
    base = base if base is not None else catalog.base_dir
    issues: list[SpecIssue] = []
    for i, path in enumerate(catalog.templates):
        try:
            registry = registry.with_paths([join_location(base, path)])
        except TemplateNotFoundError as exc:
            issues.append(catalog.issue(("templates", i), str(exc)))
        except SpecValidationError as exc:
            issues.extend(i for i in exc.issues if isinstance(i, SpecIssue))
    if issues:
        raise issues_error(issues, _what(catalog))
    return registry


def resolve(
    catalog: CatalogSpec, name: str, registry: TemplateRegistry | None = None, *, base: str | Path | None = None
) -> ResolvedDataset:
    """Merge template, catalog defaults and the entry ``name`` into a :class:`ResolvedDataset`.

    ``registry`` defaults to the ready templates; the catalog's own ``templates:`` are added to it, and template
    paths are relative to ``base`` (default: the catalog file's folder). Problems are a SpecValidationError that
    names the catalog file and line of each.
    """
    if name not in catalog.datasets:
        raise DatasetNotFoundError(
            f"no dataset {name!r} in catalog {catalog.name!r}{did_you_mean(name, catalog.datasets)}"
        )
    base = base if base is not None else catalog.base_dir
    registry = catalog_registry(catalog, registry, base)
    dataset = catalog.datasets[name]
    at = ("datasets", name)
    template: TemplateSpec | None = None
    if dataset.template is not None:
        try:
            template = registry.get(dataset.template, base=base)
        except TemplateNotFoundError as exc:
            raise issues_error([catalog.issue((*at, "template"), str(exc))], _what(catalog)) from None
        except SpecValidationError as exc:
            issues = [catalog.issue((*at, "template"), f"template {dataset.template!r} is invalid")]
            issues += [i for i in exc.issues if isinstance(i, SpecIssue)]
            raise issues_error(issues, _what(catalog)) from None
    problems: Problems = []
    source, dimensions, chunks = _resolve_source(catalog, dataset, template, problems)
    access_patterns = _resolve_access_patterns(dataset, template, dimensions, problems)
    output_format = dataset.format or catalog.defaults.format
    if output_format == "v1" and access_patterns and dataset.format is None:  # (the entry's own v1 is checked there)
        problems.append((("access_patterns",), V1_PATTERNS_MESSAGE + " (defaults ask for v1)"))
    if problems:
        raise issues_error([catalog.issue((*at, *path), message) for path, message in problems], _what(catalog))
    compression = dataset.compression or catalog.defaults.compression or CompressionSpec(lossless=True)
    if compression.quality_target is not None and not isinstance(source, DatasetSource):
        where = (*at, "compression") if dataset.compression is not None else ("defaults", "compression")
        message = "snr_db/psnr_db apply to datasets derived from a dataset (source: {dataset: NAME}); use tolerance"
        raise issues_error([catalog.issue(where, message)], _what(catalog))
    fields = catalog.fields_of(name)
    return ResolvedDataset(
        name=name,
        kind=source_kind(source),
        template=dataset.template,
        domain=template.domain if template is not None else None,
        source=source,
        dimensions=dimensions,
        chunks=chunks,
        compression=compression.explicit(),
        access_patterns=access_patterns,
        format=output_format,
        output=catalog.output_path(name, fields),
        fields=fields,
        description=dataset.description,
        tags=tuple(dataset.tags),
        keep=dataset.keep if dataset.keep is not None else catalog.defaults.keep,
        crs=dataset.crs or catalog.defaults.crs,
    )


def _what(catalog: CatalogSpec) -> str:
    return (
        catalog.source_map.source if catalog.source_map and catalog.source_map.source else f"catalog {catalog.name!r}"
    )


def _default_chunks(catalog: CatalogSpec, template: TemplateSpec | None, count: int | None) -> tuple[int, ...] | None:
    chunks = template.default_chunks if template is not None else None
    if chunks is not None and (count is None or len(chunks) == count):
        return tuple(chunks)
    return catalog.defaults.chunks_for(count)


def _resolve_source(
    catalog: CatalogSpec, dataset: DatasetSpec, template: TemplateSpec | None, problems: Problems
) -> tuple[SegySource | NumpySource | EmptySource | DatasetSource, tuple[str, ...] | None, tuple[int, ...] | None]:
    source = dataset.source
    if isinstance(source, DatasetSource):  # dimensions and default chunks come from the upstream when built
        return source, None, tuple(dataset.chunks) if dataset.chunks is not None else None
    if isinstance(source, EmptySource):
        names = tuple(d.name for d in source.empty)
        chunks = tuple(dataset.chunks) if dataset.chunks is not None else _default_chunks(catalog, template, len(names))
        if chunks is not None and len(chunks) != len(names):
            problems.append((("chunks",), chunk_count_message(len(chunks), source)))
        return source, names, chunks
    access = {
        "storage_options": {**catalog.defaults.storage_options, **source.storage_options},
        "credentials": source.credentials or catalog.defaults.credentials,
    }
    if isinstance(source, NumpySource):
        index_names = source.index_names
        if index_names is None and template is not None:
            index_names = [*template.index_names, SAMPLE_DIM]
        count = len(index_names) if index_names is not None else None
        chunks = tuple(dataset.chunks) if dataset.chunks is not None else _default_chunks(catalog, template, count)
        if chunks is not None and count is not None and len(chunks) != count:
            problems.append((("chunks",), chunk_count_message(len(chunks), source, index_names or [])))
        resolved = source.model_copy(update={"index_names": index_names, **access})
        return resolved, tuple(index_names) if index_names is not None else None, chunks
    return _resolve_segy(catalog, dataset, source, template, access, problems)


def _resolve_segy(
    catalog: CatalogSpec,
    dataset: DatasetSpec,
    source: SegySource,
    template: TemplateSpec | None,
    access: Mapping[str, Any],
    problems: Problems,
) -> tuple[SegySource, tuple[str, ...] | None, tuple[int, ...] | None]:
    index = source.index if source.index is not None else (template.index if template is not None else None)
    if index is None:
        problems.append((("source",), "no index: give source.index or a template"))
        return source, None, None
    overrides = source.grid_overrides
    if overrides is None:
        overrides = template.grid_overrides if template is not None else GridOverrides()
    origin = "" if template is None else f" (template {template.name!r})"
    for path, message in check_index(index, overrides, where=("grid_overrides",)):
        if path[0] == "index":
            where = ("source", *path) if source.index is not None else ("template",)
            problems.append((where, message + ("" if source.index is not None else origin)))
        else:
            where = ("source", "grid_overrides") if source.grid_overrides is not None else ("template",)
            problems.append((where, message + ("" if source.grid_overrides is not None else origin)))
    names = [f.name for f in index]
    count = len(index) + 1
    chunks = tuple(dataset.chunks) if dataset.chunks is not None else _default_chunks(catalog, template, count)
    if chunks is not None and len(chunks) != count:
        problems.append((("chunks",), chunk_count_message(len(chunks), source, names)))
    coordinates = source.coordinates
    if coordinates is None:
        coordinates = dict(template.coordinates) if template is not None else {}
    trace = (TRACE_DIM,) if overrides.adds_trace_dimension else ()
    resolved = source.model_copy(
        update={"index": list(index), "grid_overrides": overrides, "coordinates": coordinates, **access}
    )
    return resolved, (*names, *trace, SAMPLE_DIM), chunks


def _resolve_access_patterns(
    dataset: DatasetSpec, template: TemplateSpec | None, dimensions: tuple[str, ...] | None, problems: Problems
) -> dict[str, tuple[int, ...]]:
    out: dict[str, tuple[int, ...]] = {}
    suggested = template.access_patterns if template is not None else {}
    for suffix, given in dataset.access_patterns.items():
        chunks = given if given is not None else suggested.get(suffix)
        if chunks is None:
            known = ", ".join(suggested) or "none"
            problems.append(
                (
                    ("access_patterns", suffix),
                    f"the template suggests no access pattern {suffix!r}{did_you_mean(suffix, suggested)} "
                    f"(it suggests: {known})",
                )
            )
            continue
        if dimensions is not None:
            if len(chunks) != len(dimensions):
                problems.append(
                    (
                        ("access_patterns", suffix),
                        f"{len(chunks)} chunk sizes for {len(dimensions)} dimensions {list(dimensions)}",
                    )
                )
            if suffix == "".join(str(i) for i in range(len(dimensions))):
                problems.append((("access_patterns", suffix), f"{suffix!r} is the dataset's own access pattern"))
        out[suffix] = tuple(chunks)
    return out


def resolve_all(
    catalog: CatalogSpec, registry: TemplateRegistry | None = None, *, base: str | Path | None = None
) -> dict[str, ResolvedDataset]:
    """Every dataset resolved; all problems of all datasets in one located error."""
    base = base if base is not None else catalog.base_dir
    registry = catalog_registry(catalog, registry, base)
    resolved: dict[str, ResolvedDataset] = {}
    issues: list[SpecIssue] = []
    for name in catalog.datasets:
        try:
            resolved[name] = resolve(catalog, name, registry, base=base)
        except SpecValidationError as exc:
            issues.extend(i for i in exc.issues if isinstance(i, SpecIssue))
    if issues:
        raise issues_error(issues, _what(catalog))
    return resolved


def check_catalog(
    catalog: CatalogSpec, registry: TemplateRegistry | None = None, *, base: str | Path | None = None
) -> None:
    """Raise one located error with every problem :func:`resolve` finds in any dataset (templates included)."""
    resolve_all(catalog, registry, base=base)


def load_catalog(
    path: str | Path, *, registry: TemplateRegistry | None = None, env: Mapping[str, str] | None = None
) -> CatalogSpec:
    """Read, validate and check a catalog file: structure, templates, and (when ``env`` is given) that every
    ``${VAR}`` the catalog uses is defined. Problems raise one SpecValidationError naming file, line and path."""
    catalog = CatalogSpec.from_file(path)
    check_catalog(catalog, registry)
    if env is not None:
        catalog.check_environment(env=env)
    return catalog


__all__ = [
    "HASH_EXCLUDED",
    "SPEC_HASH_VERSION",
    "ResolvedDataset",
    "catalog_registry",
    "check_catalog",
    "load_catalog",
    "resolve",
    "resolve_all",
    "spec_hash",
]
