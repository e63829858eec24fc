"""Accessors and dataset-wide conveniences."""

from mdio_catalog.api.accessor import MDIOAccessor, MDIOReader, MDIOWriter
from mdio_catalog.api.convenience import copy_mdio, rechunk, rechunk_batch

__all__ = ["MDIOAccessor", "MDIOReader", "MDIOWriter", "copy_mdio", "rechunk", "rechunk_batch"]
