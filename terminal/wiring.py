"""Build a running terminal from its configuration: the one place that picks adapters.

Only this module imports ``drivers``; everything else in the terminal speaks to the
ports of :mod:`terminal.ports`. Construction (sockets, devices, threads) happens here
and nowhere at import time.
"""

from __future__ import annotations

import os
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from terminal.backend_client import HttpBackend
from terminal.config import ConfigError, KioskConfig, read_secret
from terminal.session import SessionController

TOKEN_ENV = "PRINTKIOSK_TERMINAL_TOKEN"  # noqa: S105 - a variable name, not a secret


@dataclass
class Terminal:
    """A terminal core ready for a UI: its configuration and its session controller."""

    config: KioskConfig
    session: SessionController
    backend: HttpBackend
    executor: ThreadPoolExecutor
    demo_cards: list[tuple[str, str]] = field(default_factory=list)

    def close(self) -> None:
        self.executor.shutdown(wait=False, cancel_futures=True)
        self.backend.close()


def terminal_token(config: KioskConfig) -> str:
    """The per-terminal token: from the environment, else from the 0600 secrets file."""
    from_env = os.environ.get(TOKEN_ENV)
    if from_env:
        return from_env
    if config.backend.token_file is None:
        raise ConfigError(
            [f"backend.token_file: not set and {TOKEN_ENV} is empty: the terminal has no token"]
        )
    return read_secret(Path(config.backend.token_file))


def build_terminal(
    config: KioskConfig, token: str, demo_cards: list[tuple[str, str]] | None = None
) -> Terminal:
    backend = HttpBackend(
        config.backend.url,
        token,
        connect_timeout_s=config.backend.connect_timeout_s,
        read_timeout_s=config.backend.read_timeout_s,
    )
    executor = ThreadPoolExecutor(max_workers=2, thread_name_prefix="terminal")
    session = SessionController(
        backend,
        executor,
        clock=time.monotonic,
        idle_timeout_s=config.terminal.idle_timeout_s,
        warning_s=config.terminal.logout_warning_s,
    )
    return Terminal(config, session, backend, executor, list(demo_cards or []))
