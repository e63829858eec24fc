"""The catalog's face: a static site (index, a page per dataset with QC pictures) and a STAC export.

A presentation layer above ``catalog/`` and below ``cli/``: it only reads the catalog, its lock and the datasets.
"""

from mdio_catalog.site.pictures import choose_colours, render_pictures
from mdio_catalog.site.render import SiteReport, build_site
from mdio_catalog.site.serve import make_server, serve_in_thread
from mdio_catalog.site.stac import check_crs, write_stac

__all__ = [
    "SiteReport",
    "build_site",
    "check_crs",
    "choose_colours",
    "make_server",
    "render_pictures",
    "serve_in_thread",
    "write_stac",
]
