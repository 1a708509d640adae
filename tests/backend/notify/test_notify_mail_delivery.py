"""The outbox worker against a real SMTP server (aiosmtpd, STARTTLS, 127.0.0.1), on
SQLite and PostgreSQL: what a mail looks like when it arrives, and what happens to it
when the server refuses it, is down, or is the wrong one."""

from __future__ import annotations

from datetime import timedelta
from email.message import EmailMessage
from pathlib import Path

from smtp_peer import LOGIN, PASSWORD, Mailbox, deliver_all
from sqlalchemy import select

from backend.db import Database
from backend.models import Notification, utcnow
from backend.notify import outbox, smtp
from backend.notify.worker import deliver_due


def _record(db: Database, to: str, language: str = "en", kind: str = "test_message",
            **context: object) -> int:
    with db.write() as session:
        row = outbox.record(session, kind=kind, to_address=to, language=language,
                            context={"site": "Test site",
                                     "sent_at": "2026-12-02T09:30:00+00:00", **context})
        assert row is not None
        return row.id


def _row(db: Database, notification_id: int) -> Notification:
    with db.read() as session:
        row = session.get(Notification, notification_id)
        assert row is not None
        return row


def test_a_mail_arrives_with_its_headers_and_both_parts(notify_db: Database,
                                                        mailbox: Mailbox) -> None:
    db = notify_db
    config = mailbox.config(db, {"vouchers": {"timezone": "Europe/Paris"}})
    row_id = _record(db, "alice@kiosk.test", language="fr")
    assert deliver_all(db, config) == 1
    [mail] = mailbox.to("alice@kiosk.test")
    assert mail["From"] == "print@kiosk.test"
    assert mail["Subject"] == "Message de test de printkiosk (Test site)"
    assert mail["Auto-Submitted"] == "auto-generated"
    assert mail["Content-Language"] == "fr"
    assert mail["Date"] is not None and mail["Date"].datetime is not None
    assert mail["Message-ID"] == _row(db, row_id).message_id
    assert mail["Message-ID"].endswith("@kiosk.test>")
    assert mail.get_content_type() == "multipart/alternative"
    text = mail.get_body(("plain",))
    html = mail.get_body(("html",))
    assert text is not None and html is not None
    # 09:30 UTC is 10:30 in Paris, written the French way
    assert "envoyé le 2 déc. 2026, 10:30" in text.get_content()
    assert "<html lang=\"fr\">" in html.get_content()
    row = _row(db, row_id)
    assert (row.status, row.attempts, row.claim_token) == ("sent", 1, None)
    assert row.sent_at is not None


def test_a_server_certificate_of_another_ca_is_temporary_and_said_clearly(
        notify_db: Database, mailbox: Mailbox) -> None:
    db = notify_db
    config = mailbox.config(db, smtp={"ca_file": str(mailbox.other_ca)})
    row_id = _record(db, "bob@kiosk.test")
    before = utcnow()
    assert deliver_due(db, config) == 0
    row = _row(db, row_id)
    assert row.status == "pending" and row.attempts == 1
    assert row.last_error is not None
    assert row.last_error.startswith(f"127.0.0.1:{mailbox.port}: TLS certificate not trusted")
    # the first retry a minute later (retry_initial_s)
    assert before + timedelta(seconds=59) <= row.next_attempt_at <= utcnow() + \
        timedelta(seconds=61)
    assert mailbox.to("bob@kiosk.test") == []


def test_a_refused_recipient_fails_and_the_administrators_are_told_once(
        notify_db: Database, mailbox: Mailbox) -> None:
    db = notify_db
    config = mailbox.config(db, admin_addresses=["admin@kiosk.test"])
    row_id = _record(db, "nobody@kiosk.test")
    deliver_all(db, config)
    row = _row(db, row_id)
    assert row.status == "failed"
    assert row.last_error == (f"127.0.0.1:{mailbox.port} refused the recipient: "
                              "550 5.1.1 no such user here")
    [told] = mailbox.to("admin@kiosk.test")
    assert "nobody@kiosk.test" in told["Subject"]
    body = told.get_body(("plain",))
    assert body is not None and "550 5.1.1 no such user here" in body.get_content()
    deliver_all(db, config)
    assert len(mailbox.to("admin@kiosk.test")) == 1


def test_a_failed_delivery_failed_mail_tells_nobody_again(notify_db: Database,
                                                         mailbox: Mailbox) -> None:
    db = notify_db
    config = mailbox.config(db, admin_addresses=["nobody@admins.test"])
    _record(db, "nobody@kiosk.test")
    deliver_all(db, config)
    with db.read() as session:
        rows = session.scalars(select(Notification).order_by(Notification.id)).all()
    assert [(r.kind, r.status) for r in rows] == [("test_message", "failed"),
                                                  ("delivery_failed", "failed")]


