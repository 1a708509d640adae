"""The backend's TOML file as the backend-side commands (backend, vouchers, payments) read
it: every problem printed on stderr, one per line, and the command exits 2 without
touching the database."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from backend.config import BackendConfig


def load_or_report(path: Path) -> BackendConfig | None:
    """The configuration, or None once its problems have been printed."""
    from backend.config import BackendConfigError, load_backend_config

    try:
        return load_backend_config(path)
    except BackendConfigError as exc:
        for problem in exc.problems:
            print(problem, file=sys.stderr)
        return None
