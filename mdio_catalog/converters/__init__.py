"""Converters between MDIO and other formats."""

from mdio_catalog.converters.mdio_to_segy import mdio_to_segy
from mdio_catalog.converters.numpy import numpy_to_mdio
from mdio_catalog.converters.segy import segy_to_mdio

__all__ = ["mdio_to_segy", "numpy_to_mdio", "segy_to_mdio"]
