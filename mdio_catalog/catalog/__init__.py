"""The declarative catalog: build, check and open datasets declared in versioned spec files."""

from mdio_catalog.catalog.catalog import BuildReport, Catalog
from mdio_catalog.catalog.status import DatasetStatus

__all__ = ["BuildReport", "Catalog", "DatasetStatus"]
