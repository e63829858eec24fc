"""``segy scan``: what a SEG-Y file holds and how to index it, as a small package with one job per module.

1. :mod:`.sample` reads the standard 240-byte trace headers (every trace of small files; evenly spaced blocks of
   consecutive traces of large ones, up to ``max_traces``) into a :class:`HeaderSample`.
2. :mod:`.summary` summarises every standard word (min/max, distinct values, constant, monotonic, examples)
   with the file's facts and a check of the declared sample format (:func:`scan_headers`).
3. :mod:`.plans` lists the index candidates (standard bytes first), :mod:`.candidates` builds the grid of each
   on the header columns the same way ingestion does (grid overrides included), :mod:`.ranking` orders the
   ones that work (believable values, as many varying dimensions as the traces support, no 'trace' axis,
   density, the file's sort order, conventions) and :mod:`.geometry` turns the best into a
   :class:`GeometryProposal` with its reasons (:mod:`.reasons`, :mod:`.text`) and the alternatives.
4. :mod:`.files` does all of it from a path (:func:`scan_path`), obsolete sample format 4 included.

The pure parts (:mod:`.arrays`, :mod:`.candidates`, :mod:`.ranking`) work on arrays and candidates alone. The
catalog spec proposal (``scan_file``, ``proposed_spec``...) lives in :mod:`mdio_catalog.catalog.proposal`, above
this layer.
"""

from mdio_catalog.segy.scan.candidates import evaluate_candidate
from mdio_catalog.segy.scan.files import scan_path
from mdio_catalog.segy.scan.geometry import GeometryProposal, propose_geometry
from mdio_catalog.segy.scan.model import Candidate, DimensionFacts, GeometryKind, IndexWord
from mdio_catalog.segy.scan.ranking import confidence, explained, rank_candidates
from mdio_catalog.segy.scan.sample import DEFAULT_MAX_TRACES, Endian, HeaderSample, read_header_sample
from mdio_catalog.segy.scan.summary import FieldSummary, HeaderSummary, SampleFormatCheck, scan_headers
from mdio_catalog.segy.scan.text import text_byte_hints

__all__ = [
    "DEFAULT_MAX_TRACES",
    "Candidate",
    "DimensionFacts",
    "Endian",
    "FieldSummary",
    "GeometryKind",
    "GeometryProposal",
    "HeaderSample",
    "HeaderSummary",
    "IndexWord",
    "SampleFormatCheck",
    "confidence",
    "evaluate_candidate",
    "explained",
    "propose_geometry",
    "rank_candidates",
    "read_header_sample",
    "scan_headers",
    "scan_path",
    "text_byte_hints",
]
