"""The header scan of an ingestion as independent tasks, on local threads or on a dask cluster.

Each task reads the index header words of one span of consecutive traces (:func:`read_header_span`) through
:meth:`SegyFile.header_columns`: memory-mapped header pages for local files, streamed ranged reads of whole traces
for object stores (each byte fetched once). Only the columns come back; the caller puts them in place by their
first trace, whatever order the tasks finish in.

Tasks open the file themselves from a :class:`SegyRef` (path, storage options, overrides) once per operation and
process; the local path shares the file it already has open under the same token (:func:`share`).
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Final

import numpy as np
import numpy.typing as npt

from mdio_catalog.core.cluster import OperationCache, run_tasks
from mdio_catalog.segy.reader import SegyFile
from mdio_catalog.segy.trace_headers import HeaderField, HeaderSpecs, normalize_fields

#: Traces per span of a local scan: one progress tick, a few MiB of columns.
LOCAL_SPAN_TRACES: Final = 1 << 20

#: Bytes of the file a cluster task scans at most (object stores: 32 ranged requests of 8 MiB).
TASK_SPAN_BYTES: Final = 256 * 1024 * 1024

_OPEN: OperationCache[SegyFile] = OperationCache()


@dataclass(frozen=True)
class SegyRef:
    """A SEG-Y file as another process opens it again, and the operation (token) it is opened for."""

    token: str
    path: str | os.PathLike[str]
    storage_options: Mapping[str, Any] = field(default_factory=dict)
    endian: str | None = None
    sample_format: int | str | None = None

    @classmethod
    def of(cls, segy: SegyFile, token: str) -> SegyRef:
        """The reference of an open file (with the overrides it was opened with)."""
        state = segy.__getstate__()
        # A local file by its absolute path: workers need not share this process's working directory.
        path = state["path"] if segy.is_remote else os.path.abspath(segy.url)
        return cls(
            token=token,
            path=path,
            storage_options=dict(state.get("storage_options") or {}),
            endian=state.get("endian"),
            sample_format=state.get("sample_format"),
        )

    def open(self) -> SegyFile:
        """The file, opened once per operation and process."""
        return _OPEN.get(self.token, self._open)

    def _open(self) -> SegyFile:
        return SegyFile(
            self.path,
            storage_options=self.storage_options,
            endian=self.endian,  # type: ignore[arg-type]
            sample_format=self.sample_format,
        )


def share(ref: SegyRef, segy: SegyFile) -> None:
    """Let tasks of ``ref``'s operation run in this process use ``segy`` instead of opening the file again."""
    _OPEN.put(ref.token, segy)


def release(token: str) -> None:
    """Forget the file of an operation in this process (the owner closes it; a worker's copy is dropped)."""
    _OPEN.drop(token)


def read_header_span(
    ref: SegyRef, fields: tuple[HeaderField, ...], span: tuple[int, int]
) -> tuple[int, dict[str, npt.NDArray[Any]]]:
    """Task: the columns of ``fields`` for traces ``[start, stop)``, with ``start`` to put them in place."""
    start, stop = span
    return start, ref.open().header_columns(fields, start, stop)


def scan_spans(n_traces: int, trace_size: int, tasks: int | None = None) -> Iterator[tuple[int, int]]:
    """Spans of consecutive traces: :data:`LOCAL_SPAN_TRACES` each locally (``tasks=None``); on a cluster about
    ``tasks`` of them (so every worker gets some), none larger than :data:`TASK_SPAN_BYTES` of file."""
    if tasks is None:
        step = LOCAL_SPAN_TRACES
    else:
        largest = max(1, min(LOCAL_SPAN_TRACES, TASK_SPAN_BYTES // max(1, trace_size)))
        step = max(1, min(largest, -(-n_traces // max(1, tasks))))
    for start in range(0, n_traces, step):
        yield start, min(start + step, n_traces)


def scan_header_columns(
    segy: SegyFile, ref: SegyRef, specs: HeaderSpecs, *, client: Any = None
) -> dict[str, npt.NDArray[Any]]:
    """The header words ``specs`` of every trace of ``segy`` as columns, scanned span by span on this process's
    thread (the scan of a span is I/O- or memory-bound) or as tasks on the cluster of ``client``."""
    fields = normalize_fields(specs)
    n = segy.n_traces
    out = {f.name: np.empty(n, dtype=f.dtype) for f in fields}
    tasks = None if client is None else 4 * max(1, sum(client.nthreads().values()))
    spans = list(scan_spans(n, segy.trace_size, tasks))
    results = run_tasks(
        read_header_span,
        spans,
        shared=(ref, fields),
        client=client,
        workers=1,
        total=len(spans),
        description="Scanning headers",
        unit="span",
    )
    for start, columns in results:
        for f in fields:
            column = columns[f.name]
            out[f.name][start : start + column.size] = column
    return out
