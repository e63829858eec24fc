"""Foreign content at an output path is never replaced or deleted: a user's folder, a symbolic link to a folder
or a file outside the root, a regular file, a dataset the catalog did not build. The build refuses with
ForeignContentError naming the path (CLI: one line, exit 2); ``--force`` renames it aside and keeps it."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from mdio_catalog import (
    Dimension,
    Grid,
    MDIOCreateConfig,
    MDIOReader,
    MDIOVariableConfig,
    copy_mdio,
    create_empty,
    segy_to_mdio,
)
from mdio_catalog.catalog import Catalog
from mdio_catalog.cli.app import app
from mdio_catalog.exceptions import ForeignContentError, MDIOAlreadyExistsError
from tests.catalog import post_stack_segy, stack_entry, write_catalog
from tests.reliability import digest, leftover_paths

runner = CliRunner()


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    post_stack_segy(tmp_path / "data" / "stack.sgy")
    write_catalog(tmp_path, {"stack": stack_entry()})
    (tmp_path / "out").mkdir()
    (tmp_path / "outside").mkdir()
    (tmp_path / "outside" / "precious.txt").write_text("the user's data")
    (tmp_path / "outside" / "file.bin").write_bytes(b"\x00\x01 user bytes")
    return tmp_path


def user_folder(folder: Path, target: Path) -> None:
    target.mkdir()
    (target / "notes.txt").write_text("mine")


def link_to_folder(folder: Path, target: Path) -> None:
    target.symlink_to(folder / "outside", target_is_directory=True)


def link_to_file(folder: Path, target: Path) -> None:
    target.symlink_to(folder / "outside" / "file.bin")


def regular_file(folder: Path, target: Path) -> None:
    target.write_text("not a dataset")


def foreign_dataset(folder: Path, target: Path) -> None:
    """An MDIO dataset written by hand (segy_to_mdio), not by this catalog."""
    segy_to_mdio(folder / "data" / "stack.sgy", target, index_bytes=(189, 193), index_names=("inline", "crossline"))


KINDS: dict[str, Callable[[Path, Path], None]] = {
    "user folder": user_folder,
    "link to a folder outside": link_to_folder,
    "link to a file outside": link_to_file,
    "regular file": regular_file,
    "dataset not built by the catalog": foreign_dataset,
}


def state(folder: Path) -> dict[str, object]:
    """Everything under out/ and outside/ (links as links)."""
    target = folder / "out" / "stack.mdio"
    return {
        "outside": digest(folder / "outside"),
        "target": (str(target.readlink()) if target.is_symlink() else digest(target)),
    }


@pytest.mark.parametrize("kind", list(KINDS))
def test_a_build_refuses_foreign_content_and_keeps_it(folder: Path, kind: str) -> None:
    target = folder / "out" / "stack.mdio"
    KINDS[kind](folder, target)
    before = state(folder)
    with pytest.raises(ForeignContentError, match=r"stack\.mdio") as caught:
        Catalog.from_file(folder / "catalog.yaml").build()
    assert "nothing was deleted" in str(caught.value) or "nothing was changed" in str(caught.value)
    assert "--force" in str(caught.value) or "link" in str(caught.value)
    assert state(folder) == before
    assert leftover_paths(folder / "out") == []
    assert not (folder / "catalog.lock.d").exists()

    result = runner.invoke(app, ["build", "-c", str(folder / "catalog.yaml"), "-q"])
    assert result.exit_code == 2
    assert result.output.count("\n") == 1
    assert result.output.startswith("error: ")
    assert "Traceback" not in result.output
    assert state(folder) == before


@pytest.mark.parametrize("kind", list(KINDS))
def test_force_moves_foreign_content_aside_and_keeps_it(folder: Path, kind: str) -> None:
    target = folder / "out" / "stack.mdio"
    KINDS[kind](folder, target)
    before = state(folder)
    result = runner.invoke(app, ["build", "-c", str(folder / "catalog.yaml"), "--force", "-q"])
    assert result.exit_code == 0, result.output
    assert "moved aside to" in result.output
    assert "(kept)" in result.output
    [aside] = [p for p in (folder / "out").iterdir() if ".foreign-" in p.name]
    moved = str(aside.readlink()) if aside.is_symlink() else digest(aside)
    assert moved == before["target"]  # the very same entry, renamed (a link stays a link)
    assert digest(folder / "outside") == before["outside"]  # nothing outside the root was touched
    assert MDIOReader(str(target), access_pattern="012").trace_count > 0
    assert not target.is_symlink()
    assert leftover_paths(folder / "out") == []


def test_a_rebuild_replaces_what_the_catalog_built(folder: Path) -> None:
    catalog = Catalog.from_file(folder / "catalog.yaml")
    catalog.build()
    assert [r.dataset for r in catalog.build(force=True).built] == ["stack"]
    # still replaceable when the lock is lost (a build killed after publishing, before writing the lock)
    (folder / "catalog.lock.d" / "stack.json").unlink()
    assert [r.dataset for r in catalog.build().built] == ["stack"]
    assert sorted(p.name for p in (folder / "out").iterdir()) == ["stack.mdio"]


def test_the_root_itself_may_be_a_link(folder: Path) -> None:
    write_catalog(folder, {"stack": stack_entry()}, root="./out/linked")
    (folder / "out" / "linked").symlink_to(folder / "outside", target_is_directory=True)
    # the root itself may be a link (the user chose it); below it the catalog never follows one
    Catalog.from_file(folder / "catalog.yaml").build()
    assert (folder / "outside" / "stack.mdio" / ".zgroup").is_file()


@pytest.mark.parametrize("kind", ["user folder", "regular file", "link to a folder outside"])
def test_api_overwrite_refuses_what_is_not_a_dataset(folder: Path, kind: str) -> None:
    target = folder / "out" / "stack.mdio"
    KINDS[kind](folder, target)
    before = state(folder)
    with pytest.raises(ForeignContentError):
        segy_to_mdio(folder / "data" / "stack.sgy", target, index_bytes=(189, 193), overwrite=True)
    foreign_dataset(folder, folder / "source.mdio")
    with pytest.raises(MDIOAlreadyExistsError):  # ForeignContentError is one
        copy_mdio(folder / "source.mdio", target, overwrite=True)
    assert MDIOReader(str(folder / "source.mdio"), access_pattern="012").trace_count > 0
    assert state(folder) == before
    assert leftover_paths(folder / "out") == []


def test_create_empty_with_overwrite_refuses_a_user_folder(folder: Path) -> None:
    target = folder / "out" / "empty.mdio"
    user_folder(folder, target)
    grid = Grid([Dimension(np.arange(3), "inline"), Dimension(np.arange(4), "sample")])
    config = MDIOCreateConfig(str(target), grid, [MDIOVariableConfig("chunked_01", "float32", (3, 4))])
    with pytest.raises(ForeignContentError):
        create_empty(config, overwrite=True)
    assert (target / "notes.txt").read_text() == "mine"
