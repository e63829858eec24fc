"""Running independent tasks locally (a thread pool) or on a dask cluster, with bounded work in flight.

Every parallel job of the package (ingesting chunk blocks, exporting, copying chunk objects, rechunking) is a
stream of small independent tasks whose results are small. :func:`run_tasks` runs such a stream on the threads of
this process, or, given a ``distributed.Client``, on the cluster's workers: shared arguments are scattered once,
at most a few tasks per worker thread are in flight (bounded memory on both sides), results come back as they
complete, progress follows the cluster, and the first failure cancels the rest and is raised.

Task functions must be module-level (workers import them) and open what they work on themselves, from URLs and
storage options, once per operation and process (:class:`OperationCache`). Each task run on a worker bumps a
per-process counter (:func:`task_counts`), so callers and tests can see where the work ran
(``client.run(task_counts)``).
"""

from __future__ import annotations

import contextlib
import itertools
import os
import threading
import time
from collections import Counter, OrderedDict
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from typing import Any, Generic, TypeVar

from mdio_catalog.core.progress import progress
from mdio_catalog.exceptions import ClusterError

T = TypeVar("T")
R = TypeVar("R")
V = TypeVar("V")

_COUNTS: Counter[str] = Counter()
_COUNTS_LOCK = threading.Lock()


def task_counts() -> dict[str, int]:
    """How many tasks of each function ran in this process through :func:`run_tasks` on a cluster."""
    with _COUNTS_LOCK:
        return dict(_COUNTS)


def reset_task_counts() -> None:
    """Forget the counts of :func:`task_counts` (tests call it on every worker before a run)."""
    with _COUNTS_LOCK:
        _COUNTS.clear()


def _counted(fn: Callable[..., R], *args: Any) -> R:
    """Run ``fn`` on a worker and count it (module-level so that workers can unpickle it)."""
    with _COUNTS_LOCK:
        _COUNTS[getattr(fn, "__qualname__", repr(fn))] += 1
    return fn(*args)


class OperationCache(Generic[V]):
    """What task functions open (datasets, arrays, filesystems), once per operation token and process.

    On a worker the first task of an operation opens its objects from URLs and storage options, the operation's
    other tasks reuse them; only the last ``keep`` operations are remembered. The local path puts what it already
    has open under its token (:meth:`put`), so its threads run the same task functions without opening anything.
    """

    def __init__(self, keep: int = 4) -> None:
        self._keep = keep
        self._values: OrderedDict[str, V] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, token: str, opener: Callable[[], V]) -> V:
        """The objects of operation ``token``, opened by ``opener`` the first time (once, whatever the threads)."""
        with self._lock:
            if token in self._values:
                self._values.move_to_end(token)
                return self._values[token]
            value = opener()
            self._remember(token, value)
            return value

    def put(self, token: str, value: V) -> None:
        with self._lock:
            self._remember(token, value)

    def drop(self, token: str) -> None:
        with self._lock:
            self._values.pop(token, None)

    def _remember(self, token: str, value: V) -> None:
        self._values[token] = value
        self._values.move_to_end(token)
        while len(self._values) > self._keep:
            self._values.popitem(last=False)


_RUNNING: Counter[str] = Counter()  # tasks of each operation executing in this process
_ABANDONED: OrderedDict[str, None] = OrderedDict()  # operations that failed: their late tasks do nothing
_STATE_LOCK = threading.Lock()


@contextlib.contextmanager
def operation_task(token: str) -> Iterator[bool]:
    """Around the body of a task of operation ``token``: yields ``False`` once the operation was abandoned (the
    task must then write nothing), and counts the task as running meanwhile (see :func:`abandon_operation`)."""
    with _STATE_LOCK:
        live = token not in _ABANDONED
        if live:
            _RUNNING[token] += 1
    try:
        yield live
    finally:
        if live:
            with _STATE_LOCK:
                _RUNNING[token] -= 1
                if not _RUNNING[token]:
                    del _RUNNING[token]


def abandon(token: str) -> int:
    """Mark operation ``token`` abandoned in this process; return how many of its tasks are still running."""
    with _STATE_LOCK:
        _ABANDONED[token] = None
        while len(_ABANDONED) > 64:
            _ABANDONED.popitem(last=False)
        return _RUNNING.get(token, 0)


def abandon_operation(client: Any, token: str, timeout: float = 120.0) -> None:
    """After a failed cluster operation, before its partial output is deleted: mark it abandoned on every worker
    and wait until none of its tasks is still running, so that no late task writes into what is being removed.
    (Locally the thread pool already waits for its running tasks.)"""
    if client is None:
        return
    deadline = time.monotonic() + timeout
    with contextlib.suppress(Exception):  # a cluster that is gone has no task left running
        while any(client.run(abandon, token).values()) and time.monotonic() < deadline:
            time.sleep(0.05)


