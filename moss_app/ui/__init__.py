"""MOSS widgets: drop zones, plots, panels, dialogs."""
