"""A supply forecast to run out within [fleet] supply_alert_days opens one device problem:
the administrators get one mail through the real SMTP server, nothing more while it stays
open, and it closes once a new cartridge moves the forecast out of the window."""

from __future__ import annotations

from datetime import timedelta

from device_helpers import OPS, device_backend
from smtp_peer import Mailbox, deliver_all
from sqlalchemy import select

from backend.db import Database
from backend.fleet.supply_alerts import RUNOUT_SOON, check_supply_forecasts
from backend.models import Device, DeviceProblem, SupplyReading, Terminal, utcnow


def test_a_toner_running_out_in_ten_days_is_mailed_once(db: Database, mailbox: Mailbox) -> None:
    config = mailbox.config(db, admin_addresses=[OPS])
    assert config.fleet.supply_alert_days == 14
    now = utcnow()
    with device_backend(db, config=config):
        with db.write() as session:
            terminal = session.scalars(select(Terminal)).one()
            terminal.device = "LIB-MFP-1"
            device = Device(code="LIB-MFP-1", name="Library MFP")
            session.add(device)
            session.flush()
            # 2 % a day for 20 days down to 20 %: empty in 10 days; cyan lasts 60 more.
            for day in range(21):
                at = now - timedelta(days=20 - day)
                session.add(SupplyReading(device_id=device.id, read_at=at,
                                          supply="Black Toner", level_percent=60 - 2 * day))
                session.add(SupplyReading(device_id=device.id, read_at=at,
                                          supply="Cyan Toner", level_percent=90 - day))
        for hour in range(3):  # the scheduler runs again and again
            with db.write() as session:
                opened = check_supply_forecasts(session, config, now + timedelta(hours=hour))
            assert opened == (1 if hour == 0 else 0)
        assert deliver_all(db, config) == 2  # ops@ and alice, an administrator
        with db.write() as session:  # a new cartridge
            session.add(SupplyReading(device_id=device.id, read_at=now + timedelta(hours=4),
                                      supply="Black Toner", level_percent=100))
            session.add(SupplyReading(device_id=device.id, read_at=now + timedelta(days=2),
                                      supply="Black Toner", level_percent=99))
            session.add(SupplyReading(device_id=device.id, read_at=now + timedelta(days=4),
                                      supply="Black Toner", level_percent=98))
        with db.write() as session:
            assert check_supply_forecasts(session, config, now + timedelta(days=4)) == 0
        with db.read() as session:
            problems = list(session.scalars(select(DeviceProblem)))
    assert [(p.code, p.subject, p.cleared_at is not None) for p in problems] == [
        (RUNOUT_SOON, "Black Toner", True)]
    assert problems[0].detail["runs_out_on"] == (now + timedelta(days=10)).date().isoformat()
    english, = mailbox.to(OPS)
    french, = mailbox.to("alice@example.org")
    assert english["Subject"] == "Black Toner will run out soon at demo kiosk"
    assert french["Subject"] == "Black Toner : bientôt épuisé sur demo kiosk"
    text = english.get_body(("plain",))
    assert text is not None and "Runs out around:" in text.get_content()
    assert "20 days of levels" in text.get_content()
    assert len(mailbox.messages) == 2
