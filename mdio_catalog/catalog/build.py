"""Building one dataset from its resolved spec, atomically, and recording its provenance.

The whole build (conversion, extra access patterns, provenance attributes) happens in a staging location beside
the target, which replaces the previous version only when everything succeeded; a failed or interrupted build
leaves the previous version readable and nothing that looks like a dataset.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
from fsspec.core import split_protocol

from mdio_catalog.api.accessor import MDIOReader, MDIOWriter
from mdio_catalog.api.convenience import rechunk_batch
from mdio_catalog.catalog.identity import source_identity
from mdio_catalog.catalog.provenance import provenance_record
from mdio_catalog.converters.derive import DeriveReport, derive_mdio
from mdio_catalog.converters.numpy import numpy_to_mdio
from mdio_catalog.converters.segy import segy_to_mdio
from mdio_catalog.core import layout
from mdio_catalog.core.factory import create_empty
from mdio_catalog.core.publish import staged_write
from mdio_catalog.core.store import Location, open_root, storage_errors
from mdio_catalog.exceptions import CatalogError, ForeignContentError, SpecError
from mdio_catalog.specs.derived import DatasetSource
from mdio_catalog.specs.provenance import PROVENANCE_KEY, GitProvenance, ProvenanceRecord, same_time
from mdio_catalog.specs.resolve import ResolvedDataset
from mdio_catalog.specs.sources import NumpySource


def load_numpy(source: NumpySource, url: str, storage_options: Mapping[str, Any]) -> npt.NDArray[Any]:
    """The array of a ``.npy`` file or of one entry of a ``.npz`` file (local or fsspec URL)."""
    location = Location.of(url, storage_options)
    fs, path = location.filesystem()
    with storage_errors(location), fs.open(path, "rb") as handle:
        loaded = np.load(handle, allow_pickle=False)
        if isinstance(loaded, np.ndarray):
            return loaded
        with loaded:
            keys = list(loaded.files)
            key = source.key or (keys[0] if len(keys) == 1 else None)
            if key is None or key not in keys:
                raise SpecError(f"{url}: choose the array with 'key' (the file holds {keys}).")
            return np.asarray(loaded[key])


def build_dataset(
    resolved: ResolvedDataset,
    *,
    source_url: str | None,
    source_options: Mapping[str, Any],
    output_url: str,
    output_options: Mapping[str, Any],
    client: Any = None,
    root_url: str | None = None,
    previous: ProvenanceRecord | None = None,
    force_aside: bool = False,
    on_aside: Callable[[Path], None] | None = None,
    on_published: Callable[[ProvenanceRecord], None] | None = None,
    upstream: ProvenanceRecord | None = None,
    git: GitProvenance | None = None,
    retire: Callable[[Location], None] | None = None,
) -> ProvenanceRecord:
    """Build ``resolved`` into ``output_url`` (replacing a previous version only when complete).

    ``client`` (a ``distributed.Client``) runs SEG-Y ingestion and the extra access patterns on that cluster; NumPy
    sources are written from this process (the array is here already), empty datasets are metadata only.

    Only a dataset this catalog built is replaced (:func:`built_here`, with ``previous`` the lock's record);
    anything else at the output path is refused with :class:`ForeignContentError` before any work, or with
    ``force_aside`` renamed aside and kept (``on_aside`` is told where). On local disks no folder between
    ``root_url`` and the output may be a symbolic link: the catalog never writes or deletes through one.
    ``on_published`` (the catalog's lock entry) is called with the record once the dataset is current, while the
    dataset's lock is still held, so builds of one dataset record their entries in the order they published.
    A derived dataset (``source: {dataset: ...}``) is read from ``source_url``, its upstream's published output;
    ``upstream`` (that dataset's lock entry) becomes its ``derived_from``, so the chain leads back to source files.
    ``git`` (the spec's commit and uncommitted changes, asked once per catalog build) is recorded as given.
    ``retire`` receives the replaced version on local disks instead of it being deleted (``keep: N``: the catalog
    keeps it, see :mod:`mdio_catalog.catalog.versions`).
    """
    started = datetime.now(UTC)
    if root_url is not None:
        check_no_links(root_url, output_url)
    identity = source_identity(resolved.kind, source_url, source_options, resolved.segy_open_options())
    target = Location(url=output_url, storage_options=dict(output_options))
    if target.is_local:  # the path as named, not resolved: a link at the output path is judged, never followed
        path = os.path.abspath(os.path.expanduser(split_protocol(output_url)[1]))
        target = Location(url=path, storage_options=dict(output_options))
    else:
        target = Location.of(output_url, output_options)
    out_options = dict(output_options)

    def owned(location: Location) -> bool:
        return built_here(location, resolved.name, output_url, previous)

    built: list[ProvenanceRecord] = []
    derived: dict[str, Any] = {}

    def published() -> None:
        if on_published is not None:
            on_published(built[0])

    with staged_write(
        target, overwrite=True, owned=owned, force_aside=force_aside, on_aside=on_aside, on_published=published,
        retire=retire,
    ) as staging:
        if resolved.format == "v1":  # built as v0 in a nested staging, then written as v1 here (no extra patterns)
            from mdio_catalog.catalog.v1_output import build_v1

            def convert(url: str) -> str:
                return _convert(resolved, source_url, dict(source_options), url, out_options, client, derived)

            reader: MDIOReader | MDIOWriter = build_v1(convert, staging, out_options, resolved.domain)
        else:
            main_pattern = _convert(
                resolved, source_url, dict(source_options), staging.url, out_options, client, derived
            )
            # One writer does the rest: it reads live (non-consolidated) metadata, so it sees the patterns it adds.
            writer = MDIOWriter(staging.url, access_pattern=main_pattern, storage_options=out_options)
            if resolved.kind != "empty" and resolved.access_patterns:
                suffixes = list(resolved.access_patterns)
                rechunk_batch(writer, [tuple(resolved.access_patterns[s]) for s in suffixes], suffixes, client=client)
            reader = writer
        record = provenance_record(resolved, identity, output_url, reader, started, datetime.now(UTC))
        if resolved.format != "v0":
            record = record.model_copy(update={"format": resolved.format})
        if isinstance(resolved.source, DatasetSource):
            record = _with_lineage(record, resolved.source.dataset, upstream, derived)
        if git is not None:
            record = record.model_copy(update={"git": git})
        attributes = {layout.ATTR_CATALOG: {PROVENANCE_KEY: record.to_data(exclude_defaults=False)}}
        if resolved.format == "v1":
            from mdio_catalog.catalog.v1_output import set_v1_attributes

            set_v1_attributes(staging, attributes)
        else:
            writer.set_root_attributes(attributes)
        built.append(record)
    return record


def check_no_links(root_url: str, output_url: str) -> None:
    """Refuse a local output path that lies outside the root or passes through a symbolic link below the root
    (the root itself may be a link: the user chose it). The output entry itself is judged by the publish step
    (a link there is foreign content: refused, or renamed aside with --force; never followed)."""
    if "://" in output_url or "://" in root_url:
        return
    root = Path(os.path.abspath(root_url))
    output = Path(os.path.abspath(output_url))
    try:
        parts = output.relative_to(root).parts
    except ValueError:
        message = f"{output_url} lies outside the catalog root {root_url}; nothing was changed."
        raise ForeignContentError(message) from None
    current = root
    for part in parts[:-1]:
        current = current / part
        if current.is_symlink():
            raise ForeignContentError(
                f"{current} is a symbolic link (to {os.readlink(current)}); the catalog never writes or deletes "
                "through links, and nothing was changed. Replace the link by a folder, or move it away."
            )


def built_here(location: Location, name: str, output_url: str, previous: ProvenanceRecord | None) -> bool:
    """Whether the dataset at ``location`` (either format) is one a catalog build of ``name`` wrote: its provenance
    attributes name this dataset and either match the lock's record (same start time) or this very output path (a build
    killed after publishing and before the lock was written)."""
    from mdio_catalog.catalog.v1_output import root_attributes  # .zattrs (v0) or zarr.json (v1: format: v1)

    found = root_attributes(location)
    if found is None:
        return False
    attrs = found[0]
    catalog = attrs.get(layout.ATTR_CATALOG) if isinstance(attrs, dict) else None
    record = catalog.get(PROVENANCE_KEY) if isinstance(catalog, dict) else None
    if not isinstance(record, dict) or record.get("dataset") != name:
        return False
    if previous is not None and same_time(record.get("started"), previous.started):
        return True
    return record.get("output") == output_url


def _convert(
    resolved: ResolvedDataset,
    source_url: str | None,
    source_options: dict[str, Any],
    output_url: str,
    output_options: dict[str, Any],
    client: Any = None,
    derived: dict[str, Any] | None = None,
) -> str:
    """Run the converter of the source kind into ``output_url``; return the main access pattern (``derived``
    receives the report of a derivation)."""
    if resolved.kind == "segy":
        assert source_url is not None
        kwargs = resolved.segy_to_mdio_kwargs(
            source_url,
            output_url,
            storage_options_input=source_options or None,
            storage_options_output=output_options or None,
            overwrite=True,
        )
        options = {k: v for k, v in resolved.segy_open_options().items() if v is not None}
        segy_to_mdio(**kwargs, **options, client=client)
    elif resolved.kind == "numpy":
        assert source_url is not None
        assert isinstance(resolved.source, NumpySource)
        array = load_numpy(resolved.source, source_url, source_options)
        kwargs = resolved.numpy_to_mdio_kwargs(
            output_url, tuple(array.shape), storage_options=output_options or None, overwrite=True
        )
        numpy_to_mdio(array, **kwargs)
    elif resolved.kind == "empty":
        config = resolved.create_spec(output_url).to_config()
        create_empty(config, overwrite=True, storage_options=output_options or None)
    elif isinstance(resolved.source, DatasetSource):
        assert source_url is not None
        report = _derive(resolved, resolved.source, source_url, source_options, output_url, output_options, client)
        if derived is not None:
            derived["report"] = report
    else:  # pragma: no cover - the spec models allow no other kind
        raise CatalogError(f"dataset {resolved.name!r}: unknown source kind {resolved.kind!r}")
    ndim = len(open_root(Location.of(output_url, output_options)).attrs.get(layout.ATTR_DIMENSION, []))  # type: ignore[arg-type]
    return layout.default_access_pattern(ndim)


def _derive(
    resolved: ResolvedDataset,
    source: DatasetSource,
    source_url: str,
    source_options: dict[str, Any],
    output_url: str,
    output_options: dict[str, Any],
    client: Any,
) -> DeriveReport:
    compression = resolved.compression
    quality = compression.quality_target
    return derive_mdio(
        source_url,
        output_url,
        select=source.select or None,
        step=source.step or None,
        chunks=resolved.chunks,
        lossless=compression.lossless,
        compression_tolerance=None if compression.lossless or quality else compression.compression_tolerance,
        snr_db=compression.snr_db,
        psnr_db=compression.psnr_db,
        storage_options_input=source_options or None,
        storage_options_output=output_options or None,
        overwrite=True,
        client=client,
    )


def _finite(value: float | None) -> float | None:
    return value if value is not None and math.isfinite(value) else None


def _with_lineage(
    record: ProvenanceRecord, name: str, upstream: ProvenanceRecord | None, derived: Mapping[str, Any]
) -> ProvenanceRecord:
    """The record with ``derived_from`` and, for lossy output, the tolerance used and the quality measured."""
    from mdio_catalog.catalog.lineage import derived_from

    parameters = dict(record.parameters)
    report: DeriveReport | None = derived.get("report")
    if report is not None and not report.lossless:
        parameters["quality"] = {
            "tolerance": report.tolerance,
            "metric": report.metric,
            "target_db": report.target_db,
            "snr_db": _finite(report.snr_db),
            "psnr_db": _finite(report.psnr_db),
            "size_ratio": report.size_ratio,
            "tolerance_seconds": round(report.tolerance_seconds, 3),
            "attempts": report.attempts,
        }
    lineage = derived_from(name, upstream) if upstream is not None else None
    return record.model_copy(update={"parameters": parameters, "derived_from": lineage})


def stored_provenance(reader: MDIOReader) -> dict[str, Any] | None:
    """The provenance a catalog build wrote into a dataset, if any."""
    attrs = reader.root.attrs.get(layout.ATTR_CATALOG)
    if isinstance(attrs, dict):
        record = attrs.get(PROVENANCE_KEY)
        return record if isinstance(record, dict) else None
    return None
