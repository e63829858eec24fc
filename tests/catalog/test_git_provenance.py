"""Specs traced to git, with real builds of small datasets in real temporary repositories made with the git command:
a clean work tree, a modified catalog file, a modified template, an untracked template, no repository, a remote URL
holding a token (stripped in the lock entry and in the dataset's attributes), ``require_clean``, and git asked a
fixed number of times per build and per status whatever the number of datasets."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from mdio_catalog.catalog import Catalog, gitinfo
from mdio_catalog.exceptions import CatalogError, UncommittedSpecError
from tests.catalog import TEMPLATE_DIR, post_stack_segy, write_catalog

pytestmark = pytest.mark.skipif(subprocess.run(["git", "--version"], check=False).returncode != 0, reason="no git")

TOKEN = "ghp_TOKENabc123SECRET"


def git(repo: Path, *args: str) -> str:
    return subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@example.com", *args],
        cwd=repo, check=True, capture_output=True, text=True,
    ).stdout.strip()  # fmt: skip


def velocity_entry(name: str = "vel.npy") -> dict[str, Any]:
    return {"source": {"numpy": f"data/{name}", "index_names": ["inline", "crossline", "sample"]}, "chunks": [2, 5, 6]}


def make_specs(folder: Path, *, extra: dict[str, Any] | None = None) -> Path:
    """A catalog of a SEG-Y stack using the template file ``tpl/stack.yaml`` and a NumPy cube without template."""
    folder.mkdir(parents=True, exist_ok=True)
    post_stack_segy(folder / "data" / "stack.sgy")
    np.save(folder / "data" / "vel.npy", np.arange(4 * 5 * 6, dtype=np.float32).reshape(4, 5, 6))
    (folder / "tpl").mkdir(exist_ok=True)
    template = (TEMPLATE_DIR / "PostStack3DTime.yaml").read_text(encoding="utf-8")
    (folder / "tpl" / "stack.yaml").write_text(template.replace("name: PostStack3DTime", "name: MyStack"))
    stack = {"template": "tpl/stack.yaml", "source": {"segy": "data/stack.sgy"}, "chunks": [4, 4, 8]}
    return write_catalog(folder, {"stack": stack, "vel": velocity_entry(), **(extra or {})})


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """A committed catalog in a git work tree (sources, outputs and lock ignored)."""
    root = tmp_path / "specs"
    make_specs(root)
    (root / ".gitignore").write_text("data/\nout/\ncatalog.lock.d/\n.mdio-catalog/\n")
    git(root, "init", "-q", "-b", "main")
    git(root, "add", ".")
    git(root, "commit", "-q", "-m", "first")
    return root


def stored_git(catalog: Catalog, name: str) -> Any:
    attrs = json.loads((Path(catalog.output_url(name)) / ".zattrs").read_text(encoding="utf-8"))
    return attrs["mdio_catalog"]["provenance"]["git"]


def lock_git(repo: Path, name: str) -> Any:
    return json.loads((repo / "catalog.lock.d" / f"{name}.json").read_text(encoding="utf-8"))["current"].get("git")


def test_a_clean_work_tree_is_recorded_in_the_lock_and_the_dataset(repo: Path) -> None:
    catalog = Catalog.from_file(repo / "catalog.yaml")
    report = catalog.build(require_clean=True)
    assert sorted(r.dataset for r in report.built) == ["stack", "vel"]
    head = git(repo, "rev-parse", "HEAD")
    expected = {"commit": head, "branch": "main", "dirty": False, "dirty_files": [], "remote": None}
    for name in ("stack", "vel"):
        assert lock_git(repo, name) == expected
        assert stored_git(catalog, name) == expected
        record = catalog.record(name)
        assert record.git is not None
        assert record.git.commit == head
    trace = catalog.spec_changes()
    assert trace is not None
    assert trace.dirty_datasets == []
    assert trace.files == {"stack": ("catalog.yaml", "tpl/stack.yaml"), "vel": ("catalog.yaml",)}


def test_a_modified_catalog_file_is_dirty_but_a_commit_alone_is_no_reason_to_rebuild(repo: Path) -> None:
    catalog = Catalog.from_file(repo / "catalog.yaml")
    catalog.build()
    text = (repo / "catalog.yaml").read_text()
    (repo / "catalog.yaml").write_text(text.replace("name: test-catalog", "name: test-catalog\ndescription: edited"))
    catalog = Catalog.from_file(repo / "catalog.yaml")
    assert all(s.state == "fresh" for s in catalog.status())  # free text: the spec hashes did not change
    trace = catalog.spec_changes()
    assert trace is not None
    assert trace.dirty_datasets == ["stack", "vel"]
    assert trace.to_data() == {"root": str(repo.resolve()), "dirty": True, "dirty_files": ["catalog.yaml"]}
    report = catalog.build(force=True)
    assert {r.dataset: r.git.dirty_files for r in report.built if r.git} == {
        "stack": ["catalog.yaml"],
        "vel": ["catalog.yaml"],
    }
    assert lock_git(repo, "vel")["dirty"] is True
    assert stored_git(catalog, "stack")["dirty_files"] == ["catalog.yaml"]
    built_at = git(repo, "rev-parse", "HEAD")
    git(repo, "commit", "-q", "-am", "describe")
    catalog = Catalog.from_file(repo / "catalog.yaml")
    assert all(s.state == "fresh" for s in catalog.status())  # a new commit: still fresh
    assert catalog.spec_changes().dirty_datasets == []  # type: ignore[union-attr]
    assert catalog.record("stack").git.commit == built_at  # type: ignore[union-attr]


def test_a_modified_template_makes_only_its_datasets_dirty(repo: Path) -> None:
    with (repo / "tpl" / "stack.yaml").open("a") as handle:
        handle.write("# a comment\n")
    catalog = Catalog.from_file(repo / "catalog.yaml")
    trace = catalog.spec_changes()
    assert trace is not None
    assert trace.dirty_datasets == ["stack"]
    assert trace.dirty_files("stack") == ["tpl/stack.yaml"]
    assert trace.dirty_files("vel") == []
    with pytest.raises(UncommittedSpecError, match=r"stack .*tpl/stack\.yaml"):
        catalog.build(require_clean=True)
    assert not (repo / "out").exists()
    assert not (repo / "catalog.lock.d").exists()
    report = catalog.build(["vel"], require_clean=True)  # its spec files are clean
    assert [r.dataset for r in report.built] == ["vel"]
    assert lock_git(repo, "vel")["dirty"] is False
    report = catalog.build(["stack"])
    assert lock_git(repo, "stack")["dirty_files"] == ["tpl/stack.yaml"]


def test_an_untracked_template_and_a_staged_catalog_are_dirty(repo: Path) -> None:
    (repo / "tpl" / "other.yaml").write_text((repo / "tpl" / "stack.yaml").read_text().replace("MyStack", "Other"))
    text = (repo / "catalog.yaml").read_text()
    entry = "  stack2:\n    template: tpl/other.yaml\n    source: {segy: data/stack.sgy}\n    chunks: [4, 4, 8]\n"
    (repo / "catalog.yaml").write_text(text + entry)
    git(repo, "add", "catalog.yaml")  # staged, not committed
    catalog = Catalog.from_file(repo / "catalog.yaml")
    trace = catalog.spec_changes(["stack2"])
    assert trace is not None
    assert trace.dirty_files("stack2") == ["catalog.yaml", "tpl/other.yaml"]
    with pytest.raises(UncommittedSpecError) as caught:
        catalog.build(["stack2"], require_clean=True)
    assert isinstance(caught.value, CatalogError)
    assert "Nothing was built" in str(caught.value)
    assert not (repo / "out").exists()
    with pytest.raises(UncommittedSpecError):  # a dry run with require_clean says so too
        catalog.build(["stack2"], require_clean=True, dry_run=True)
    git(repo, "add", "tpl/other.yaml")
    git(repo, "commit", "-q", "-m", "stack2")
    report = Catalog.from_file(repo / "catalog.yaml").build(["stack2"], require_clean=True)
    assert report.built[0].git is not None
    assert report.built[0].git.dirty is False


def test_no_repository_builds_with_git_null(tmp_path: Path) -> None:
    folder = tmp_path / "loose"
    make_specs(folder)
    catalog = Catalog.from_file(folder / "catalog.yaml")
    report = catalog.build(["vel"], require_clean=True)  # nothing to be clean about: builds
    assert report.built[0].git is None
    assert lock_git(folder, "vel") is None
    assert stored_git(catalog, "vel") is None
    assert catalog.spec_changes() is None


def test_a_token_in_the_remote_url_never_reaches_the_lock_or_the_dataset(repo: Path) -> None:
    git(repo, "remote", "add", "origin", f"https://alice:{TOKEN}@git.example.com/team/specs.git")
    catalog = Catalog.from_file(repo / "catalog.yaml")
    catalog.build(["vel"])
    assert lock_git(repo, "vel")["remote"] == "https://git.example.com/team/specs.git"
    assert stored_git(catalog, "vel")["remote"] == "https://git.example.com/team/specs.git"
    assert TOKEN not in (repo / "catalog.lock.d" / "vel.json").read_text()
    for path in Path(catalog.output_url("vel")).rglob(".z*"):
        assert TOKEN not in path.read_text(errors="replace")


def test_git_is_asked_a_fixed_number_of_times_whatever_the_number_of_datasets(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = tmp_path / "many"
    extra = {f"v{i}": velocity_entry() for i in range(6)}
    make_specs(root, extra=extra)
    git(root, "init", "-q", "-b", "main")
    git(root, "add", "catalog.yaml", "tpl")
    git(root, "commit", "-q", "-m", "first")
    calls: list[tuple[str, ...]] = []
    real = gitinfo._git

    def counted(cwd: Path, *args: str) -> str | None:
        calls.append(args)
        return real(cwd, *args)

    monkeypatch.setattr(gitinfo, "_git", counted)
    catalog = Catalog.from_file(root / "catalog.yaml")
    names = [f"v{i}" for i in range(6)]
    catalog.build(names)
    assert len(calls) <= 6, calls  # top level, status, HEAD, branch, remotes: once for the six datasets
    calls.clear()
    trace = catalog.spec_changes()
    assert trace is not None
    assert trace.dirty_datasets == []
    assert len(calls) == 2, calls  # status asks twice: the work tree, and which spec files are dirty


def test_a_catalog_built_in_python_has_no_spec_file_to_trace(repo: Path) -> None:
    spec = Catalog.from_file(repo / "catalog.yaml").spec
    (repo / "data" / "tpl").mkdir()
    (repo / "data" / "tpl" / "stack.yaml").write_text((repo / "tpl" / "stack.yaml").read_text())
    catalog = Catalog.from_model(spec, base_dir=repo / "data")  # inside the work tree, but no catalog file there
    assert catalog.spec_changes() is None
