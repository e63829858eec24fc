"""The verify-state API (catalog/verifystate.py) on a real small build: Catalog.verify records, last_verify and
verify_states read back, outdated after a rebuild, and files that are not results (damaged, foreign, a writer's
temporary) count as no result instead of failing."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from mdio_catalog.catalog import Catalog
from mdio_catalog.catalog.lockfile import LockStore
from mdio_catalog.catalog.verifystate import (
    VerifyState,
    last_verify,
    record_verify,
    verify_dir,
    verify_history,
    verify_of_build,
    verify_state_path,
    verify_states,
)
from tests.catalog import write_catalog


def small_catalog(folder: Path) -> Catalog:
    (folder / "data").mkdir(parents=True)
    np.save(folder / "data" / "a.npy", np.arange(4 * 5 * 6, dtype=np.float32).reshape(4, 5, 6) + 1)
    index = ["inline", "crossline", "sample"]
    entry = {"source": {"numpy": "data/a.npy", "index_names": index}, "chunks": [2, 5, 6]}
    path = write_catalog(folder, {"a": entry, "b": entry})
    return Catalog.from_file(path)


def test_verify_is_recorded_read_back_and_outdated_by_a_rebuild(tmp_path: Path) -> None:
    catalog = small_catalog(tmp_path)
    catalog.build()
    assert catalog.path is not None
    assert catalog.last_verify("a") is None
    assert verify_states(catalog.path) == {}
    report = catalog.verify("a")
    assert report.ok
    state = catalog.last_verify("a")
    assert state is not None
    assert state == last_verify(catalog.path, "a")
    record = catalog.record("a")
    assert state.verified_build(record)
    assert state.state(record) == "ok"
    assert state.outcome == "ok"
    assert state.build is not None
    assert state.spec_hash == record.spec_hash
    assert verify_state_path(catalog.path, "a") == tmp_path / ".mdio-catalog" / "verify" / "a.json"
    assert sorted(p.name for p in verify_dir(catalog.path).rglob("*")) == [
        "a.json",
        "a.json",
        "history",
    ]  # no temporary
    assert LockStore(catalog.path, catalog.name).names() == ["a", "b"]
    assert set(verify_states(catalog.path)) == {"a"}
    assert set(verify_states(catalog.path, ["b"])) == set()
    data = json.loads(verify_state_path(catalog.path, "a").read_text())
    assert data["version"] == 1
    assert VerifyState.from_data(data) == state
    assert state.status_data(record)["state"] == "ok"
    assert state.summary(record).startswith("ok ")

    catalog.build(["a"], force=True)
    current = catalog.record("a")
    assert not state.verified_build(current)
    assert state.state(current) == "outdated"
    assert state.summary(current).startswith("outdated (ok ")
    assert state.state() == "ok"  # without the current build: what it found

    # each build's latest verify is kept: a kept version (keep: N) can show its own
    assert verify_history(catalog.path, "a") == [state]
    catalog.verify("a", sample=0.5)
    history = verify_history(catalog.path, "a")
    assert [h.build for h in history] == [history[0].build, state.build]
    assert history[0].verified_build(current)
    assert verify_of_build(catalog.path, "a", record) == state
    assert verify_of_build(catalog.path, "a", current) == history[0] == catalog.last_verify("a")
    catalog.verify("a")  # the same build again: replaces its entry, the other build's stays
    assert [h.sample for h in verify_history(catalog.path, "a")] == [None, None]
    assert set(verify_states(catalog.path)) == {"a"}  # the history folder is no result


def test_files_that_are_not_results_are_no_result(tmp_path: Path) -> None:
    catalog = small_catalog(tmp_path)
    assert catalog.path is not None
    folder = verify_dir(catalog.path)
    folder.mkdir(parents=True)
    (folder / "a.json").write_text("{not json")
    (folder / "b.json").write_text(json.dumps({"dataset": "other", "verified_at": "2026-01-01T00:00:00+00:00",
                                               "ok": True, "recorded": True}))  # fmt: skip
    (folder / ".a.json.tmp-123").write_text("{}")
    assert last_verify(catalog.path, "a") is None
    assert last_verify(catalog.path, "b") is None  # names another dataset
    assert verify_states(catalog.path) == {}
    assert catalog.status()[0].state == "never built"  # nothing of it troubles status
    good = VerifyState.from_data({"dataset": "b", "verified_at": "2026-01-01T00:00:00Z", "ok": True,
                                  "recorded": False, "future_field": 1})  # fmt: skip
    assert good is not None
    assert good.outcome == "no checksums"
    record_verify(catalog.path, good)
    assert last_verify(catalog.path, "b") == good
