"""Git provenance of spec files, in real temporary repositories made with the git command: clean, modified,
staged, untracked, outside a repository, no commits, and remote URLs holding credentials (stripped)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from mdio_catalog.catalog.gitinfo import git_state, strip_credentials

pytestmark = pytest.mark.skipif(subprocess.run(["git", "--version"], check=False).returncode != 0, reason="no git")


def git(repo: Path, *args: str) -> str:
    return subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@example.com", *args],
        cwd=repo, check=True, capture_output=True, text=True,
    ).stdout.strip()  # fmt: skip


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    root = tmp_path / "specs"
    root.mkdir()
    git(root, "init", "-q", "-b", "main")
    (root / "catalog.yaml").write_text("datasets: {}\n")
    (root / "templates").mkdir()
    (root / "templates" / "t.yaml").write_text("name: t\n")
    git(root, "add", ".")
    git(root, "commit", "-q", "-m", "first")
    return root


def test_a_clean_work_tree(repo: Path) -> None:
    state = git_state([repo / "catalog.yaml", repo / "templates" / "t.yaml"])
    assert state is not None
    assert state.commit == git(repo, "rev-parse", "HEAD")
    assert state.branch == "main"
    assert not state.dirty
    assert state.remote is None


def test_modified_staged_and_untracked_files_are_dirty(repo: Path) -> None:
    (repo / "catalog.yaml").write_text("datasets: {a: {}}\n")
    state = git_state([repo / "catalog.yaml", repo / "templates" / "t.yaml"])
    assert state is not None
    assert state.dirty_files == ("catalog.yaml",)
    git(repo, "add", "catalog.yaml")
    assert git_state([repo / "catalog.yaml"]).dirty_files == ("catalog.yaml",)  # type: ignore[union-attr]
    (repo / "templates" / "new.yaml").write_text("name: new\n")
    state = git_state([repo / "catalog.yaml", repo / "templates" / "new.yaml"])
    assert state is not None
    assert state.dirty_files == ("catalog.yaml", "templates/new.yaml")
    # a file that is not one of the spec files does not make them dirty
    (repo / "notes.txt").write_text("x")
    git(repo, "commit", "-q", "-m", "second")
    state = git_state([repo / "catalog.yaml"])
    assert state is not None
    assert not state.dirty


def test_outside_a_repository_and_without_commits(tmp_path: Path) -> None:
    (tmp_path / "loose").mkdir()
    (tmp_path / "loose" / "catalog.yaml").write_text("datasets: {}\n")
    assert git_state([tmp_path / "loose" / "catalog.yaml"]) is None
    fresh = tmp_path / "fresh"
    fresh.mkdir()
    git(fresh, "init", "-q")
    (fresh / "catalog.yaml").write_text("datasets: {}\n")
    state = git_state([fresh / "catalog.yaml"])
    assert state is not None
    assert state.commit is None
    assert state.dirty_files == ("catalog.yaml",)


def test_remote_credentials_never_leave(repo: Path) -> None:
    secret = "ghp_abcdefSECRET123"
    git(repo, "remote", "add", "origin", f"https://alice:{secret}@github.example.com/team/specs.git")
    state = git_state([repo / "catalog.yaml"])
    assert state is not None
    assert state.remote == "https://github.example.com/team/specs.git"
    assert secret not in str(state.to_dict())


@pytest.mark.parametrize(
    ("url", "clean"),
    [
        ("https://x-access-token:SECRET@github.com/o/r.git", "https://github.com/o/r.git"),
        ("https://SECRET@gitlab.com/o/r.git", "https://gitlab.com/o/r.git"),
        ("https://host:8443/o/r.git?access_token=SECRET#frag", "https://host:8443/o/r.git"),
        ("ssh://git@host:2222/o/r.git", "ssh://git@host:2222/o/r.git"),
        ("ssh://git:SECRET@host/o/r.git", "ssh://host/o/r.git"),
        ("git@github.com:o/r.git", "git@github.com:o/r.git"),
        ("/srv/git/specs.git", "/srv/git/specs.git"),
    ],
)
def test_strip_credentials(url: str, clean: str) -> None:
    assert strip_credentials(url) == clean
    assert "SECRET" not in strip_credentials(url)


def test_an_ignored_spec_file_was_never_committed(repo: Path) -> None:
    (repo / ".gitignore").write_text("local/\n")
    (repo / "local").mkdir()
    (repo / "local" / "t.yaml").write_text("name: local\n")
    git(repo, "add", ".gitignore")
    git(repo, "commit", "-q", "-m", "ignore local/")
    state = git_state([repo / "catalog.yaml", repo / "local" / "t.yaml"])
    assert state is not None
    assert state.dirty_files == ("local/t.yaml",)
