"""The backend's TOML file as the backend-side commands (backend, vouchers, payments, 3d)
read it: every problem printed on stderr, one per line, and the command exits 2 without
touching the database; and the database opened for them the same way."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from backend.config import BackendConfig
    from backend.voucher_cli import Backend


def load_or_report(path: Path) -> BackendConfig | None:
    """The configuration, or None once its problems have been printed."""
    from backend.config import BackendConfigError, load_backend_config

    try:
        return load_backend_config(path)
    except BackendConfigError as exc:
        for problem in exc.problems:
            print(problem, file=sys.stderr)
        return None


def run_on_backend(command: str, config_path: Path,
                   work: Callable[[Backend], None]) -> int:
    """Run ``work`` on the backend's database as ``cli:<login>`` (every change audited):
    exit 0, or 2 once the configuration's problems or the refusal have been printed as
    ``printkiosk COMMAND: ...; nothing changed``."""
    import getpass

    from backend.voucher_cli import CliRefused, open_backend

    config = load_or_report(config_path)
    if config is None:
        return 2
    try:
        with open_backend(config, f"cli:{getpass.getuser()}") as backend:
            work(backend)
    except CliRefused as exc:
        print(f"printkiosk {command}: {exc}; nothing changed", file=sys.stderr)
        return 2
    return 0
