"""Two real backend processes (``printkiosk backend``, scheduler on) draining one outbox
on the same database: every mail reaches the SMTP server once (counted by Message-ID).
PostgreSQL and SQLite."""

from __future__ import annotations

import time
from pathlib import Path

from backend_fixtures import start_backend, stop_backend, write_config
from pg_cluster import free_port
from smtp_peer import Mailbox
from sqlalchemy import func, select

from backend.app import prepare_database
from backend.db import Database
from backend.models import Notification
from backend.notify import outbox

MAILS = 60


def _record(db: Database, first: int, count: int) -> None:
    with db.write() as session:
        for n in range(first, first + count):
            outbox.record(session, kind="test_message", to_address=f"u{n}@kiosk.test",
                          language="en", context={"site": "Two processes",
                                                  "sent_at": "2026-12-02T09:30:00+00:00"})


def _pending(db: Database) -> int:
    with db.read() as session:
        return session.scalar(select(func.count()).select_from(Notification).where(
            Notification.status != "sent")) or 0


def test_two_backend_processes_send_each_mail_once(db: Database, mailbox: Mailbox,
                                                   tmp_path: Path) -> None:
    prepare_database(db, "EUR")
    _record(db, 0, MAILS // 2)
    notifications = (
        f'[notifications]\nenabled = true\nfrom_address = "print@kiosk.test"\n'
        f"check_interval_s = 1\n\n"
        f'[notifications.smtp]\nhost = "127.0.0.1"\nport = {mailbox.port}\n'
        f'security = "starttls"\nca_file = "{mailbox.cert}"\ntimeout_s = 5\n')
    processes = []
    try:
        for name in ("a", "b"):
            config = write_config(tmp_path / f"{name}.toml",
                                  db.engine.url.render_as_string(False), free_port(),
                                  notifications)
            processes.append(start_backend(config))
        _record(db, MAILS // 2, MAILS // 2)  # more while both are draining
        deadline = time.monotonic() + 90
        while _pending(db) and time.monotonic() < deadline:
            time.sleep(0.2)
        time.sleep(2)  # a duplicate would arrive in the next ticks
    finally:
        for process in processes:
            stop_backend(process)
    assert _pending(db) == 0
    received = [m["Message-ID"] for m in mailbox.messages]
    assert len(received) == MAILS
    assert len(set(received)) == MAILS
    assert sorted(m["To"] for m in mailbox.messages) == sorted(
        f"u{n}@kiosk.test" for n in range(MAILS))
