"""Leftovers of dead writers: found and removed by ``mdio-catalog gc`` and by the next write to the same target;
never those of a live writer, never through a symbolic link, never files that only look like ours."""

from __future__ import annotations

import json
import os
import signal
from pathlib import Path

from typer.testing import CliRunner

from mdio_catalog import MDIOReader, segy_to_mdio
from mdio_catalog.cli.app import app
from mdio_catalog.core.publish import find_leftovers
from mdio_catalog.core.store import Location
from tests.catalog import post_stack_segy, stack_entry, write_catalog
from tests.reliability import finish, leftover_bytes, leftover_paths, spawn

runner = CliRunner()


def dead_writer(target: Path) -> None:
    """A staged write killed while it held its staging folder (1000 bytes), its owner marker and its lock."""
    actor = spawn("hold", out=str(target))
    assert actor.stdout is not None
    assert actor.stdout.readline().strip() == "holding"
    actor.send_signal(signal.SIGKILL)
    actor.wait()


def gc(*args: str) -> dict:
    result = runner.invoke(app, ["gc", *args, "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_gc_lists_then_deletes_the_leftovers_of_dead_writers(tmp_path: Path) -> None:
    root = tmp_path / "out"
    (root / "survey").mkdir(parents=True)
    dead_writer(root / "stack.mdio")
    dead_writer(root / "survey" / "deep.mdio")  # leftovers in sub-folders too
    names = sorted(p.name for p in leftover_paths(root))
    assert len(names) == 6  # per writer: staging folder, owner marker, lock file
    before = leftover_bytes(root)
    assert before >= 2000

    listed = gc(str(root), "--dry-run")
    assert listed["dry_run"] is True
    assert {Path(item["path"]).name for item in listed["leftovers"]} == set(names)
    assert all(item["dead"] for item in listed["leftovers"])
    assert all(item["owner"].startswith("pid ") for item in listed["leftovers"])
    assert listed["removed_bytes"] == 0
    assert leftover_bytes(root) == before  # a dry run deletes nothing

    removed = gc(str(root))
    assert removed["removed_bytes"] >= 2000
    assert leftover_paths(root) == []
    assert sorted(p.name for p in root.iterdir()) == ["survey"]


def test_gc_never_touches_a_live_writer(tmp_path: Path) -> None:
    actor = spawn("hold", out=str(tmp_path / "stack.mdio"), seconds=60)
    assert actor.stdout is not None
    assert actor.stdout.readline().strip() == "holding"
    try:
        listed = gc(str(tmp_path))
        assert listed["leftovers"]
        assert not any(item["dead"] for item in listed["leftovers"])
        assert listed["removed_bytes"] == 0
        assert len(leftover_paths(tmp_path)) == 3
        table = runner.invoke(app, ["gc", str(tmp_path)])
        assert table.exit_code == 0
        assert "kept" in table.stdout
    finally:
        actor.kill()
        actor.wait()
    assert gc(str(tmp_path))["removed_bytes"] >= 1000
    assert leftover_paths(tmp_path) == []


def test_gc_of_a_catalog_root_and_the_table(tmp_path: Path) -> None:
    post_stack_segy(tmp_path / "data" / "stack.sgy")
    write_catalog(tmp_path, {"stack": stack_entry()})
    (tmp_path / "out").mkdir()
    dead_writer(tmp_path / "out" / "stack.mdio")
    result = runner.invoke(app, ["gc", "-c", str(tmp_path / "catalog.yaml"), "--dry-run"], env={"COLUMNS": "250"})
    assert result.exit_code == 0, result.output
    assert "would delete" in result.stdout
    assert ".stack.mdio.partial-" in result.stdout
    assert leftover_paths(tmp_path / "out")
    result = runner.invoke(app, ["gc", "-c", str(tmp_path / "catalog.yaml")])
    assert result.exit_code == 0, result.output
    assert leftover_paths(tmp_path / "out") == []


def test_the_next_write_to_the_target_removes_dead_leftovers(tmp_path: Path) -> None:
    src = post_stack_segy(tmp_path / "stack.sgy")
    out = tmp_path / "stack.mdio"
    dead_writer(out)
    dead_writer(tmp_path / "other.mdio")
    segy_to_mdio(src.path, out, index_bytes=(189, 193), index_names=("inline", "crossline"))
    assert MDIOReader(str(out), access_pattern="012").trace_count == src.n_traces
    remaining = {p.name for p in leftover_paths(tmp_path)}
    assert remaining
    assert all("other.mdio" in name for name in remaining)


def test_unmarked_staging_counts_as_dead_only_when_old(tmp_path: Path) -> None:
    legacy = tmp_path / ".stack.mdio.partial-0123456789ab"
    legacy.mkdir()
    (legacy / "chunk").write_bytes(b"x" * 100)
    listed = gc(str(tmp_path))
    assert [item["dead"] for item in listed["leftovers"]] == [False]
    assert legacy.exists()
    os.utime(legacy / "chunk", (1, 1))
    os.utime(legacy, (1, 1))
    assert gc(str(tmp_path))["removed_bytes"] == 100
    assert not legacy.exists()


def test_gc_never_follows_or_deletes_links_and_foreign_lookalikes(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "keep.txt").write_text("user data")
    root = tmp_path / "root"
    root.mkdir()
    (root / ".stack.mdio.partial-0123456789ab").symlink_to(outside)  # a link with our name
    (root / "linked").symlink_to(outside)  # a link to a folder with leftovers-looking names
    (outside / ".x.mdio.partial-0123456789ab").mkdir()
    (root / ".notes.lock").write_text("a user's file that ends in .lock")
    listed = gc(str(root), "--min-age", "0")
    assert listed["leftovers"] == []
    assert (outside / "keep.txt").read_text() == "user data"
    assert (outside / ".x.mdio.partial-0123456789ab").is_dir()
    assert (root / ".notes.lock").exists()
    assert [f.path for f in find_leftovers(Location.of(root), min_age=0)] == []


def test_a_killed_export_leaves_nothing_after_gc(tmp_path: Path) -> None:
    src = post_stack_segy(tmp_path / "stack.sgy", inlines=range(40), crosslines=range(40), n_samples=200)
    segy_to_mdio(src.path, tmp_path / "s.mdio", index_bytes=(189, 193), index_names=("inline", "crossline"))
    actor = spawn("export", mdio=str(tmp_path / "s.mdio"), out=str(tmp_path / "out.sgy"))
    actor.kill()  # right after the imports: at the latest while the first traces are written
    finish(actor)
    gc(str(tmp_path))
    assert leftover_paths(tmp_path) == []