def run_tasks(
    fn: Callable[..., R],
    items: Iterable[T],
    *,
    shared: tuple[Any, ...] = (),
    client: Any = None,
    workers: int = 1,
    total: int | None = None,
    description: str = "Working",
    unit: str = "task",
    in_flight: int | None = None,
) -> Iterator[R]:
    """Yield ``fn(*shared, item)`` for every item, in completion order.

    Locally ``workers`` threads run the tasks with at most ``workers + 1`` in flight. With a ``client`` the
    ``shared`` arguments are scattered to every worker once and about two tasks per worker thread are in flight.
    A failing task cancels what is still queued and its exception propagates (a lost worker becomes a
    :class:`~mdio_catalog.exceptions.ClusterError` when dask gives up on the task).
    """
    if client is None:
        yield from _run_local(fn, items, shared, workers, total, description, unit, in_flight)
    else:
        yield from _run_cluster(fn, items, shared, client, total, description, unit, in_flight)


def _run_local(
    fn: Callable[..., R],
    items: Iterable[T],
    shared: tuple[Any, ...],
    workers: int,
    total: int | None,
    description: str,
    unit: str,
    in_flight: int | None,
) -> Iterator[R]:
    limit = in_flight or workers + 1
    with progress(total, description, unit=unit) as bar, ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        pending: set[Future[R]] = set()
        try:
            for item in items:
                pending.add(pool.submit(fn, *shared, item))
                while len(pending) >= limit:
                    done, pending = wait(pending, return_when=FIRST_COMPLETED)
                    for future in done:
                        bar.update()
                        yield future.result()
            while pending:
                done, pending = wait(pending, return_when=FIRST_COMPLETED)
                for future in done:
                    bar.update()
                    yield future.result()
        finally:
            for future in pending:
                future.cancel()


def _run_cluster(
    fn: Callable[..., R],
    items: Iterable[T],
    shared: tuple[Any, ...],
    client: Any,
    total: int | None,
    description: str,
    unit: str,
    in_flight: int | None,
) -> Iterator[R]:
    from distributed import as_completed

    threads = sum(client.nthreads().values()) or 1
    limit = in_flight or max(2, 2 * threads)
    shared_futures = [client.scatter(value, broadcast=True, hash=False) for value in shared]
    todo = iter(items)
    name = getattr(fn, "__name__", "task")
    submitted: list[Any] = []

    def submit(item: T) -> Any:
        future = client.submit(_counted, fn, *shared_futures, item, pure=False, key=f"{name}-{os.urandom(8).hex()}")
        submitted.append(future)
        return future

    queue = as_completed([submit(item) for item in itertools.islice(todo, limit)])
    try:
        with progress(total, f"{description} (cluster)", unit=unit) as bar:
            for future in queue:
                try:
                    result = future.result()
                except Exception as exc:
                    if type(exc).__name__ in ("KilledWorker", "FutureCancelledError", "CancelledError"):
                        raise ClusterError(
                            f"A cluster task of {name} was lost ({type(exc).__name__}: {exc}); nothing was published."
                        ) from exc
                    raise
                bar.update()
                future.release()
                yield result
                for item in itertools.islice(todo, 1):
                    queue.add(submit(item))
    finally:
        pending = [f for f in submitted if not f.done()]
        if pending:
            with contextlib.suppress(Exception):
                client.cancel(pending)
        for value in shared_futures:
            with contextlib.suppress(Exception):
                value.release()


@contextlib.contextmanager
def cluster_client(scheduler: str | None = None, cluster: str | None = None) -> Iterator[Any]:
    """A ``distributed.Client`` for a scheduler address or ``local:N`` (a ``LocalCluster`` of N worker processes,
    closed on exit); ``None`` when neither is given (run locally)."""
    if scheduler and cluster:
        raise ClusterError("Give a scheduler address or a local cluster, not both.")
    if not scheduler and not cluster:
        yield None
        return
    from distributed import Client, LocalCluster

    if scheduler:
        from mdio_catalog.settings import get_settings

        try:
            client = Client(scheduler, timeout=f"{get_settings().scheduler_timeout}s")
        except ValueError as exc:  # not an address: missing port, unknown scheme
            raise ClusterError(
                f"Invalid dask scheduler address {scheduler!r}: {_one_line(exc)}; use tcp://HOST:PORT."
            ) from exc
        except OSError as exc:
            raise ClusterError(
                f"Cannot reach the dask scheduler at {scheduler}: {_one_line(exc)}; check the address and that the "
                "scheduler is running (or use a local cluster)."
            ) from exc
        with client:
            yield client
        return
    workers = parse_local_cluster(str(cluster))
    # Two threads per worker process: our tasks wait on storage about half the time (ranged GETs, chunk PUTs), so a
    # second thread keeps the process's core busy meanwhile (S3 ingestion on local:2, against one process: 0.66x
    # with one thread per worker, 1.02x with two; benchmarks/objectstore.py).
    with (
        LocalCluster(n_workers=workers, threads_per_worker=2, processes=True, dashboard_address=None) as local,
        Client(local) as client,
    ):
        yield client


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split()) or type(exc).__name__


def parse_local_cluster(spec: str) -> int:
    """The worker count of ``local:N`` (N ≥ 1)."""
    kind, _, count = spec.partition(":")
    if kind != "local" or not count.isdigit() or int(count) < 1:
        raise ClusterError(f"Invalid cluster {spec!r}: use local:N with N ≥ 1 worker processes (e.g. local:2).")
    return int(count)
