"""Reports: which code was measured (git HEAD, hash of the package sources) and writing the JSON results."""

from __future__ import annotations

import hashlib
import json
import subprocess
from pathlib import Path
from typing import Any

from . import REPO_ROOT

__all__ = ["code_state", "write_json_report"]


def code_state() -> dict[str, str]:
    """Which mdio_catalog was measured: git HEAD, and a hash of the package sources (the tree may be dirty)."""
    digest = hashlib.sha256()
    package = REPO_ROOT / "mdio_catalog"
    for path in sorted(package.rglob("*.py")):
        digest.update(str(path.relative_to(package)).encode() + b"\0" + path.read_bytes())
    head = subprocess.run(
        ["git", "-C", str(REPO_ROOT), "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=False
    ).stdout.strip()
    dirty = subprocess.run(
        ["git", "-C", str(REPO_ROOT), "status", "--porcelain", "--", "mdio_catalog"],
        capture_output=True,
        text=True,
        check=False,
    ).stdout.strip()
    return {"git_head": head or "?", "mdio_catalog_dirty": str(bool(dirty)), "sources_sha256": digest.hexdigest()[:12]}


def write_json_report(payload: dict[str, Any], target: str, log: Any) -> None:
    """Write a benchmark's results as JSON to ``target`` ('-' prints them on stdout)."""
    text = json.dumps(payload, indent=2, default=str)
    if target == "-":
        print(text)
    else:
        Path(target).write_text(text + "\n")
        log(f"\nJSON written to {target}")
