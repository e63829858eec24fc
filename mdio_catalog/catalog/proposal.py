"""``segy scan``'s last step: turn a geometry proposal into a ready catalog dataset entry.

Lives beside the catalog (above the SEG-Y layer) because it needs the catalog's spec models and templates; the
SEG-Y layer (:mod:`mdio_catalog.segy.scan`) only reads headers and proposes a geometry.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

from mdio_catalog.core.chunks import default_chunks
from mdio_catalog.segy.scan import DEFAULT_MAX_TRACES, Endian, GeometryProposal, HeaderSummary, scan_path
from mdio_catalog.specs.base import dump_yaml
from mdio_catalog.specs.catalog import DatasetSpec
from mdio_catalog.specs.registry import TemplateRegistry
from mdio_catalog.specs.template import TemplateSpec

#: Where the dataset schema is, relative to a catalog at the top of the repository.
DATASET_SCHEMA: Final = "schemas/dataset.schema.json"


def matching_template(proposal: GeometryProposal, registry: TemplateRegistry | None = None) -> TemplateSpec | None:
    """The ready template whose index (names, bytes, types) is the proposal's, preferring the proposal's domain."""
    registry = registry if registry is not None else TemplateRegistry.default()
    wanted = tuple((w.name, w.byte, w.type) for w in proposal.index)
    found = []
    for name in registry.names():
        template = registry.get(name)
        if tuple((f.name, f.byte, f.type) for f in template.index) == wanted:
            found.append(template)
    found.sort(key=lambda t: (t.domain != proposal.domain, t.name))
    return found[0] if found else None


def _same_overrides(template: Mapping[str, Any], proposed: Mapping[str, Any], n_traces: int) -> bool:
    a, b = dict(template), dict(proposed)
    qc = a.pop("AutoChannelTraceQC", None)
    b.pop("AutoChannelTraceQC", None)
    return a == b and (qc is None or not a.get("AutoChannelWrap") or qc >= n_traces)


def suggested_chunks(proposal: GeometryProposal, template: TemplateSpec | None = None) -> list[int]:
    """Chunks for the index dimensions plus the sample axis (the 'trace' axis of overrides excluded): the
    template's defaults or the converter's, no larger than the data (spatial sizes too, unless sampled)."""
    n_index = len(proposal.index)
    sizes = [*proposal.shape[:n_index], proposal.n_samples]
    if template is not None and template.default_chunks is not None:
        base = list(template.default_chunks)
    else:
        base = list(default_chunks(sizes))
    out = []
    for axis, (chunk, size) in enumerate(zip(base, sizes, strict=True)):
        spatial = axis < n_index
        out.append(max(1, min(int(chunk), int(size))) if (not spatial or not proposal.sampled) else int(chunk))
    return out


def proposed_spec(
    proposal: GeometryProposal,
    segy_url: str,
    template_registry: TemplateRegistry | None = None,
    *,
    chunks: bool = True,
) -> dict[str, Any]:
    """A catalog dataset entry (``DatasetSpec`` data) that ingests the file as ``proposal`` says.

    Uses a ready template when one has the proposal's index (its grid overrides kept unless they differ), an
    explicit ``source.index`` otherwise; ``endian`` when little-endian, ``sample_format`` when the samples
    contradict the binary header; ``chunks`` sized to the data. The result validates as a DatasetSpec.
    """
    template = matching_template(proposal, template_registry)
    source: dict[str, Any] = {"segy": str(segy_url)}
    overrides = dict(proposal.grid_overrides)
    if template is None:
        source["index"] = [w.to_dict() for w in proposal.index]
        if overrides:
            source["grid_overrides"] = overrides
    elif not _same_overrides(template.grid_overrides.to_reference(), overrides, proposal.n_traces):
        source["grid_overrides"] = overrides
    if proposal.endian == "little":
        source["endian"] = "little"
    if proposal.sample_format is not None:
        source["sample_format"] = proposal.sample_format
    spec: dict[str, Any] = {}
    if template is not None:
        spec["template"] = template.name
    spec["source"] = source
    if chunks:
        spec["chunks"] = suggested_chunks(proposal, template)
    shape = " x ".join(str(s) for s in proposal.full_shape)
    spec["description"] = (
        f"Proposed by segy scan: {proposal.kind.label}, {shape} ({', '.join((*proposal.dims, 'sample'))}), fill "
        f"{proposal.fill:.0%}, confidence {proposal.confidence_label}."
    )
    DatasetSpec.from_data(spec)  # a proposal that does not validate is a bug here, not the user's problem
    return spec


def proposed_spec_yaml(
    proposal: GeometryProposal,
    segy_url: str,
    template_registry: TemplateRegistry | None = None,
    *,
    name: str | None = None,
    schema: str | None = None,
) -> str:
    """:func:`proposed_spec` as YAML headed by comments (kind, shape, confidence, the main reasons).

    ``name`` nests the entry under ``datasets: {name: ...}`` ready to paste into a catalog; ``schema`` adds the
    ``# yaml-language-server: $schema=...`` line (e.g. :data:`DATASET_SCHEMA` relative to where it is saved).
    """
    spec = proposed_spec(proposal, segy_url, template_registry)
    words = ", ".join(f"{w.name}={w.byte}" + ("" if w.type == "int32" else f"/{w.type}") for w in proposal.index)
    comments = [
        f"# segy scan: {proposal.kind.label}",
        f"#   index {words}"
        f"; shape {' x '.join(str(s) for s in proposal.full_shape)}; fill {proposal.fill:.1%}; "
        f"confidence {proposal.confidence_label} ({proposal.confidence:.2f})",
    ]
    comments += [f"#   - {r}" for r in proposal.reasons[:3]]
    body = dump_yaml({"datasets": {name: spec}} if name else spec)
    head = f"# yaml-language-server: $schema={schema}\n" if schema else ""
    return head + "\n".join(_wrap_comment(c) for c in comments) + "\n" + body


def _wrap_comment(line: str, width: int = 118) -> str:
    if len(line) <= width:
        return line
    words, out, current = line.split(" "), [], ""
    for word in words:
        if current and len(current) + 1 + len(word) > width:
            out.append(current)
            current = "#       " + word
        else:
            current = f"{current} {word}" if current else word
    out.append(current)
    return "\n".join(out)


@dataclass(frozen=True)
class ScanReport:
    """What :func:`scan_file` found: the header summary, the geometry proposal and the proposed spec."""

    summary: HeaderSummary
    proposal: GeometryProposal
    spec: dict[str, Any]
    segy_url: str

    def spec_yaml(
        self, *, name: str | None = None, schema: str | None = None, template_registry: TemplateRegistry | None = None
    ) -> str:
        """The proposed spec as YAML (see :func:`proposed_spec_yaml`)."""
        return proposed_spec_yaml(self.proposal, self.segy_url, template_registry, name=name, schema=schema)

    def to_dict(self) -> dict[str, Any]:
        return {"summary": self.summary.to_dict(), "proposal": self.proposal.to_dict(), "spec": self.spec}


def scan_file(
    path: str,
    *,
    storage_options: Mapping[str, Any] | None = None,
    endian: Endian | None = None,
    sample_format: int | str | None = None,
    max_traces: int = DEFAULT_MAX_TRACES,
    template_registry: TemplateRegistry | None = None,
    segy_url: str | None = None,
) -> ScanReport:
    """Open ``path``, scan its headers, propose a geometry and a spec (``segy_url`` goes into the spec; default
    ``path``). A file labelled with the obsolete sample format 4 is opened as a 4-byte format and its samples
    decide which. Unreadable files raise the reader's errors (SegyTruncatedError, SegyFormatError, ...)."""
    summary, proposal = scan_path(
        path, storage_options=storage_options, endian=endian, sample_format=sample_format, max_traces=max_traces
    )
    url = str(path) if segy_url is None else segy_url
    return ScanReport(summary, proposal, proposed_spec(proposal, url, template_registry), url)


__all__ = [
    "DATASET_SCHEMA",
    "ScanReport",
    "matching_template",
    "proposed_spec",
    "proposed_spec_yaml",
    "scan_file",
    "suggested_chunks",
]
