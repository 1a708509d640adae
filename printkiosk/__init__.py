"""The ``printkiosk`` command: a thin dispatcher over the project's packages."""

from pathlib import Path

__version__ = "0.1.0"

# The example configuration shipped in the source tree (used by the demo).
REPO_CONFIG = Path(__file__).resolve().parent.parent / "config"
