"""The ``printkiosk`` command: a thin dispatcher over the project's packages."""

__version__ = "0.1.0"