def test_a_template_that_does_not_render_fails_the_mail(notify_db: Database,
                                                       mailbox: Mailbox) -> None:
    db = notify_db
    config = mailbox.config(db, admin_addresses=["admin@kiosk.test"])
    with db.write() as session:
        row = outbox.record(session, kind="test_message", to_address="carol@kiosk.test",
                            language="en", context={"site": "no sent_at"})
        assert row is not None
        row_id = row.id
    deliver_all(db, config)
    failed = _row(db, row_id)
    assert failed.status == "failed"
    assert failed.last_error is not None and "sent_at" in failed.last_error
    assert failed.last_error.startswith("template test_message (en) does not render")
    assert len(mailbox.to("admin@kiosk.test")) == 1


def test_temporary_refusals_back_off_doubling_then_give_up(notify_db: Database,
                                                          mailbox: Mailbox) -> None:
    db = notify_db
    config = mailbox.config(db, retry_initial_s=60, retry_max_s=200, give_up_after_h=1,
                            admin_addresses=["admin@kiosk.test"])
    row_id = _record(db, "busy@kiosk.test")
    created = _row(db, row_id).created_at
    at = created
    delays = []
    for _ in range(4):
        deliver_due(db, config, now=at)
        row = _row(db, row_id)
        assert row.status == "pending"
        assert row.last_error is not None and "451 4.3.0 mailbox busy" in row.last_error
        delays.append((row.next_attempt_at - at).total_seconds())
        at = row.next_attempt_at
    assert delays == [60, 120, 200, 200]
    deliver_due(db, config, now=created + timedelta(hours=1))
    row = _row(db, row_id)
    assert row.status == "failed" and row.attempts == 5
    assert row.last_error is not None and row.last_error.startswith("given up after 1 h: ")
    deliver_all(db, config)
    assert len(mailbox.to("admin@kiosk.test")) == 1


def test_smtp_stopped_during_a_burst_then_restarted_delivers_each_mail_once(
        notify_db: Database, mailbox: Mailbox) -> None:
    db = notify_db
    config = mailbox.config(db)
    ids = [_record(db, f"user{n}@kiosk.test") for n in range(10)]
    assert deliver_due(db, config) == 10
    mailbox.stop()
    ids += [_record(db, f"user{n}@kiosk.test") for n in range(10, 30)]
    assert deliver_due(db, config) == 0
    with db.read() as session:
        waiting = session.scalars(select(Notification).where(
            Notification.status == "pending")).all()
    assert len(waiting) == 20
    assert all(r.last_error and "connection refused" in r.last_error for r in waiting)
    first_ids = {r.id: r.message_id for r in waiting}
    mailbox.start()
    assert deliver_all(db, config) == 20
    received = [m["Message-ID"] for m in mailbox.messages]
    assert len(received) == len(set(received)) == 30
    # a retried mail keeps the Message-ID fixed at its first attempt
    assert set(first_ids.values()) <= set(received)
    with db.read() as session:
        assert {r.status for r in session.scalars(select(Notification))} == {"sent"}


def test_one_run_sends_on_one_session_and_reopens_one_the_server_dropped(
        notify_db: Database, mailbox: Mailbox) -> None:
    db = notify_db
    config = mailbox.config(db)
    for n in range(5):
        _record(db, f"user{n}@kiosk.test")
    assert deliver_due(db, config) == 5
    assert len(mailbox.sessions) == 1, "five mails, one connection and TLS handshake"
    # a session kept open while the server restarts (it hung up on us): the next mail
    # goes out at once on a fresh session, not to the retry queue
    mailbox.clear()
    with smtp.Connection(config.notifications.smtp) as connection:
        connection.send(_message("first@kiosk.test"))
        mailbox.stop()
        mailbox.start()
        connection.send(_message("second@kiosk.test"))
    assert [m["To"] for m in mailbox.messages] == ["first@kiosk.test", "second@kiosk.test"]
    assert len(mailbox.sessions) == 2


def _message(to: str) -> EmailMessage:
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = "print@kiosk.test", to, "Hello"
    message.set_content("Hello")
    return message


def test_a_login_with_the_password_file_sends_and_a_wrong_one_waits(
        notify_db: Database, mailbox: Mailbox, tmp_path: Path) -> None:
    db = notify_db
    password = tmp_path / "smtp-password"
    password.write_text(f"{PASSWORD}\n", encoding="utf-8")
    password.chmod(0o600)
    config = mailbox.config(db, smtp={"username": LOGIN, "password_file": str(password)})
    first = _record(db, "dan@kiosk.test")
    assert deliver_due(db, config) == 1
    assert _row(db, first).status == "sent"

    password.write_text("not-the-password\n", encoding="utf-8")
    second = _record(db, "erin@kiosk.test")
    assert deliver_due(db, config) == 0
    row = _row(db, second)
    # 535 is the operator's to fix: the mail waits, it is not failed
    assert row.status == "pending" and row.last_error is not None
    assert row.last_error.startswith(f"127.0.0.1:{mailbox.port} refused the login: 535 ")
    assert "check notifications.smtp.username and password_file" in row.last_error

    password.chmod(0o640)
    deliver_due(db, config, now=row.next_attempt_at)
    row = _row(db, second)
    assert row.status == "pending"
    assert row.last_error == (f"notifications.smtp.password_file: {password}: mode 0o640 "
                              f"lets others read it; expected 0600 (chmod 600 {password})")
    assert mailbox.to("erin@kiosk.test") == []
