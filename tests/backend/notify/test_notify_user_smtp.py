"""End to end through the mail part's real SMTP server (aiosmtpd, STARTTLS): a low
balance crossing down, up past the margin and down again arrives as exactly two
messages; a burst of five prints arrives as exactly two (one at once, one grouped), in
the user's language with the locale's amounts."""

from __future__ import annotations

from notify_user_helpers import adjust, charge, seeded
from smtp_peer import Mailbox, deliver_all

from backend.db import Database

LOW = {"threshold": "5.00", "margin": "2.00"}


def bodies(mailbox: Mailbox, address: str) -> list[tuple[str, str]]:
    found = []
    for message in mailbox.to(address):
        text = message.get_body(preferencelist=("plain",))
        assert text is not None
        found.append((str(message["Subject"]), text.get_content()))
    return found


def test_down_up_down_gives_exactly_two_messages(notify_db: Database,
                                                 mailbox: Mailbox) -> None:
    config = mailbox.config(notify_db, low_balance=LOW)
    seeded(notify_db, config)
    charge(notify_db, "alice", "11.00")  # 4.00
    adjust(notify_db, "alice", "3.00")  # 7.00: not above 5.00 + 2.00
    charge(notify_db, "alice", "1.00")  # 6.00 -> no mail
    adjust(notify_db, "alice", "2.00")  # 8.00: re-armed
    charge(notify_db, "alice", "4.50")  # 3.50: the second mail
    assert deliver_all(notify_db, config) >= 2
    received = bodies(mailbox, "alice@example.org")
    assert [" ".join(subject.split()) for subject, _ in received] == [
        "Votre crédit d'impression est bas : 4,00 €",
        "Votre crédit d'impression est bas : 3,50 €"]
    assert "sous le seuil de 5,00\u00a0€" in received[0][1]


def test_a_burst_arrives_as_two_messages(notify_db: Database, mailbox: Mailbox) -> None:
    config = mailbox.config(notify_db, low_balance={"enabled": False},
                            transactions={"default": True, "group_minutes": 10})
    seeded(notify_db, config)
    for amount in ("0.10", "0.20", "0.30", "0.40", "0.50"):
        charge(notify_db, "bob", amount)
    deliver_all(notify_db, config)  # the grouped one at its time (the clock is moved)
    received = bodies(mailbox, "bob@example.org")
    assert len(received) == 2
    (_first_subject, first), (grouped_subject, grouped) = received
    assert "-€0.10" in first and "-€0.20" not in first
    assert "4 movements" in grouped_subject
    assert all(f"-€0.{n}0" in grouped for n in (2, 3, 4, 5))
    assert "Not you?" in grouped
