"""Tests of the catalog site and the STAC export (mdio_catalog.site), with a real headless Chromium."""
