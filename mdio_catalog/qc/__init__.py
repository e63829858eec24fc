"""Quality control: pictures of sections, time slices and the live mask (matplotlib is imported on first plot)."""

from mdio_catalog.qc.plots import PlotInfo, dataset_name, parse_selection, plot_live_mask, plot_slice

__all__ = ["PlotInfo", "dataset_name", "parse_selection", "plot_live_mask", "plot_slice"]
