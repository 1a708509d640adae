"""Build a running terminal from its configuration: the one place that picks adapters.

Only this module imports ``drivers``; everything else in the terminal speaks to the
ports of :mod:`terminal.ports`. Construction (sockets, devices, threads) happens here
and nowhere at import time.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from drivers.cards import CardConfigError, SimulatedCardReader, reader_from_config
from terminal.backend_client import HttpBackend
from terminal.config import ConfigError, KioskConfig, load_kiosk_config, read_secret
from terminal.jobs import JobService
from terminal.ports import CardReader
from terminal.release import ReleaseWorkflow
from terminal.session import SessionController

TOKEN_ENV = "PRINTKIOSK_TERMINAL_TOKEN"  # noqa: S105 - a variable name, not a secret


@dataclass
class Terminal:
    """A terminal core ready for a UI: its configuration, session controller and reader."""

    config: KioskConfig
    session: SessionController
    backend: HttpBackend
    executor: ThreadPoolExecutor
    card_reader: CardReader
    # Set when the reader is the simulated one: numbers typed on screen go through it
    # (and so through the same normalisation and debounce as a real read).
    typed_card: Callable[[str], None] | None = None
    demo_cards: list[tuple[str, str]] = field(default_factory=list)
    # Held jobs and their release; None on a kiosk with no print queue or price list.
    jobs: JobService | None = None
    release: ReleaseWorkflow | None = None
    # Job listing and release get their own workers: a release followed for minutes
    # must never delay the next badge's identification on ``executor``.
    jobs_executor: ThreadPoolExecutor = field(
        default_factory=lambda: ThreadPoolExecutor(max_workers=2, thread_name_prefix="jobs")
    )

    def start(self) -> None:
        self.card_reader.start(self.session.present_card)

    def close(self) -> None:
        self.card_reader.stop()
        self.executor.shutdown(wait=False, cancel_futures=True)
        self.jobs_executor.shutdown(wait=False, cancel_futures=True)
        self.backend.close()


def build_card_reader(config: KioskConfig, file_label: str = "kiosk.toml") -> CardReader:
    """The configured reader, not started; its table is checked by the reader library."""
    try:
        return reader_from_config(config.card_reader)
    except CardConfigError as exc:
        raise ConfigError([f"{file_label}: {exc}"]) from exc


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


def load_checked_config(path: Path) -> KioskConfig:
    """Load a kiosk file and check the parts only the device libraries can judge."""
    config = load_kiosk_config(path)
    build_card_reader(config, path.name)
    return config


def build_terminal(
    config: KioskConfig,
    token: str,
    demo_cards: list[tuple[str, str]] | None = None,
    file_label: str = "kiosk.toml",
) -> Terminal:
    card_reader = build_card_reader(config, file_label)
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
    source = getattr(card_reader, "source", None)
    typed = source.present if isinstance(source, SimulatedCardReader) else None
    return Terminal(config, session, backend, executor, card_reader, typed, list(demo_cards or []))
