"""Progress bars for long work, silenced by ``MDIO_CATALOG_PROGRESS=false`` or when output is not a terminal."""

from __future__ import annotations

from typing import Any

from tqdm.auto import tqdm

from mdio_catalog.settings import get_settings


def progress(total: int | None, description: str, unit: str = "it", **kwargs: Any) -> tqdm:
    """A tqdm bar that follows the package settings (``disable=None`` hides it on non-TTY output)."""
    enabled = get_settings().progress
    return tqdm(total=total, desc=description, unit=unit, disable=None if enabled else True, leave=False, **kwargs)
