"""Pytest plugin: a real ``distributed.LocalCluster`` of two worker *processes*, shared by the session.

``dask_client`` (function) gives a ``distributed.Client`` on that cluster with every worker's task counters
(:func:`mdio_catalog.core.cluster.task_counts`) reset, so a test can prove where its tasks ran::

    ran = worker_task_counts(dask_client)          # {worker address: {task name: count}}
    assert all(counts.get("ingest_block") for counts in ran.values())
    assert not task_counts()                       # nothing ran in the test process itself
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from mdio_catalog.core.cluster import reset_task_counts, task_counts


@pytest.fixture(scope="session")
def _local_cluster() -> Iterator[Any]:
    from distributed import LocalCluster

    with LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None, memory_limit="4GiB"
    ) as cluster:
        yield cluster


@pytest.fixture
def dask_client(_local_cluster: Any) -> Iterator[Any]:
    """A client of the session's two-process LocalCluster, task counters reset on every worker and here."""
    from distributed import Client

    with Client(_local_cluster) as client:
        client.wait_for_workers(2, timeout=60)
        client.run(reset_task_counts)
        reset_task_counts()
        yield client


def worker_task_counts(client: Any) -> dict[str, dict[str, int]]:
    """``{worker address: {task function name: tasks run there}}`` since the fixture reset them."""
    result: dict[str, dict[str, int]] = client.run(task_counts)
    return result


def assert_ran_on_workers(client: Any, name: str, every_worker: bool = True) -> None:
    """Worker processes ran tasks named ``name`` (both of them unless ``every_worker=False``, for steps of a few
    tasks that dask may well give to one idle worker) and the test process ran none through a cluster."""
    counts = worker_task_counts(client)
    assert len(counts) == 2, counts
    ran = [per.get(name, 0) > 0 for per in counts.values()]
    assert all(ran) if every_worker else any(ran), (
        f"{name} did not run on {'every' if every_worker else 'a'} worker: {counts}"
    )
    assert name not in task_counts(), f"{name} ran in the test process: {task_counts()}"
