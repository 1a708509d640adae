"""The 3D print mails (backend.notify.print3d), on SQLite and PostgreSQL: one mail per
settled job in the settlement's transaction, with what the outcome's policy charged or
refunded; a settlement resent after a lost answer records nothing twice; the nearly-done
mail from the kiosk's progress events, once per job, never after the settlement; nothing
when notifications are off, the 3D mails are off, or the user has no e-mail.

The rows are read back and rendered with the shipped templates (English and French)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from backend_fixtures import SECRET, Backend
from fastapi.testclient import TestClient
from print3d_helpers import SETUP, print3d_config, released, settle, uploaded
from sqlalchemy import select, update

from backend import ledger, print3d_jobs
from backend.app import create_app
from backend.config import BackendConfig, BackendConfigError, load_backend_config
from backend.db import Database
from backend.demo import seed_demo
from backend.demo_gcode import cube_gcode
from backend.models import Notification, Print3DJob, User
from backend.notify import templates
from backend.terminals import register_terminal

OTHER_TOKEN = "other-3d-kiosk-token-n"
ON = {"enabled": True, "from_address": "print@example.org",
      "smtp": {"host": "127.0.0.1", "port": 2525, "security": "none"}}


def config_with(db: Database, tmp_path: Path, notifications: dict[str, Any],
                **print3d: Any) -> BackendConfig:
    base = print3d_config(db, tmp_path, **print3d).model_dump(mode="json", exclude_none=True)
    return BackendConfig.model_validate({**base, "notifications": notifications})


@contextmanager
def backend_for(db: Database, tmp_path: Path, notifications: dict[str, Any] | None = None,
                **print3d: Any) -> Iterator[Backend]:
    config = config_with(db, tmp_path, ON if notifications is None else notifications,
                         **print3d)
    app = create_app(config, db, SECRET)
    seed_demo(db, SECRET, config.ledger.currency)
    with TestClient(app) as client:
        yield Backend(config, db, client)


@pytest.fixture
def site(db: Database, tmp_path: Path) -> Iterator[Backend]:
    with backend_for(db, tmp_path, {**ON, "print3d": {"collect_at": {
            "makerspace": "Room B12, shelf 3"}}}) as backend:
        yield backend


def mails(backend: Backend) -> list[Notification]:
    """The 3D mails (the user rules may add a low-balance mail for the same charge)."""
    with backend.db.read() as session:
        rows = list(session.scalars(select(Notification).where(
            Notification.kind.like("print3d_%")).order_by(Notification.id)))
        session.expunge_all()
        return rows


def rendered(row: Notification, language: str | None = None) -> templates.RenderedMail:
    return templates.render(templates.environment(), row.kind, language or row.language,
                            row.context, "Europe/Paris")


def printing_job(backend: Backend, key: str, layers: int = 4,
                 username: str = "alice") -> tuple[dict[str, Any], str]:
    job = uploaded(backend, cube_gcode(layers=layers).text, username=username,
                   filename=f"{key}.gcode")
    return job, released(backend, job, key)


def stored_size(backend: Backend, job_id: int) -> int:
    assert backend.config.print3d is not None
    return (backend.config.print3d.storage_path / f"{job_id}.gcode").stat().st_size


def test_finished_records_one_mail_with_the_charge_and_a_resend_records_none(
        site: Backend) -> None:
    job, hold = printing_job(site, "hold-n-done")
    answer = settle(site, job["job_id"], hold, "settle-n-done", "completed",
                    print_time_s=600)
    assert answer.status_code == 200, answer.text
    again = settle(site, job["job_id"], hold, "settle-n-done", "completed", print_time_s=600)
    assert again.json() == answer.json()
    other_key = settle(site, job["job_id"], hold, "settle-n-done-2", "completed")
    assert other_key.json()["code"] == "hold_settled"
    (row,) = mails(site)
    assert (row.kind, row.to_address, row.language) == ("print3d_finished",
                                                         "alice@example.org", "fr")
    assert row.dedupe_key == f"print3d_finished:{job['job_id']}"
    context = row.context
    assert (context["charged"], context["grams"], context["minutes"]) == (
        answer.json()["charged"], answer.json()["grams"], 10)
    assert context["policy"] == "full" and context["currency"] == "EUR"
    french = rendered(row)
    assert job["name"] in french.subject and "terminée" in french.subject
    charged = Decimal(answer.json()["charged"])
    assert f"{charged:.2f}".replace(".", ",") + "\xa0€" in french.text
    assert "Room B12, shelf 3" in french.text and "Room B12, shelf 3" in french.html
    english = rendered(row, "en")
    assert f"€{charged:.2f}" in english.text and "10 minutes" in english.text


@pytest.mark.parametrize(("outcome", "policies", "charged_is"), [
    ("failed", {}, "nothing"),                                   # default: refund
    ("failed", {"failure_policy": "setup_only"}, "setup"),
    ("cancelled", {}, "printed"),                                # default: charge_printed
    ("cancelled", {"cancel_policy": "refund"}, "nothing"),
])
def test_failed_and_cancelled_say_what_the_policy_charged(
        db: Database, tmp_path: Path, outcome: str, policies: dict[str, str],
        charged_is: str) -> None:
    with backend_for(db, tmp_path, **policies) as backend:
        job, hold = printing_job(backend, f"hold-n-{outcome}", layers=6)
        position = stored_size(backend, job["job_id"]) // 2
        answer = settle(backend, job["job_id"], hold, f"settle-n-{outcome}", outcome,
                        file_position=position, print_time_s=300).json()
        (row,) = mails(backend)
    assert row.kind == f"print3d_{outcome}"
    expected = {"nothing": Decimal("0.00"), "setup": SETUP,
                "printed": Decimal(answer["charged"])}[charged_is]
    assert Decimal(row.context["charged"]) == expected == Decimal(answer["charged"])
    assert row.context["policy"] == answer["policy"]
    if charged_is == "printed":
        assert expected > SETUP and Decimal(row.context["grams"]) > 0
    english = rendered(row, "en")
    if charged_is == "nothing":
        assert "refunded: nothing was charged" in english.text
        assert "rien n'a été débité" in rendered(row, "fr").text
    elif charged_is == "setup":
        assert f"only the set-up fee is charged: €{SETUP}" in english.text
    else:
        assert f"you pay for the part printed: €{expected}" in english.text
        assert f"{row.context['grams']} g" in english.text
    why = "error or lost the print" if outcome == "failed" else "at the kiosk or on the printer"
    assert why in english.text and why in english.html


def test_a_hold_expired_before_the_settlement_says_nothing_was_charged(
        site: Backend) -> None:
    job, hold = printing_job(site, "hold-n-expired")
    with site.db.write() as session:  # as the stale-hold expiry does after 7 days
        terminal_id = session.scalar(select(Print3DJob.terminal_id).where(
            Print3DJob.id == job["job_id"]))
        assert terminal_id is not None
        ledger.void(session, hold, terminal_id)
    answer = settle(site, job["job_id"], hold, "settle-n-expired", "cancelled",
                    file_position=100)
    assert answer.json()["charged"] == "0.00"
    (row,) = mails(site)
    assert row.context["reason"] == "hold_expired"
    assert "settled after its hold had expired" in rendered(row, "en").text


def test_a_job_withdrawn_before_printing_is_told_nothing_was_charged(site: Backend) -> None:
    job = uploaded(site, cube_gcode(layers=2).text)
    with site.db.write() as session:
        print3d_jobs.cancel(session, job["job_id"], "cli:admin", site.config.notifications)
    (row,) = mails(site)
    assert (row.kind, row.context["reason"], row.context["charged"]) == (
        "print3d_cancelled", "withdrawn", "0.00")
    text = rendered(row, "en").text
    assert "withdrawn before it was printed" in text and "Nothing was charged." in text


@pytest.mark.parametrize("off", ["notifications", "print3d", "no_email"])
def test_nothing_is_recorded_when_off_or_without_an_address(
        db: Database, tmp_path: Path, off: str) -> None:
    notifications = ({"enabled": False} if off == "notifications"
                     else {**ON, "print3d": {"enabled": False}} if off == "print3d" else ON)
    with backend_for(db, tmp_path, notifications) as backend:
        if off == "no_email":
            with backend.db.write() as session:
                session.execute(update(User).where(User.username == "alice").values(email=None))
        job, hold = printing_job(backend, f"hold-n-off-{off}")
        progress(backend, job["job_id"], f"evt-off-{off}", percent=99.0, time_left_s=30)
        settle(backend, job["job_id"], hold, f"settle-n-off-{off}", "completed")
        assert mails(backend) == []


def progress(backend: Backend, job_id: int, key: str, percent: float | None,
             time_left_s: int | None, token: str | None = None,
             occurred_at: datetime | None = None) -> Any:
    moment = (occurred_at or datetime.now(UTC)).isoformat()
    answer = backend.client.post("/api/v1/events", headers=backend.headers(token) if token
                                 else backend.headers(), json={"events": [{
                                     "idempotency_key": key, "kind": "print3d_progress",
                                     "occurred_at": moment, "payload": {
                                         "job_id": job_id, "percent": percent,
                                         "time_left_s": time_left_s, "file_position": 10,
                                         "print_time_s": 60}}]})
    assert answer.status_code == 200, answer.text
    return answer.json()


def test_nearly_done_once_per_job_at_the_threshold_and_never_after_the_settlement(
        db: Database, tmp_path: Path) -> None:
    with backend_for(db, tmp_path, {**ON, "print3d": {"nearly_done_minutes": 10,
                                                      "nearly_done_percent": 95}}) as backend:
        job, hold = printing_job(backend, "hold-n-near")
        job_id = job["job_id"]
        progress(backend, job_id, "evt-near-01", percent=50.0, time_left_s=3600)
        progress(backend, job_id, "evt-near-02", percent=80.0, time_left_s=None)
        assert mails(backend) == []
        with backend.db.write() as session:
            register_terminal(session, SECRET, "other kiosk", OTHER_TOKEN)
        # another kiosk cannot make mails about a job it does not print
        progress(backend, job_id, "evt-near-03", percent=96.0, time_left_s=60,
                 token=OTHER_TOKEN)
        # a report kept in the outbox past the print's own end is too late to be of use
        late = datetime.now(UTC) - timedelta(hours=2)
        progress(backend, job_id, "evt-near-04", percent=91.0, time_left_s=540,
                 occurred_at=late)
        assert mails(backend) == []
        progress(backend, job_id, "evt-near-05", percent=91.0, time_left_s=540)
        resent = progress(backend, job_id, "evt-near-05", percent=91.0, time_left_s=540)
        assert resent["duplicates"] == 1
        progress(backend, job_id, "evt-near-06", percent=97.0, time_left_s=120)
        (near,) = mails(backend)
        assert (near.kind, near.dedupe_key) == ("print3d_nearly_done",
                                                f"print3d_nearly_done:{job_id}")
        assert near.context["minutes_left"] == 9 and near.context["printer"]
        text = rendered(near, "en").text
        assert "about 9 minutes left" in text and near.context["printer"] in text
        assert "environ 9 minutes restantes" in rendered(near, "fr").text
        # by percent alone (the printer gives no time left), for another job
        other, other_hold = printing_job(backend, "hold-n-near-2", username="bob")
        settle(backend, job_id, hold, "settle-n-near", "completed")
        progress(backend, job_id, "evt-near-07", percent=99.0, time_left_s=10)
        progress(backend, other["job_id"], "evt-near-08", percent=95.0, time_left_s=None)
        rows = mails(backend)
    assert [row.kind for row in rows] == ["print3d_nearly_done", "print3d_finished",
                                          "print3d_nearly_done"]
    assert rows[-1].to_address == "bob@example.org" and other_hold
    assert "95 % printed" in rendered(rows[-1], "en").text


def test_a_progress_event_with_a_bad_payload_is_refused_naming_the_field(
        site: Backend) -> None:
    answer = site.client.post("/api/v1/events", headers=site.headers(), json={"events": [{
        "idempotency_key": "evt-bad-0001", "kind": "print3d_progress",
        "occurred_at": datetime.now(UTC).isoformat(),
        "payload": {"job_id": 0, "percent": 120}}]})
    assert answer.status_code == 422
    assert "job_id" in answer.text and "percent" in answer.text


@pytest.mark.parametrize(("line", "says"), [
    ("nearly_done_percent = 200", "nearly_done_percent: 200 is not an integer between 0 and 100"),
    ("nearly_done_minutes = -1", "nearly_done_minutes: -1 is not an integer between 0 and 1440"),
    ("nearly = 5", "notifications.print3d.nearly: unknown key"),
])
def test_the_3d_mail_settings_are_checked_naming_the_key(tmp_path: Path, line: str,
                                                         says: str) -> None:
    path = tmp_path / "backend.toml"
    path.write_text(f"[notifications.print3d]\n{line}\n", encoding="utf-8")
    with pytest.raises(BackendConfigError) as error:
        load_backend_config(path)
    assert says in str(error.value) and "backend.toml" in str(error.value)
