"""Where a spec came from in git: the commit, whether the spec files had uncommitted changes, and the remote.

A catalog lives in git like code; a dataset built from a spec that was never committed cannot be rebuilt from the
history. :func:`git_state` asks the ``git`` command (the tool every user of a git work tree has; no library needed
for three read-only questions) about the files a build used: the ``HEAD`` commit, which of those files differ from
it (modified, staged, untracked or ignored by git), the branch, and the remote URL with credentials removed (a token in
``https://user:token@host/...`` or ``?access_token=`` must never reach a lock file that is itself committed).

Nothing here writes: ``GIT_OPTIONAL_LOCKS=0`` keeps ``git status`` from refreshing the index, so a build never
contends with a user's git commands. No git, or files outside a work tree, give ``None``. :func:`uncommitted` asks
only which spec files are dirty (two git commands, for ``status``).
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

#: Seconds any one git command may take (a huge repository on a slow disk must not stall a build).
GIT_TIMEOUT = 20


@dataclass(frozen=True)
class GitState:
    """The git facts of a set of spec files."""

    root: str
    commit: str | None  # None in a repository without commits
    branch: str | None  # None on a detached HEAD
    dirty_files: tuple[str, ...]  # relative to the work tree root: modified, staged, untracked
    remote: str | None  # credentials stripped

    @property
    def dirty(self) -> bool:
        return bool(self.dirty_files)

    def to_dict(self) -> dict[str, object]:
        return {
            "commit": self.commit,
            "branch": self.branch,
            "dirty": self.dirty,
            "dirty_files": list(self.dirty_files),
            "remote": self.remote,
        }


def _git(cwd: Path, *args: str) -> str | None:
    """Output of ``git args`` in ``cwd`` (None when git fails or is missing)."""
    env = {**os.environ, "GIT_OPTIONAL_LOCKS": "0", "GIT_TERMINAL_PROMPT": "0", "LC_ALL": "C"}
    try:
        done = subprocess.run(
            ["git", *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=GIT_TIMEOUT, check=False
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout if done.returncode == 0 else None


def git_state(paths: Sequence[str | os.PathLike[str]]) -> GitState | None:
    """The git state of the files ``paths`` (the catalog file first, then templates or other specs it uses)."""
    found = uncommitted(paths)
    if found is None:
        return None
    root, dirty = found
    commit = _git(root, "rev-parse", "--verify", "-q", "HEAD")
    branch = _git(root, "symbolic-ref", "-q", "--short", "HEAD")
    return GitState(
        root=str(root),
        commit=commit.strip() if commit else None,
        branch=branch.strip() if branch else None,
        dirty_files=dirty,
        remote=_remote(root),
    )


def uncommitted(paths: Sequence[str | os.PathLike[str]]) -> tuple[Path, tuple[str, ...]] | None:
    """The work tree root holding ``paths[0]`` and which of ``paths`` differ from ``HEAD`` (modified, staged,
    untracked or ignored; relative to that root, sorted), in two git commands whatever the number of paths; None
    outside a work tree. Paths outside the work tree are left out (git cannot vouch for them)."""
    if not paths or shutil.which("git") is None:
        return None
    first = Path(paths[0]).resolve()
    folder = first if first.is_dir() else first.parent
    top = _git(folder, "rev-parse", "--show-toplevel")
    if not top:
        return None
    root = Path(top.strip())
    inside = relative_paths(root, paths)
    # Ignored spec files are listed too (--ignored with --untracked-files=all names each file): never committed.
    options = ("--literal-pathspecs", "status", "--porcelain=v1", "-z", "--untracked-files=all",
               "--ignored=traditional", "--")  # fmt: skip
    status = _git(root, *options, *inside) if inside else ""
    return root, tuple(sorted(_porcelain_paths(status or "")))


def relative_paths(root: Path, paths: Sequence[str | os.PathLike[str]]) -> list[str]:
    """``paths`` relative to the work tree ``root`` ('/'-separated), those outside it left out."""
    inside = []
    for path in paths:
        try:
            inside.append(Path(path).resolve().relative_to(root).as_posix())
        except ValueError:  # a template outside this work tree: git cannot vouch for it
            continue
    return inside


def _porcelain_paths(status: str) -> set[str]:
    """Paths of ``git status --porcelain=v1 -z`` entries (a rename or copy is followed by its source path)."""
    out: set[str] = set()
    entries = iter(status.split("\0"))
    for entry in entries:
        if len(entry) > 3:
            out.add(entry[3:])
            if entry[0] in "RC":
                next(entries, None)
    return out


def _remote(root: Path) -> str | None:
    names = (_git(root, "remote") or "").split()
    if not names:
        return None
    name = "origin" if "origin" in names else names[0]
    url = _git(root, "remote", "get-url", name)
    return strip_credentials(url.strip()) if url else None


def strip_credentials(url: str) -> str:
    """``url`` without a password or token: the user-info of ``scheme://user:secret@host`` (the whole user-info
    when it holds a secret or is a bare token), and any query string or fragment. scp-like ``git@host:path``
    keeps its user name, which is not a secret."""
    if "://" not in url:
        return url.split("?", 1)[0]
    parts = urlsplit(url)
    host = parts.hostname or ""
    if parts.port:
        host = f"{host}:{parts.port}"
    user = parts.username if parts.username and parts.password is None and parts.scheme in ("ssh", "git+ssh") else None
    netloc = f"{user}@{host}" if user else host
    return urlunsplit((parts.scheme, netloc, parts.path, "", ""))
