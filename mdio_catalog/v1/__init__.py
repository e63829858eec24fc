"""MDIO v1 (the layout multidimio 1.x writes): reading it through our accessor API, and converting to/from v0."""
