"""Device mails end to end (issue 18): an alert repeated by the kiosk reaches the real
SMTP server (tests/backend/notify/conftest.py) once per administrator, in their language."""

from __future__ import annotations

from device_helpers import OPS, alert, device_backend, post_events
from smtp_peer import Mailbox, deliver_all

from backend.db import Database


def test_a_repeated_jam_arrives_once_per_administrator(db: Database, mailbox: Mailbox) -> None:
    config = mailbox.config(db, admin_addresses=[OPS])
    with device_backend(db, config=config) as backend:
        for _ in range(3):
            post_events(backend, alert(["jammed"], raised=["jammed"]))
        assert deliver_all(db, config) == 2
        post_events(backend, alert(["jammed", "doorOpen"], raised=["doorOpen"]))
        post_events(backend, alert(["jammed"], cleared=["doorOpen"]))
        assert deliver_all(db, config) == 2  # the door: one mail each, the jam nothing more
    (french_jam, french_door) = mailbox.to("alice@example.org")
    (english_jam, english_door) = mailbox.to(OPS)
    assert french_jam["Subject"] == "Bourrage papier sur demo kiosk"
    assert english_jam["Subject"] == "Paper jam at demo kiosk"
    assert english_door["Subject"] == "A door or cover is open at demo kiosk"
    assert french_door["Subject"] == "Une porte ou un capot est ouvert sur demo kiosk"
    text = english_jam.get_body(("plain",))
    assert text is not None and "What to do: Open the printer" in text.get_content()
    html = french_jam.get_body(("html",))
    assert html is not None and "<strong>Bourrage papier</strong>" in html.get_content()
    assert len(mailbox.messages) == 4
