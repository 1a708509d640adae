"""``printkiosk backend notify ...`` and ``printkiosk doctor`` on a backend file with
``[notifications]``, run as an operator runs them (a child process), against the real
SMTP server of the fixture."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from smtp_peer import Mailbox
from sqlalchemy import select

from backend.config import SECRET_ENV
from backend.db import Database
from backend.models import AuditEntry, Notification


def _config(tmp_path: Path, mailbox: Mailbox, extra: str = "") -> Path:
    path = tmp_path / "backend.toml"
    path.write_text(
        f'[server]\nhost = "127.0.0.1"\nport = 8470\n\n'
        f'[database]\nurl = "sqlite:///{tmp_path / "backend.sqlite3"}"\n\n'
        f'[notifications]\nenabled = true\nfrom_address = "print@kiosk.test"\n'
        f'admin_addresses = ["admin@kiosk.test"]\n{extra}\n'
        f'[notifications.smtp]\nhost = "127.0.0.1"\nport = {mailbox.port}\n'
        f'security = "starttls"\nca_file = "{mailbox.cert}"\ntimeout_s = 5\n',
        encoding="utf-8")
    return path


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, SECRET_ENV: "test-secret-key-of-32-characters-or-more"}
    return subprocess.run([sys.executable, "-m", "printkiosk", *args], env=env,
                          capture_output=True, text=True, timeout=120, check=False)


def test_notify_test_sends_now_and_outbox_shows_a_failed_one_then_retry(
        tmp_path: Path, mailbox: Mailbox) -> None:
    config = _config(tmp_path, mailbox)
    done = _run("backend", "notify", "test", "--config", str(config), "--to",
                "ops@kiosk.test")
    assert done.returncode == 0, done.stderr
    assert f"accepted by 127.0.0.1:{mailbox.port}" in done.stdout
    [mail] = mailbox.to("ops@kiosk.test")
    assert mail["Subject"].startswith("printkiosk test message")

    refused = _run("backend", "notify", "test", "--config", str(config), "--to",
                   "nobody@kiosk.test")
    assert refused.returncode == 2
    assert "failed: " in refused.stderr and "550 5.1.1 no such user here" in refused.stderr

    outbox = _run("backend", "notify", "outbox", "--config", str(config))
    assert outbox.returncode == 0, outbox.stderr
    lines = outbox.stdout.splitlines()
    assert lines[0] == "1 pending, 1 sent, 1 failed"  # the pending one tells the admins
    assert "nobody@kiosk.test" in outbox.stdout and "550 5.1.1" in outbox.stdout

    sent = _run("backend", "notify", "send", "--config", str(config))
    assert sent.returncode == 0 and "1 sent" in sent.stdout
    assert len(mailbox.to("admin@kiosk.test")) == 1

    db = Database.from_url(f"sqlite:///{tmp_path / 'backend.sqlite3'}")
    with db.read() as session:
        failed_id = session.scalar(select(Notification.id).where(
            Notification.status == "failed"))
    retry = _run("backend", "notify", "retry", "--config", str(config), str(failed_id))
    assert retry.returncode == 0, retry.stderr
    again = _run("backend", "notify", "retry", "--config", str(config), str(failed_id))
    assert again.returncode == 2 and "is pending, not failed" in again.stderr
    with db.read() as session:
        actions = [(a.action, a.actor.startswith("cli:")) for a in session.scalars(
            select(AuditEntry).where(AuditEntry.action.like("notification.%"))
            .order_by(AuditEntry.id))]
        row = session.get(Notification, failed_id)
        assert row is not None and row.status == "pending" and row.attempts == 0
    db.dispose()
    assert actions == [("notification.test", True), ("notification.test", True),
                       ("notification.retry", True)]


def test_notify_refuses_when_notifications_are_disabled(tmp_path: Path) -> None:
    path = tmp_path / "backend.toml"
    path.write_text(f'[database]\nurl = "sqlite:///{tmp_path / "b.sqlite3"}"\n',
                    encoding="utf-8")
    done = _run("backend", "notify", "test", "--config", str(path), "--to", "a@b.test")
    assert done.returncode == 2
    assert "[notifications] enabled is false" in done.stderr


def test_doctor_reports_a_broken_template_override_with_file_and_line(
        tmp_path: Path, mailbox: Mailbox) -> None:
    folder = tmp_path / "mail-templates"
    (folder / "fr").mkdir(parents=True)
    (folder / "en").mkdir()
    broken = folder / "fr" / "test_message.txt"
    broken.write_text("Bonjour,\n\nEnvoyé le {{ sent_at|when }.\nfin\n", encoding="utf-8")
    (folder / "en" / "test_message.subject.txt").write_text("Hi {{ site|nofilter }}\n",
                                                           encoding="utf-8")
    (folder / "en" / "test_message.html").write_text("<p>{{ site }}</p>\n", encoding="utf-8")
    (folder / "en" / "low_balanse.txt").write_text("typo\n", encoding="utf-8")
    password = tmp_path / "smtp-password"
    password.write_text("secret\n", encoding="utf-8")
    password.chmod(0o644)
    config = _config(tmp_path, mailbox, f'templates_dir = "{folder}"\n')
    text = config.read_text(encoding="utf-8").replace(
        "timeout_s = 5\n", f'timeout_s = 5\nusername = "kiosk"\npassword_file = "{password}"\n')
    config.write_text(text, encoding="utf-8")
    done = _run("doctor", "--config", str(config))
    assert done.returncode == 2
    problems = done.stderr.splitlines()
    assert f"{broken}:3: unexpected '}}'" in problems
    assert f"{folder / 'en' / 'test_message.subject.txt'}:1: No filter named 'nofilter'." \
        in problems
    assert any(p.startswith(f"{folder / 'en' / 'low_balanse.txt'}: no mail kind "
                            "'low_balanse'") for p in problems)
    assert f"backend.toml: notifications.smtp.password_file: {password}: mode 0o644 lets " \
           "others read it; expected 0600 " \
           f"(chmod 600 {password}); no mail is sent until it is" in problems
    assert len(problems) == 4, problems


def test_doctor_says_the_mail_server_answers_ehlo_and_sends_nothing(
        tmp_path: Path, mailbox: Mailbox) -> None:
    done = _run("doctor", "--config", str(_config(tmp_path, mailbox)))
    assert done.returncode == 0, done.stderr
    assert (f"backend.toml: notifications.smtp: 127.0.0.1:{mailbox.port} answered EHLO "
            "(starttls) (EHLO check only, no mail sent)") in done.stdout
    assert mailbox.messages == []
    mailbox.stop()
    down = _run("doctor", "--config", str(_config(tmp_path, mailbox)))
    assert down.returncode == 0
    assert (f"WARNING: backend.toml: notifications.smtp: the mail server does not take us "
            f"(EHLO check, no mail sent): 127.0.0.1:{mailbox.port}: connection refused"
            ) in down.stdout
