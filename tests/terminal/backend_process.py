"""A real ``printkiosk backend --demo-data`` the terminal tests can stop and restart.

The session-wide ``demo_backend_url`` cannot be stopped without breaking other tests,
and its ledger is shared; the outbox tests need a backend of their own that they can
stop, kill and start again on the same port and the same database.
"""

from __future__ import annotations

import signal
import sqlite3
import subprocess
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from printkiosk.commands.demo import free_port, start_demo_backend

LEDGER_SCALE = Decimal(10000)  # backend.money stores amounts as integer 1/10 000 units


@dataclass(frozen=True)
class LedgerHold:
    job_ref: str | None
    status: str
    amount: Decimal
    captured: Decimal | None


class BackendProcess:
    """One backend process on a fixed loopback port over one SQLite file."""

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def start(self) -> None:
        self._process = start_demo_backend(self.port, self.data_dir)

    def freeze(self) -> None:
        """SIGSTOP: the process keeps its socket, the kernel still accepts connections,
        and nothing answers — a hung backend, not a closed port."""
        assert self._process is not None
        self._process.send_signal(signal.SIGSTOP)

    def thaw(self) -> None:
        if self._process is not None:
            self._process.send_signal(signal.SIGCONT)

    def stop(self, kill: bool = False) -> None:
        if self._process is None:
            return
        self.thaw()  # a frozen process cannot act on SIGTERM
        if kill:
            self._process.kill()
        else:
            self._process.terminate()
        try:
            self._process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()
        self._process = None

    def holds(self) -> list[LedgerHold]:
        """The backend's holds, read from its database: what the ledger really holds."""
        with sqlite3.connect(self.data_dir / "backend.sqlite3") as db:
            rows = db.execute(
                "SELECT job_ref, status, amount, captured_amount FROM holds ORDER BY created_at"
            ).fetchall()
        return [
            LedgerHold(row[0], row[1], Decimal(row[2]) / LEDGER_SCALE,
                       None if row[3] is None else Decimal(row[3]) / LEDGER_SCALE)
            for row in rows
        ]

    def charge_count(self) -> int:
        with sqlite3.connect(self.data_dir / "backend.sqlite3") as db:
            (count,) = db.execute(
                "SELECT COUNT(*) FROM ledger_transactions WHERE kind = 'charge'"
            ).fetchone()
        return int(count)

    def events(self) -> list[tuple[str, str]]:
        """(kind, idempotency key) of every terminal event the backend stored."""
        with sqlite3.connect(self.data_dir / "backend.sqlite3") as db:
            rows = db.execute(
                "SELECT kind, idempotency_key FROM terminal_events ORDER BY id"
            ).fetchall()
        return [(str(kind), str(key)) for kind, key in rows]
