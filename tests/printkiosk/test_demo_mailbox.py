"""The demo's mailbox: ``printkiosk demo`` starts aiosmtpd on loopback and configures its
backend to send there; mails land in the Maildir under the demo's folder, sent by the
backend's own scheduler as well as by ``printkiosk backend notify test``."""

from __future__ import annotations

import mailbox
import subprocess
import sys
import time
from pathlib import Path

from sqlalchemy import select

from backend.config import load_backend_config
from backend.db import Database
from backend.models import User
from backend.notify import outbox, recipients
from printkiosk.commands.demo import free_port, start_demo_backend, stop_demo_backend
from printkiosk.commands.demo_mail import mails_line, start_demo_mailbox


def _subjects(folder: Path) -> list[str]:
    return sorted(str(message["Subject"]) for message in mailbox.Maildir(str(folder)))


def test_the_demo_backend_sends_its_mails_into_the_demo_maildir(tmp_path: Path) -> None:
    box = start_demo_mailbox(tmp_path / "mail")
    assert mails_line(box) == f"demo: mails are saved in {tmp_path / 'mail' / 'new'} (a Maildir)"
    backend = start_demo_backend(free_port(), tmp_path,
                                 notifications=box.notifications_toml())
    try:
        config = load_backend_config(tmp_path / "backend.toml")
        assert config.notifications.enabled
        database = Database.from_url(config.database_url)
        with database.write() as session:
            users = {u.username: u for u in session.scalars(select(User))}
            # every demo user and demo staff account has an address to write to
            assert all(u.email for u in users.values()), [n for n, u in users.items()
                                                          if not u.email]
            assert recipients.administrators(session, config.notifications)
            found = outbox.recipient(users["alice"])
            assert found == ("alice@example.org", "fr")
            outbox.record(session, kind="test_message", to_address=found[0],
                          language=found[1], context={"site": "Demo",
                                                      "sent_at": "2026-12-02T09:30:00Z"})
        database.dispose()
        deadline = time.monotonic() + 30  # the scheduler's tick is 2 s
        while not _subjects(box.folder) and time.monotonic() < deadline:
            time.sleep(0.2)
        # only the test message: the demo's seed (opening balances) alerts nobody, though
        # the demo turns charge alerts on for every user
        assert _subjects(box.folder) == ["Message de test de printkiosk (Demo)"]
        done = subprocess.run([sys.executable, "-m", "printkiosk", "backend", "notify", "test",
                               "--config", str(tmp_path / "backend.toml"),
                               "--to", "bob@example.org"],
                              capture_output=True, text=True, timeout=60, check=False)
        assert done.returncode == 0, done.stderr
        assert len(_subjects(box.folder)) == 2
    finally:
        stop_demo_backend(backend)
        box.close()
    [file] = [p for p in (tmp_path / "mail" / "new").iterdir()
              if b"bob@example.org" in p.read_bytes()]
    assert b"Auto-Submitted: auto-generated" in file.read_bytes()
