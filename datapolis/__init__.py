"""Datapolis: an integrated public-data platform for a city's big-data bureau."""

__version__ = "0.1.0"
