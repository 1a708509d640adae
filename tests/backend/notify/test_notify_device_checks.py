"""Device problems found by the backend's schedule (issue 18, device part): a kiosk that
stopped reporting, a hold left open, the daily digest; each once, even with two
schedulers running the job at the same moment."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

from backend_fixtures import start_backend, stop_backend, write_config
from device_helpers import (
    OPS,
    alert,
    device_backend,
    mails,
    post_events,
    problems,
    rendered,
)
from pg_cluster import free_port
from sqlalchemy import update

from backend.db import Database
from backend.models import Hold, Notification, Print3DJob, Terminal, utcnow
from backend.notify import devices


def _last_seen(db: Database, minutes_ago: float) -> None:
    with db.write() as session:
        session.execute(update(Terminal).values(
            last_seen_at=utcnow() - timedelta(minutes=minutes_ago)))


def _at_once(job: Callable[[], int], times: int = 2) -> list[int]:
    """``job`` from ``times`` threads released together (two backend processes' ticks)."""
    barrier = threading.Barrier(times)
    results: list[int] = []
    errors: list[BaseException] = []

    def run() -> None:
        barrier.wait()
        try:
            results.append(job())
        except BaseException as exc:  # reported by the test, not lost in the thread
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(times)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert not errors, errors
    return results


def test_a_silent_kiosk_is_one_mail_and_closes_when_seen_again(db: Database) -> None:
    with device_backend(db, heartbeat_missing_min=10) as backend:
        config = backend.config
        _last_seen(db, 5)
        assert devices.run_checks(db, config) == 0, "not silent long enough"
        _last_seen(db, 11)
        assert devices.run_checks(db, config) == 1
        assert devices.run_checks(db, config) == 0, "still silent: nothing more"
        (problem,) = problems(db)
        assert (problem.code, problem.source, problem.cleared_at) == (
            "kiosk_silent", "heartbeat", None)
        sent = mails(db, "device_problem")
        assert sorted(m.to_address for m in sent) == ["alice@example.org", OPS]
        english = next(rendered(m) for m in sent if m.language == "en")
        assert english.subject == "The kiosk stopped reporting at demo kiosk"
        assert "Last heard of:" in english.text

        backend.client.get("/api/v1/me", headers=backend.headers())  # any call: seen again
        _last_seen(db, 0)
        devices.run_checks(db, config)
        assert problems(db)[0].cleared_at is not None
        _last_seen(db, 30)
        devices.run_checks(db, config)
        assert len(problems(db)) == 2 and len(mails(db, "device_problem")) == 4


def test_a_revoked_kiosk_is_not_a_problem(db: Database) -> None:
    with device_backend(db) as backend:
        _last_seen(db, 600)
        with db.write() as session:
            session.execute(update(Terminal).values(revoked_at=utcnow()))
        assert devices.run_checks(db, backend.config) == 0
        assert problems(db) == []


def test_a_stale_hold_is_one_problem_until_it_is_settled(db: Database) -> None:
    with device_backend(db, stale_hold_h=2) as backend:
        answer = backend.client.post("/api/v1/holds", headers=backend.headers(user="bob"),
                                     json={"idempotency_key": "hold-stale-1",
                                           "username": "bob", "amount": "1.50"})
        assert answer.status_code == 201, answer.text
        hold_id = answer.json()["hold_id"]
        _last_seen(db, 0)
        assert devices.run_checks(db, backend.config) == 0, "a fresh hold is no problem"
        with db.write() as session:
            session.execute(update(Hold).values(created_at=utcnow() - timedelta(hours=3)))
        assert devices.run_checks(db, backend.config) == 1
        assert devices.run_checks(db, backend.config) == 0
        (problem,) = problems(db)
        assert (problem.code, problem.subject) == ("stale_hold", hold_id)
        french = next(rendered(m) for m in mails(db, "device_problem") if m.language == "fr")
        assert "1,50\u00a0€" in french.text and "Une réservation est toujours ouverte" in (
            french.subject)
        voided = backend.client.post(f"/api/v1/holds/{hold_id}/void",
                                     headers=backend.headers(user="bob"),
                                     json={"idempotency_key": "void-stale-1"})
        assert voided.status_code == 200, voided.text
        devices.run_checks(db, backend.config)
        assert problems(db)[0].cleared_at is not None


def test_the_hold_of_a_3d_print_in_progress_is_not_stale(db: Database) -> None:
    with device_backend(db, stale_hold_h=2) as backend:
        answer = backend.client.post("/api/v1/holds", headers=backend.headers(user="bob"),
                                     json={"idempotency_key": "hold-3d-1",
                                           "username": "bob", "amount": "1.00"})
        assert answer.status_code == 201, answer.text
        _last_seen(db, 0)
        with db.write() as session:
            hold = session.get(Hold, answer.json()["hold_id"])
            assert hold is not None
            hold.created_at = utcnow() - timedelta(hours=9)  # a nine-hour print
            session.add(Print3DJob(
                user_id=hold.user_id, group_name="mk4", name="vase.gcode",
                stored_name="x.gcode", sha256="0" * 64, size_bytes=1, format="gcode",
                grams="100", metres="33", minutes=600, grams_source="ours",
                time_source="ours", diameter_mm="1.75", density_g_cm3="1.24", ours={},
                slicer={}, flags=[], price_list="demo", price=Decimal("1.00"),
                hold_amount=Decimal("1.00"), currency="EUR", status="printing",
                hold_id=hold.id, terminal_id=hold.terminal_id, uploaded_by="bob"))
        assert devices.run_checks(db, backend.config) == 0
        with db.write() as session:
            session.execute(update(Print3DJob).values(status="failed"))
        assert devices.run_checks(db, backend.config) == 1, "no print behind it: stale"


def test_two_schedulers_at_once_open_one_problem_and_one_mail_each(db: Database) -> None:
    with device_backend(db) as backend:
        _last_seen(db, 60)
        results = _at_once(lambda: devices.run_checks(db, backend.config))
        assert sorted(results) == [0, 1]
        assert len(problems(db)) == 1
        assert sorted(m.to_address for m in mails(db, "device_problem")) == [
            "alice@example.org", OPS]


def _digest(db: Database, config: devices.BackendConfig, now: datetime) -> int:
    settings = devices.active(config)
    assert settings is not None
    with db.write() as session:
        return devices.send_digest(session, config, settings, now)


def test_the_digest_is_one_mail_a_day_listing_what_opened_and_cleared(db: Database) -> None:
    with device_backend(db, mode="digest", digest_hour=7) as backend:
        config = backend.config
        post_events(backend, alert(["jam", "doorOpen"], raised=["jam", "doorOpen"]))
        post_events(backend, alert(["jam"], cleared=["doorOpen"]))
        assert mails(db, "device_problem") == [], "digest mode: nothing at once"
        today = datetime.now(UTC).date()
        before_hour = datetime(today.year, today.month, today.day, 6, 59, tzinfo=UTC)
        assert _digest(db, config, before_hour) == 0, "not before 07:00 (UTC site)"
        at_hour = before_hour + timedelta(minutes=2)
        assert _digest(db, config, at_hour) == 2  # alice and ops
        assert _digest(db, config, at_hour + timedelta(hours=3)) == 0, "once a day"
        post_events(backend, alert([], cleared=["jam"]))
        assert _digest(db, config, at_hour + timedelta(hours=4)) == 0, "still once a day"
        digests = mails(db, "device_digest")
        assert len(digests) == 2
        english = next(rendered(m) for m in digests if m.language == "en")
        assert "Paper jam at demo kiosk" in english.text.split("New, still open:")[1]
        assert "A door or cover is open at demo kiosk" in english.text.split(
            "New and already cleared:")[1]
        assert english.subject.endswith(": 2 new, 1 open")
        french = next(rendered(m) for m in digests if m.language == "fr")
        assert "Bourrage papier" in french.text and "Nouveaux, toujours ouverts" in french.html

        # The next day: the jam cleared since the first digest is listed as cleared.
        assert _digest(db, config, at_hour + timedelta(days=1)) == 2
        last = next(rendered(m) for m in mails(db, "device_digest")[2:] if m.language == "en")
        assert "Cleared:\n- Paper jam" in last.text and "New, still open" not in last.text


def test_two_schedulers_record_one_digest_per_administrator(db: Database) -> None:
    with device_backend(db, mode="digest", digest_hour=0) as backend:
        post_events(backend, alert(["jam"], raised=["jam"]))
        post_events(backend, alert(["jam", "noPaper"], raised=["noPaper"]))
        now = datetime.now(UTC)
        results = _at_once(lambda: _digest(db, backend.config, now))
        assert sum(results) == 2
        digests = mails(db, "device_digest")
        assert sorted(m.to_address for m in digests) == ["alice@example.org", OPS]
        assert all(isinstance(m, Notification) and len(m.context["opened"]) == 2
                   for m in digests)


def test_two_backend_processes_schedule_the_checks_and_mail_a_silent_kiosk_once(
        db: Database, tmp_path: Path) -> None:
    with device_backend(db) as backend:
        url = backend.db.engine.url.render_as_string(hide_password=False)
        _last_seen(db, 60)  # the demo kiosk went quiet an hour ago
        settings = ('[notifications]\nenabled = true\nfrom_address = "print@example.org"\n'
                    f'admin_addresses = ["{OPS}"]\n\n[notifications.smtp]\n'
                    'host = "127.0.0.1"\n\n[notifications.devices]\ncheck_interval_s = 1\n')
        processes = [start_backend(write_config(tmp_path / f"b{n}.toml", url, free_port(),
                                                settings)) for n in range(2)]
        try:
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline and not problems(db):
                time.sleep(0.2)
            time.sleep(2.5)  # more ticks of both: nothing more to do
        finally:
            for process in processes:
                stop_backend(process)
    assert [(p.code, p.cleared_at) for p in problems(db)] == [("kiosk_silent", None)]
    assert sorted(m.to_address for m in mails(db, "device_problem")) == [
        "alice@example.org", OPS]


def test_a_kiosks_heartbeat_counts_as_seen(db: Database) -> None:
    """The kiosk's heartbeat is GET /health with its token (terminal/backend_client.py):
    an idle kiosk that only beats is not silent."""
    with device_backend(db, heartbeat_missing_min=10) as backend:
        _last_seen(db, 30)
        assert backend.client.get("/api/v1/health").json() == {"status": "ok"}
        assert backend.client.get("/api/v1/health", headers={
            "Authorization": "Bearer not-a-token"}).json() == {"status": "ok"}
        assert devices.run_checks(db, backend.config) == 1, "no token: not seen"
        assert backend.client.get("/api/v1/health", headers=backend.headers()).json() == {
            "status": "ok"}
        devices.run_checks(db, backend.config)
        assert problems(db)[0].cleared_at is not None
