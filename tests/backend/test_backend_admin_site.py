"""The rules behind the console's site pages (admin_site), on SQLite and PostgreSQL:
uploaded price lists (validation, the period they take effect from, precedence over the
files, every process's price book following the database), enrolment keys with expiry
and revocation, open holds expired by choice or by age, and the refill status."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from backend_fixtures import SECRET, Backend
from sqlalchemy import select, update

from backend import holds_admin, price_uploads, refill_status
from backend.config import PricingSettings
from backend.db import Database
from backend.ledger import LedgerError
from backend.migrate import upgrade
from backend.models import AuditEntry, EnrolmentKey, Group, Hold, QuotaRule, utcnow
from backend.refill import refill_due
from backend.terminals import create_enrolment_key, enrol, key_state, revoke_enrolment_key
from billing import AccountingPeriods, PricingContext

FILE_LIST = """[price_list]
name = "File default"
currency = "EUR"
scope = "default"
effective_from = 2026-01-01

[print]
mono = { A4 = "0.10" }
"""
UPLOAD = """[price_list]
name = "Uploaded default"
currency = "EUR"
scope = "default"
effective_from = 2020-01-01

[print]
mono = { A4 = "0.07" }
"""


@pytest.fixture(autouse=True)
def _schema(db: Database) -> None:
    upgrade(db.engine)


def _settings(tmp_path: Path, start_day: int = 15) -> PricingSettings:
    folder = tmp_path / "lists"
    folder.mkdir(exist_ok=True)
    (folder / "default.toml").write_text(FILE_LIST, encoding="utf-8")
    return PricingSettings(price_lists_dir=str(folder), period_start_day=start_day)


def _store(db: Database, settings: PricingSettings, text: str, today: date,
           name: str = "up.toml") -> int:
    with db.write() as session:
        row = price_uploads.store(session, settings, text=text, filename=name,
                                  currency="EUR", actor="staff:admin", origin="web:x",
                                  today=today)
        return row.id


def test_a_bad_list_is_refused_with_every_problem_and_nothing_stored(db: Database,
                                                                     tmp_path: Path) -> None:
    bad = FILE_LIST.replace('"0.10"', "0.10").replace('scope = "default"', 'scope = "room"')
    with pytest.raises(price_uploads.Invalid) as refused:
        _store(db, _settings(tmp_path), bad, date(2026, 12, 2), "bad.toml")
    found = {(p.file, p.key, p.value) for p in refused.value.problems}
    assert found == {("bad.toml", "price_list.scope", "room"),
                     ("bad.toml", "print.mono.A4", 0.1)}
    assert "bad.toml: print.mono.A4: 0.1 must be a decimal amount" in str(refused.value)
    with pytest.raises(price_uploads.Invalid, match="site's currency"):
        _store(db, _settings(tmp_path), FILE_LIST.replace("EUR", "CHF"), date(2026, 12, 2))
    with db.read() as session:
        assert price_uploads.versions(session) == []
        assert session.scalars(select(AuditEntry).where(
            AuditEntry.action == "price_list.upload")).first() is None


def test_an_upload_applies_from_the_start_of_the_current_period(db: Database,
                                                                tmp_path: Path) -> None:
    settings = _settings(tmp_path, start_day=15)
    _store(db, settings, UPLOAD, date(2026, 12, 2))  # the period began on 15 November
    live = price_uploads.LivePrices(db, settings)
    catalogue = live.current()
    assert catalogue is not None
    anyone = PricingContext()
    assert catalogue.book.select(anyone, date(2026, 11, 15)).name == "Uploaded default"
    assert catalogue.book.select(anyone, date(2026, 11, 14)).name == "File default"
    with db.read() as session:
        (row,) = price_uploads.versions(session)
        audit = session.scalars(select(AuditEntry).where(
            AuditEntry.action == "price_list.upload")).one()
    assert row.effective_from == date(2026, 11, 15) and row.uploaded_by == "staff:admin"
    assert (audit.actor, audit.origin, audit.subject) == ("staff:admin", "web:x", str(row.id))


def test_a_list_for_a_later_day_keeps_its_day(db: Database, tmp_path: Path) -> None:
    settings = _settings(tmp_path, start_day=1)
    later = UPLOAD.replace("2020-01-01", "2027-02-01")
    _store(db, settings, later, date(2026, 12, 2))
    catalogue = price_uploads.LivePrices(db, settings).current()
    assert catalogue is not None
    assert catalogue.book.select(PricingContext(), date(2026, 12, 31)).name == "File default"
    assert catalogue.book.select(PricingContext(), date(2027, 2, 1)).name == "Uploaded default"


def test_every_process_follows_the_latest_upload(db: Database, tmp_path: Path) -> None:
    settings = _settings(tmp_path, start_day=1)
    first, second = (price_uploads.LivePrices(db, settings) for _ in "ab")
    today = date.today()
    for live in (first, second):
        catalogue = live.current()
        assert catalogue is not None
        assert catalogue.book.select(PricingContext(), today).name == "File default"
    _store(db, settings, UPLOAD, today)  # through neither of them: another process
    _store(db, settings, UPLOAD.replace("Uploaded default", "Second upload"), today)
    for live in (first, second):
        catalogue = live.current()
        assert catalogue is not None
        chosen = catalogue.book.select(PricingContext(), today)
        assert chosen.name == "Second upload"
        assert catalogue.source_of(chosen).text.count("Second upload") == 1
    assert first.current() is first.current()  # no rebuild while nothing changed


def test_uploads_alone_price_a_site_without_a_directory(db: Database) -> None:
    settings = PricingSettings()
    assert price_uploads.LivePrices(db, settings).current() is None
    _store(db, settings, UPLOAD, date.today())
    catalogue = price_uploads.LivePrices(db, settings).current()
    assert catalogue is not None
    start = AccountingPeriods(1).start_of(date.today())
    assert catalogue.book.select(PricingContext(), start).name == "Uploaded default"


def test_enrolment_keys_expire_and_an_unused_one_can_be_revoked(db: Database) -> None:
    with db.write() as session:
        soon = create_enrolment_key(session, SECRET, "staff:admin",
                                    expires_at=utcnow() + timedelta(hours=1), origin="web:x")
        spare = create_enrolment_key(session, SECRET, "staff:admin",
                                     expires_at=utcnow() + timedelta(days=2))
        with pytest.raises(LedgerError, match="future"):
            create_enrolment_key(session, SECRET, "staff:admin",
                                 expires_at=utcnow() - timedelta(seconds=1))
        with pytest.raises(LedgerError, match="90 days"):
            create_enrolment_key(session, SECRET, "staff:admin",
                                 expires_at=utcnow() + timedelta(days=91))
    with db.write() as session:
        session.execute(update(EnrolmentKey).where(EnrolmentKey.id == 1)
                        .values(expires_at=utcnow() - timedelta(seconds=1)))
        keys = {k.id: k for k in session.scalars(select(EnrolmentKey))}
        assert key_state(keys[1]) == "expired" and key_state(keys[2]) == "unused"
    with db.write() as session, pytest.raises(LedgerError) as expired:
        enrol(session, SECRET, soon, "late kiosk")
    assert expired.value.code == "enrolment_key_invalid"
    with db.write() as session:
        revoke_enrolment_key(session, 2, "staff:admin", "web:x")
    with db.write() as session, pytest.raises(LedgerError) as revoked:
        enrol(session, SECRET, spare, "kiosk")
    assert revoked.value.code == "enrolment_key_invalid"
    with db.write() as session, pytest.raises(LedgerError, match="is revoked"):
        revoke_enrolment_key(session, 2, "staff:admin")
    with db.read() as session:
        audit = session.scalars(select(AuditEntry).where(
            AuditEntry.action == "enrolment_key.revoke")).one()
    assert (audit.actor, audit.origin, audit.subject) == ("staff:admin", "web:x", "2")


def _open_hold(backend: Backend, username: str, age: timedelta) -> str:
    import uuid

    answer = backend.client.post("/api/v1/holds", headers=backend.headers(user=username), json={
        "idempotency_key": uuid.uuid4().hex, "username": username, "amount": "0.50"})
    assert answer.status_code == 201, answer.text
    hold_id = str(answer.json()["hold_id"])
    with backend.db.write() as session:
        session.execute(update(Hold).where(Hold.id == hold_id)
                        .values(created_at=utcnow() - age))
    return hold_id


def test_open_holds_are_listed_oldest_first_and_expired_by_choice_or_age(
        backend: Backend) -> None:
    young = _open_hold(backend, "alice", timedelta(minutes=5))
    old = _open_hold(backend, "bob", timedelta(hours=30))
    older = _open_hold(backend, "carol", timedelta(hours=50))
    with backend.db.read() as session:
        listed = holds_admin.open_holds(session)
    assert [h.id for h in listed] == [older, old, young]
    assert listed[0].username == "carol" and listed[0].amount == Decimal("0.50")
    with backend.db.write() as session, pytest.raises(LedgerError):
        holds_admin.expire_older_than(session, 0, "staff:admin", "web:x")
    with backend.db.write() as session:
        assert holds_admin.expire_older_than(session, 40, "staff:admin", "web:x") == [older]
    with backend.db.write() as session:
        assert holds_admin.expire_chosen(session, [young, older], "staff:admin",
                                         "web:x") == [young]
    with backend.db.read() as session:
        assert [h.id for h in holds_admin.open_holds(session)] == [old]
        audits = session.scalars(select(AuditEntry).where(
            AuditEntry.action == "hold.expire")).all()
    assert sorted((a.subject, a.origin) for a in audits) == sorted(
        [(older, "web:x"), (young, "web:x")])


def test_the_refill_status_says_what_is_due_and_when_next(db: Database) -> None:
    with db.write() as session:
        group = Group(name="interns")
        session.add(group)
        session.flush()
        session.add(QuotaRule(group_id=group.id, period="weekly", amount=Decimal("3"),
                              carry_over_cap=Decimal("9")))
    wednesday = datetime(2026, 12, 2, 10, 30, tzinfo=UTC)
    with db.read() as session:
        (status,) = refill_status.rule_status(session, wednesday)
    assert status.refilled_at is None and refill_status.due_now([status]) == 1
    assert status.next_due == datetime(2026, 12, 7, tzinfo=UTC)
    with db.write() as session:
        refill_due(session, "EUR", wednesday)
    with db.read() as session:
        (status,) = refill_status.rule_status(session, wednesday)
        assert [run.period for run in refill_status.last_runs(session)] == [status.current_key]
    assert status.refilled_at is not None and refill_status.due_now([status]) == 0
    assert refill_status.next_period_start("monthly", datetime(2026, 12, 31, tzinfo=UTC)) == \
        datetime(2027, 1, 1, tzinfo=UTC)
