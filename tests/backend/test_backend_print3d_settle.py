"""3D jobs at the kiosk: list (user session), claim under a hold, download, settle.

Settlement measures the filament up to the reported file position in the backend's own
copy (``analysis.filament_up_to``), prices it with the time, caps it at the hold, and
applies the outcome's policy; a resend with the same key gets the first answer, and two
concurrent settlements of one hold settle it once (threads, SQLite and PostgreSQL)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

import pytest
from backend_fixtures import SECRET, Backend
from print3d_helpers import (
    PER_GRAM,
    PER_HOUR,
    SETUP,
    backend_with,
    claim,
    hold_for,
    released,
    settle,
    uploaded,
)
from sqlalchemy import func, select

from analysis import filament_up_to, grams_of
from backend.db import Database
from backend.demo_gcode import cube_gcode
from backend.models import AuditEntry, Hold, LedgerTransaction, Print3DJob
from backend.terminals import register_terminal

OTHER_TOKEN = "other-3d-kiosk-token"


def money(value: Decimal) -> Decimal:
    return value.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


@pytest.fixture
def printing(db: Database, tmp_path: Path) -> Iterator[Backend]:
    with backend_with(db, tmp_path) as backend:
        yield backend


def balance(backend: Backend, username: str = "alice") -> dict[str, str]:
    return dict(backend.client.get(f"/api/v1/users/{username}/balance",
                                   headers=backend.headers(user=username)).json())


def charges(backend: Backend) -> int:
    with backend.db.read() as session:
        return int(session.scalar(select(func.count()).select_from(LedgerTransaction)
                                  .where(LedgerTransaction.kind == "charge")) or 0)


def stored_path(backend: Backend, job_id: int) -> Path:
    assert backend.config.print3d is not None
    return backend.config.print3d.storage_path / f"{job_id}.gcode"


def test_listing_needs_the_users_session_and_shows_ready_and_printing(
        printing: Backend) -> None:
    first = uploaded(printing, cube_gcode(layers=2).text, filename="first.gcode")
    second = uploaded(printing, cube_gcode(layers=3).text, filename="second.gcode")
    uploaded(printing, cube_gcode(layers=2).text, username="bob")
    released(printing, first, "hold-list-1")
    path = "/api/v1/print3d/jobs?username=alice&group=makerspace"
    assert printing.client.get(path, headers=printing.headers()).status_code == 401
    assert printing.client.get(path, headers={
        **printing.headers(), "X-Printkiosk-Session": printing.session_for("bob")}
    ).status_code == 403
    jobs = printing.client.get(path, headers=printing.headers(user="alice")).json()["jobs"]
    assert [(j["name"], j["status"]) for j in jobs] == [("second.gcode", "ready"),
                                                      ("first.gcode", "printing")]
    assert jobs[0]["job_id"] == second["job_id"]
    other = printing.client.get("/api/v1/print3d/jobs?username=alice&group=nowhere",
                                headers=printing.headers(user="alice"))
    assert other.status_code == 404 and other.json()["code"] == "print3d_group_unknown"


def test_claim_checks_the_hold(printing: Backend) -> None:
    job = uploaded(printing, cube_gcode(layers=2).text)
    other_job = uploaded(printing, cube_gcode(layers=3).text)
    wrong_ref = hold_for(printing, job, "hold-claim-ref", job_ref=f"print3d:{other_job['job_id']}")
    refused = claim(printing, job["job_id"], wrong_ref)
    assert refused.status_code == 409 and refused.json()["code"] == "print3d_hold_invalid"
    too_small = hold_for(printing, job, "hold-claim-small", amount="0.10")
    assert claim(printing, job["job_id"], too_small).json()["code"] == "print3d_hold_invalid"
    bobs = uploaded(printing, cube_gcode(layers=2).text, username="bob")
    bob_hold = hold_for(printing, bobs, "hold-claim-bob")
    assert claim(printing, job["job_id"], bob_hold).json()["code"] == "print3d_hold_invalid"
    with printing.db.write() as session:
        register_terminal(session, SECRET, "other kiosk", OTHER_TOKEN)
    good = hold_for(printing, job, "hold-claim-good")
    assert claim(printing, job["job_id"], good, OTHER_TOKEN).json()["code"] == \
        "print3d_hold_invalid"
    first = claim(printing, job["job_id"], good)
    assert first.status_code == 200 and first.json()["status"] == "printing"
    again = claim(printing, job["job_id"], good)
    assert again.status_code == 200 and again.json() == first.json()
    another = hold_for(printing, job, "hold-claim-another")
    busy = claim(printing, job["job_id"], another)
    assert busy.status_code == 409 and busy.json()["code"] == "print3d_not_ready"


def test_a_flagged_job_cannot_be_claimed(printing: Backend) -> None:
    job = uploaded(printing, cube_gcode(printer_model="MK3S").text)
    hold_id = hold_for(printing, job, "hold-flagged")
    refused = claim(printing, job["job_id"], hold_id)
    assert refused.status_code == 409 and refused.json()["code"] == "print3d_flagged"


def test_gcode_goes_only_to_the_terminal_printing_it(printing: Backend) -> None:
    cube = cube_gcode(layers=2)
    job = uploaded(printing, cube.text)
    path = f"/api/v1/print3d/jobs/{job['job_id']}/gcode"
    assert printing.client.get(path, headers=printing.headers()).json()["code"] == \
        "print3d_not_claimed"
    released(printing, job, "hold-gcode")
    answer = printing.client.get(path, headers=printing.headers())
    assert answer.status_code == 200
    assert answer.headers["content-type"] == "application/octet-stream"
    assert answer.content == cube.text.encode()
    with printing.db.write() as session:
        register_terminal(session, SECRET, "other kiosk", OTHER_TOKEN)
    assert printing.client.get(path, headers=printing.headers(OTHER_TOKEN)).status_code == 409


def naive_mm_up_to(path: Path, position: int) -> Decimal:
    """The E of the generated (relative-E) file's moves read whole before ``position``:
    an oracle independent of the analyser."""
    total, read = Decimal(0), 0
    for line in path.read_bytes().splitlines(keepends=True):
        read += len(line)
        if read > position:
            break
        words = line.split(b";")[0].split()
        if words and words[0] in (b"G0", b"G1"):
            total += sum((Decimal(w[1:].decode()) for w in words if w.startswith(b"E")),
                         Decimal(0))
    return total


def _printed(backend: Backend, job: dict[str, Any], position: int, minutes: int) -> Decimal:
    """What charge_printed must charge: the filament up to the position, priced."""
    path = stored_path(backend, job["job_id"])
    mm = sum(filament_up_to(path, position), Decimal(0))
    assert abs(mm - naive_mm_up_to(path, position)) <= Decimal("0.05")  # one move at most
    grams = grams_of(mm, Decimal("1.75"), Decimal("1.24")).quantize(Decimal("0.01"))
    return money(SETUP + grams * PER_GRAM + PER_HOUR * minutes / 60)


def test_completed_print_is_charged_in_full_for_the_time_it_took(printing: Backend) -> None:
    job = uploaded(printing, cube_gcode().text)
    hold_id = released(printing, job, "hold-complete")
    before = balance(printing)
    # The position says 10 bytes: a completed print is the whole file whatever it says.
    done = settle(printing, job["job_id"], hold_id, "settle-complete-1", "completed",
                  file_position=10, print_time_s=121, printer_filament_mm="812.5")
    assert done.status_code == 200, done.text
    body = done.json()
    expected = money(SETUP + Decimal(job["grams"]) * PER_GRAM + PER_HOUR * 3 / 60)
    assert (body["outcome"], body["policy"], body["minutes"]) == ("completed", "full", 3)
    assert Decimal(body["grams"]) == Decimal(job["grams"])
    assert Decimal(body["charged"]) == expected
    assert body["hold"]["status"] == "captured"
    assert Decimal(body["balance"]["available"]) == (
        Decimal(before["available"]) + Decimal(job["hold_amount"]) - expected)
    again = settle(printing, job["job_id"], hold_id, "settle-complete-1", "completed",
                   file_position=10, print_time_s=121, printer_filament_mm="812.5")
    assert again.status_code == 200 and again.json() == body
    assert charges(printing) == 1
    with printing.db.read() as session:
        row = session.get_one(Print3DJob, job["job_id"])
        assert (row.status, row.outcome, row.policy, row.charged) == (
            "completed", "completed", "full", expected)
        assert (row.charged_grams, row.charged_minutes, row.printer_filament_mm) == (
            job["grams"], 3, "812.5")
        audit = session.scalars(select(AuditEntry).where(
            AuditEntry.action == "print3d.settle")).one()
        assert audit.details is not None and audit.details["policy"] == "full"


def test_a_long_print_is_capped_at_the_hold(printing: Backend) -> None:
    job = uploaded(printing, cube_gcode().text)
    hold_id = released(printing, job, "hold-capped")
    done = settle(printing, job["job_id"], hold_id, "settle-cap", "completed",
                  print_time_s=100 * 3600)
    assert done.json()["charged"] == job["hold_amount"]


def test_not_started_voids_and_puts_the_job_back(printing: Backend) -> None:
    job = uploaded(printing, cube_gcode().text)
    hold_id = released(printing, job, "hold-notstarted")
    done = settle(printing, job["job_id"], hold_id, "settle-notstarted", "not_started")
    assert done.status_code == 200, done.text
    assert (done.json()["policy"], done.json()["charged"]) == ("refund", "0.00")
    assert done.json()["hold"]["status"] == "voided"
    listed = printing.client.get("/api/v1/print3d/jobs?username=alice&group=makerspace",
                                 headers=printing.headers(user="alice")).json()["jobs"]
    assert [j["status"] for j in listed] == ["ready"]
    released(printing, job, "hold-notstarted-again")  # it can be released again


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
@pytest.mark.parametrize(("outcome", "policy"), [
    ("cancelled", "charge_printed"), ("cancelled", "refund"), ("cancelled", "setup_only"),
    ("failed", "charge_printed"), ("failed", "refund"), ("failed", "setup_only"),
])
def test_each_outcome_and_policy(db: Database, tmp_path: Path, outcome: str,
                                 policy: str) -> None:
    key = "cancel_policy" if outcome == "cancelled" else "failure_policy"
    with backend_with(db, tmp_path, **{key: policy}) as backend:
        _check_policy(backend, outcome, policy)


@pytest.mark.parametrize(("outcome", "policy"), [("cancelled", "charge_printed"),
                                                 ("failed", "refund")])
def test_the_main_policies_on_both_databases(db: Database, tmp_path: Path, outcome: str,
                                             policy: str) -> None:
    key = "cancel_policy" if outcome == "cancelled" else "failure_policy"
    with backend_with(db, tmp_path, **{key: policy}) as backend:
        _check_policy(backend, outcome, policy)


def _check_policy(backend: Backend, outcome: str, policy: str) -> None:
    job = uploaded(backend, cube_gcode().text)
    hold_id = released(backend, job, "hold-policy")
    size = stored_path(backend, job["job_id"]).stat().st_size
    position = size // 2
    done = settle(backend, job["job_id"], hold_id, "settle-policy", outcome,
                  file_position=position, print_time_s=59)
    assert done.status_code == 200, done.text
    body = done.json()
    assert (body["outcome"], body["policy"]) == (outcome, policy)
    if policy == "charge_printed":
        assert Decimal(body["charged"]) == _printed(backend, job, position, 1)
        assert 0 < Decimal(body["grams"]) < Decimal(job["grams"])
        assert body["hold"]["status"] == "captured"
    elif policy == "setup_only":
        assert Decimal(body["charged"]) == SETUP and body["grams"] == "0.00"
        assert body["hold"]["status"] == "captured"
    else:
        assert body["charged"] == "0.00" and body["hold"]["status"] == "voided"
    with backend.db.read() as session:
        row = session.get_one(Print3DJob, job["job_id"])
        assert (row.status, row.outcome, row.policy) == (outcome, outcome, policy)
        assert row.charged == Decimal(body["charged"])


def test_min_charge_fraction_is_the_floor_of_a_partial_charge(db: Database,
                                                              tmp_path: Path) -> None:
    with backend_with(db, tmp_path, min_charge_fraction="0.9") as backend:
        job = uploaded(backend, cube_gcode(size_mm=40, layers=200).text)
        hold_id = released(backend, job, "hold-floor-1")
        done = settle(backend, job["job_id"], hold_id, "settle-floor", "cancelled",
                      file_position=100, print_time_s=10)
    # Printed: the set-up fee and a minute (1.01); the floor is 90 % of the price.
    assert Decimal(done.json()["charged"]) == money(Decimal(job["price"]) * Decimal("0.9"))
    assert Decimal(done.json()["charged"]) > Decimal("1.01")


def test_settle_names_the_hold_it_claimed(printing: Backend) -> None:
    job = uploaded(printing, cube_gcode().text)
    released(printing, job, "hold-right-one")
    other = hold_for(printing, job, "hold-wrong-one")
    refused = settle(printing, job["job_id"], other, "settle-wrong", "completed")
    assert refused.status_code == 409 and refused.json()["code"] == "print3d_not_ready"
    with printing.db.read() as session:
        assert session.get_one(Hold, other).status == "open"


@pytest.mark.parametrize("same_key", [True, False], ids=["same-key", "two-keys"])
def test_two_concurrent_settlements_settle_once(printing: Backend, same_key: bool) -> None:
    job = uploaded(printing, cube_gcode().text)
    hold_id = released(printing, job, "hold-racing")
    barrier = threading.Barrier(2)
    answers: list[Any] = [None, None]

    def send(index: int) -> None:
        barrier.wait()
        key = "settle-race" if same_key else f"settle-race-{index}"
        answers[index] = settle(printing, job["job_id"], hold_id, key, "completed",
                                print_time_s=120)

    threads = [threading.Thread(target=send, args=(n,)) for n in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    statuses = sorted(answer.status_code for answer in answers)
    if same_key:
        assert statuses == [200, 200] and answers[0].json() == answers[1].json()
    else:
        assert statuses == [200, 409]
        assert next(a for a in answers if a.status_code == 409).json()["code"] == \
            "hold_settled"
    assert charges(printing) == 1


def test_the_hold_of_a_print_in_progress_outlives_the_stale_hold_expiry(
        printing: Backend) -> None:
    from datetime import timedelta

    from sqlalchemy import update

    from backend.holds_expiry import PRINTING_MAX_AGE, expire_stale_holds
    from backend.models import utcnow

    job = uploaded(printing, cube_gcode().text)
    hold_id = released(printing, job, "hold-long-print")
    idle = hold_for(printing, uploaded(printing, cube_gcode(layers=2).text), "hold-idle-one")
    with printing.db.write() as session:
        session.execute(update(Hold).values(created_at=utcnow() - timedelta(hours=30)))
    assert expire_stale_holds(printing.db, timedelta(hours=24), actor="test") == [idle]
    done = settle(printing, job["job_id"], hold_id, "settle-long-print", "completed",
                  print_time_s=30 * 3600)
    assert done.status_code == 200 and done.json()["hold"]["status"] == "captured"
    # A kiosk that died mid-print does not block the credit for ever.
    other = uploaded(printing, cube_gcode(layers=3).text, username="bob")
    stuck = released(printing, other, "hold-stuck-print")
    with printing.db.write() as session:
        session.execute(update(Hold).where(Hold.id == stuck).values(
            created_at=utcnow() - PRINTING_MAX_AGE - timedelta(hours=1)))
    assert expire_stale_holds(printing.db, timedelta(hours=24), actor="test") == [stuck]
    late = settle(printing, other["job_id"], stuck, "settle-stuck-print", "completed")
    assert late.status_code == 200, late.text
    assert (late.json()["policy"], late.json()["charged"]) == ("refund", "0.00")
    assert late.json()["hold"]["status"] == "voided"
    with printing.db.read() as session:
        assert session.get_one(Print3DJob, other["job_id"]).status == "completed"


def test_a_job_id_out_of_range_is_refused_not_a_crash(printing: Backend) -> None:
    huge = 2**70
    answer = claim(printing, huge, "abc")
    assert answer.status_code == 422 and answer.json()["code"] == "invalid_request"
    unknown = claim(printing, 123456, "abc")
    assert unknown.status_code == 404 and unknown.json()["code"] == "print3d_job_unknown"
