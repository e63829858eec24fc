"""Typed access to the arrays and groups of an opened dataset, failing with the path that is missing."""

from __future__ import annotations

import zarr

from mdio_catalog.exceptions import MDIOFormatError


def get_array(root: zarr.Group, path: str) -> zarr.Array:
    """The array at ``path`` under ``root``."""
    node = root.get(path)
    if not isinstance(node, zarr.Array):
        raise MDIOFormatError(f"{root.store}: expected an array at {path!r}, found {type(node).__name__}.")
    return node


def get_group(root: zarr.Group, path: str) -> zarr.Group:
    """The group at ``path`` under ``root``."""
    node = root.get(path)
    if not isinstance(node, zarr.Group):
        raise MDIOFormatError(f"{root.store}: expected a group at {path!r}, found {type(node).__name__}.")
    return node
