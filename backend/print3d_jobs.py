"""3D jobs: upload (store, analyse, price, flag), listing, claim, settlement, cancel.

Everything here runs for the API and for ``printkiosk 3d`` alike; the caller names the
actor (``terminal:<id>`` or ``cli:<user>``) that the audit log records. Refusals are
:class:`LedgerError` with the API's stable codes (``backend.api.deps.STATUS_OF_CODE``).

Settlement (docs/print3d-backend.md): the kiosk reports how the print ended and the
last file position the printer reported; the backend measures the filament extruded up
to that position in its own copy of the file (``analysis.filament_up_to``), prices it
with the time, caps it at the hold and applies the policy of the outcome:

=============  ==========================================================
completed      ``full``: the whole file's grams (whatever the position says) + time
cancelled      ``[print3d] cancel_policy``
failed         ``[print3d] failure_policy``
not_started    the hold is voided and the job is ready again
=============  ==========================================================

``charge_printed`` charges the grams up to the position + the time + the set-up fee
(at least ``min_charge_fraction`` of the full price); ``refund`` voids the hold;
``setup_only`` captures the set-up fee.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, date
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from analysis import GcodeAnalysis, filament_up_to, grams_of
from backend import ledger
from backend.audit import record
from backend.config import NotificationSettings, Print3DGroup, Print3DSettings
from backend.ledger import LedgerError
from backend.models import Hold, Print3DJob, User, utcnow
from backend.money import fmt
from backend.notify import print3d as notify
from backend.pricing import PriceCatalogue, device_context
from backend.print3d_analysis import (
    flags_of,
    grams_with,
    material_of,
    ours_json,
    slicer_json,
)
from backend.print3d_store import JobFiles
from billing import NoPriceList, PriceList, PricingError, Quote, price, round_money
from billing import Print3DJob as Priced

LISTED = ("ready", "printing")
GRAMS = Decimal("0.01")


def job_ref(job_id: int) -> str:
    """The ``job_ref`` of the hold a kiosk takes for a job (the claim checks it)."""
    return f"print3d:{job_id}"


def minutes_of(seconds: int) -> int:
    """Whole minutes, rounded up: a 90 s print is 2 minutes of printer time."""
    return math.ceil(max(seconds, 0) / 60)


# --- pricing -------------------------------------------------------------------------

def price_list_for(catalogue: PriceCatalogue | None, session: Session, user: User,
                   group: Print3DGroup) -> PriceList:
    """The list that prices the user's prints on this group's printers (the group is the
    device, its printer model the device model), which must price 3D printing."""
    if catalogue is None:
        raise LedgerError("print3d_not_priced", "the backend has no pricing.price_lists_dir")
    try:
        chosen = catalogue.book.select(
            device_context(session, user, group.name, group.printer_model), date.today())
    except NoPriceList as exc:
        raise LedgerError("print3d_not_priced", str(exc)) from exc
    if chosen.print3d is None:
        raise LedgerError("print3d_not_priced",
                          f"price list {chosen.name!r} of {user.username} has no [print3d] "
                          "prices")
    return chosen


def quote(price_list: PriceList, material: str, grams: Decimal, minutes: int) -> Quote:
    try:
        return price(Priced(material, grams, Decimal(minutes)), price_list)
    except PricingError as exc:
        raise LedgerError("print3d_not_priced", str(exc)) from exc


def hold_amount(price_list: PriceList, total: Decimal, minutes: int, margin: Decimal) -> Decimal:
    """The price plus the margin on printer time: a print runs longer than estimated."""
    assert price_list.print3d is not None
    extra = price_list.print3d.per_hour * Decimal(minutes) / 60 * margin
    return round_money(total + extra, price_list.currency).amount


# --- upload --------------------------------------------------------------------------

@dataclass(frozen=True)
class Upload:
    """A received file, analysed, waiting to become a job: the temporary file of the
    text G-code (``text``) and of the bgcode original when there is one."""

    name: str
    format: str
    text: Path
    original: Path | None
    sha256: str
    size_bytes: int
    analysis: GcodeAnalysis


def group_of(settings: Print3DSettings | None, name: str) -> Print3DGroup:
    if settings is None:
        raise LedgerError("print3d_not_configured", "the backend has no [print3d] section")
    group = settings.group(name)
    if group is None:
        known = ", ".join(g.name for g in settings.groups)
        raise LedgerError("print3d_group_unknown",
                          f"no 3D printer group {name!r} (groups: {known})")
    return group


def user_named(session: Session, username: str) -> User:
    user = session.scalar(select(User).where(User.username == username))
    if user is None:
        raise LedgerError("user_unknown", f"no user {username!r}")
    return user


def check_room(session: Session, settings: Print3DSettings, user: User) -> None:
    """Refuse a job beyond ``max_jobs_per_user`` ready ones."""
    ready = session.scalar(select(func.count()).select_from(Print3DJob).where(
        Print3DJob.user_id == user.id, Print3DJob.status == "ready")) or 0
    if ready >= settings.max_jobs_per_user:
        raise LedgerError("print3d_too_many_jobs",
                          f"{user.username} already has {ready} jobs waiting (at most "
                          f"{settings.max_jobs_per_user}); print or cancel one first")


def create_job(session: Session, settings: Print3DSettings, catalogue: PriceCatalogue | None,
               files: JobFiles, upload: Upload, username: str, group_name: str,
               currency: str, actor: str) -> Print3DJob:
    """Insert the job and install its files under their final names, in the caller's
    transaction (the caller commits, and removes the files if the commit fails)."""
    group = group_of(settings, group_name)
    user = ledger.lock_user(session, user_named(session, username).id)
    if user.status != "active":
        raise LedgerError("user_disabled", f"user {user.username} is disabled")
    check_room(session, settings, user)
    analysis = upload.analysis
    material = material_of(analysis, group)
    density, grams = grams_with(analysis, group, material)
    minutes = minutes_of(analysis.time_s)
    chosen = price_list_for(catalogue, session, user, group)
    priced = quote(chosen, material, grams, minutes)
    if priced.currency != currency:
        raise LedgerError("print3d_not_priced", f"price list {chosen.name!r} is in "
                          f"{priced.currency}, the ledger in {currency}")
    job = Print3DJob(
        user_id=user.id, group_name=group.name, name=upload.name[:255], stored_name="",
        sha256=upload.sha256, size_bytes=upload.size_bytes, format=upload.format,
        material=material, grams=str(grams),
        metres=str((analysis.total_mm / 1000).quantize(GRAMS)), minutes=minutes,
        grams_source=analysis.grams_source, time_source=analysis.time_source,
        diameter_mm=str(analysis.diameter_mm), density_g_cm3=str(density),
        ours=ours_json(analysis, density, grams), slicer=slicer_json(analysis),
        flags=[flag.as_json() for flag in flags_of(analysis, group)],
        price_list=chosen.name, price=priced.total.amount,
        hold_amount=hold_amount(chosen, priced.total.amount, minutes,
                                Decimal(settings.time_margin)),
        currency=currency, status="ready", uploaded_by=actor,
    )
    session.add(job)
    session.flush()
    job.stored_name = f"{job.id}.gcode"
    if upload.original is not None:
        job.original_name = f"{job.id}.bgcode"
    record(session, actor, "print3d.upload", job_ref(job.id),
           {"user": user.username, "group": group.name, "name": job.name,
            "sha256": job.sha256, "size_bytes": job.size_bytes, "grams": job.grams,
            "minutes": minutes, "price": fmt(job.price), "flags": [f["code"] for f in job.flags]})
    session.flush()
    files.install(upload.text, job.stored_name)
    if upload.original is not None and job.original_name is not None:
        files.install(upload.original, job.original_name)
    return job


# --- reading ---------------------------------------------------------------------------

def job_json(session: Session, job: Print3DJob) -> dict[str, Any]:
    user = session.get(User, job.user_id)
    assert user is not None
    return {
        "job_id": job.id, "name": job.name, "username": user.username, "group": job.group_name,
        "status": job.status, "format": job.format, "material": job.material,
        "grams": job.grams, "metres": job.metres, "minutes": job.minutes,
        "grams_source": job.grams_source, "time_source": job.time_source,
        "price": fmt(job.price), "hold_amount": fmt(job.hold_amount), "currency": job.currency,
        "flags": list(job.flags), "uploaded_at": job.uploaded_at.astimezone(UTC).isoformat(),
        "slicer": dict(job.slicer), "ours": dict(job.ours),
    }


def find_job(session: Session, job_id: int, lock: bool = False) -> Print3DJob:
    query = select(Print3DJob).where(Print3DJob.id == job_id)
    if lock:
        query = query.with_for_update().execution_options(populate_existing=True)
    job = session.scalar(query)
    if job is None:
        raise LedgerError("print3d_job_unknown", f"no 3D job {job_id}")
    return job


def listed_jobs(session: Session, user: User, group: str) -> list[Print3DJob]:
    """The user's ready and printing jobs for the group, newest first."""
    return list(session.scalars(
        select(Print3DJob).where(Print3DJob.user_id == user.id, Print3DJob.group_name == group,
                                 Print3DJob.status.in_(LISTED))
        .order_by(Print3DJob.uploaded_at.desc(), Print3DJob.id.desc())))


# --- claim ---------------------------------------------------------------------------

def claim(session: Session, job_id: int, hold_id: str, terminal_id: str) -> Print3DJob:
    """The job printing under ``hold_id``, a hold of this terminal for the job's owner,
    open, of at least the job's hold amount and for this job. The same claim again is
    the same answer."""
    owner = session.scalar(select(Print3DJob.user_id).where(Print3DJob.id == job_id))
    if owner is None:
        raise LedgerError("print3d_job_unknown", f"no 3D job {job_id}")
    ledger.lock_user(session, owner)
    job = find_job(session, job_id, lock=True)
    if job.status == "printing" and job.hold_id == hold_id and job.terminal_id == terminal_id:
        return job
    if job.status != "ready":
        raise LedgerError("print3d_not_ready", f"3D job {job_id} is {job.status}"
                          + (" under another hold" if job.status == "printing" else ""))
    blocking = [flag["code"] for flag in job.flags if flag.get("blocks_release")]
    if blocking:
        raise LedgerError("print3d_flagged", f"3D job {job_id} cannot be released: "
                          f"{', '.join(blocking)}")
    hold = session.get(Hold, hold_id, populate_existing=True)
    problem = (
        "no such hold" if hold is None
        else "it belongs to another terminal" if hold.terminal_id != terminal_id
        else "it is another user's" if hold.user_id != job.user_id
        else f"it is {hold.status}" if hold.status != "open"
        else f"its job_ref is {hold.job_ref!r}, not {job_ref(job.id)!r}"
        if hold.job_ref != job_ref(job.id)
        else f"it holds {fmt(hold.amount)}, less than the job's {fmt(job.hold_amount)}"
        if hold.amount < job.hold_amount
        else None)
    if problem is not None:
        raise LedgerError("print3d_hold_invalid", f"hold {hold_id} cannot pay 3D job "
                          f"{job_id}: {problem}")
    job.status = "printing"
    job.hold_id = hold_id
    job.terminal_id = terminal_id
    job.claimed_at = utcnow()
    record(session, f"terminal:{terminal_id}", "print3d.claim", job_ref(job.id),
           {"hold_id": hold_id})
    session.flush()
    return job


# --- settlement -------------------------------------------------------------------------

def policy_for(settings: Print3DSettings, outcome: str) -> str:
    if outcome == "completed":
        return "full"
    if outcome == "cancelled":
        return settings.cancel_policy
    if outcome == "failed":
        return settings.failure_policy
    return "refund"  # not_started: the hold is voided


def printed_grams(job: Print3DJob, path: Path, file_position: int | None) -> Decimal:
    """Our grams of the file up to the printer's last reported position (none: none)."""
    if not file_position or file_position <= 0:
        return Decimal("0.00")
    extruded = sum(filament_up_to(path, file_position), Decimal(0))
    return grams_of(extruded, Decimal(job.diameter_mm),
                    Decimal(job.density_g_cm3)).quantize(GRAMS)


@dataclass(frozen=True)
class Measured:
    """What a settlement charges for, computed before the transaction (reading a large
    file must not happen under the user's lock)."""

    policy: str
    grams: Decimal
    minutes: int
    amount: Decimal
    measured_grams: Decimal


def measure(settings: Print3DSettings, catalogue: PriceCatalogue | None, session: Session,
            job: Print3DJob, path: Path, outcome: str, file_position: int | None,
            print_time_s: int | None) -> Measured:
    """The policy, grams, minutes and amount (before the cap at the hold)."""
    policy = policy_for(settings, outcome)
    user = session.get(User, job.user_id)
    assert user is not None
    minutes = job.minutes if print_time_s is None else minutes_of(print_time_s)
    measured = (Decimal(job.grams) if outcome == "completed"
                else Decimal("0.00") if outcome == "not_started"
                else printed_grams(job, path, file_position))
    if policy == "refund":
        return Measured(policy, Decimal("0.00"), 0, Decimal("0.00"), measured)
    group = settings.group(job.group_name)
    if group is None:
        raise LedgerError("print3d_group_unknown",
                          f"3D job {job.id}'s group {job.group_name!r} is no longer configured")
    price_list = price_list_for(catalogue, session, user, group)
    material = job.material or ""
    if policy == "setup_only":
        return Measured(policy, Decimal("0.00"), 0,
                        quote(price_list, material, Decimal(0), 0).total.amount, measured)
    amount = quote(price_list, material, measured, minutes).total.amount
    if policy == "charge_printed":
        floor = round_money(job.price * Decimal(settings.min_charge_fraction),
                            job.currency).amount
        amount = max(amount, floor)
    return Measured(policy, measured, minutes, amount, measured)


# Why a print ended, as the user's mail says it (backend.notify.print3d).
REASON_OF_OUTCOME = {"completed": "completed", "cancelled": "cancelled_by_user",
                     "failed": "printer_error"}


def settle(session: Session, job_id: int, hold_id: str, terminal_id: str, outcome: str,
           measured: Measured, printer_filament_mm: Decimal | None, currency: str,
           order: ledger.ConsumptionOrder,
           notifications: NotificationSettings | None = None,
           ) -> tuple[Print3DJob, Hold, Decimal, Measured]:
    """Apply a measured settlement, under the owner's lock (the caller took it); what
    was applied (a hold voided meanwhile is settled as a refund). The user's mail of the
    outcome is recorded in the same transaction (``notifications``: none, no mail)."""
    job = find_job(session, job_id, lock=True)
    if job.hold_id != hold_id or job.terminal_id != terminal_id:
        raise LedgerError("print3d_not_ready",
                          f"3D job {job_id} is not printing under hold {hold_id} here")
    if job.status != "printing":
        raise LedgerError("hold_settled", f"3D job {job_id} was already settled "
                          f"({job.status})")
    hold = session.get_one(Hold, hold_id, populate_existing=True)
    reason = REASON_OF_OUTCOME.get(outcome, outcome)
    if hold.status != "open":
        reason = "hold_expired"
        # Voided meanwhile (expired after PRINTING_MAX_AGE, or the terminal revoked): the
        # user is not charged, and the job does not stay "printing" for ever.
        measured = Measured("refund", Decimal("0.00"), 0, Decimal("0.00"),
                            measured.measured_grams)
        charged = Decimal("0.00")
    elif measured.policy == "refund":
        hold = ledger.void(session, hold_id, terminal_id)
        charged = Decimal("0.00")
    else:
        charged = min(measured.amount, hold.amount)
        ledger.capture(session, hold_id, terminal_id, currency, charged, order,
                       {"print3d_job": job.id, "outcome": outcome, "policy": measured.policy,
                        "grams": str(measured.grams), "minutes": measured.minutes})
    if outcome == "not_started":
        job.status, job.hold_id, job.terminal_id, job.claimed_at = "ready", None, None, None
    else:
        job.status = outcome
        job.outcome, job.policy = outcome, measured.policy
        job.charged_grams, job.charged_minutes = str(measured.grams), measured.minutes
        job.charged = charged
        job.printer_filament_mm = (None if printer_filament_mm is None
                                   else str(printer_filament_mm))
        job.settled_at = utcnow()
    record(session, f"terminal:{terminal_id}", "print3d.settle", job_ref(job.id),
           {"hold_id": hold_id, "outcome": outcome, "policy": measured.policy,
            "grams": str(measured.grams), "measured_grams": str(measured.measured_grams),
            "minutes": measured.minutes, "amount": fmt(measured.amount),
            "charged": fmt(charged),
            "printer_filament_mm": None if printer_filament_mm is None
            else str(printer_filament_mm)})
    if notifications is not None:
        notify.job_settled(session, notifications, job, outcome, measured.policy, reason,
                           charged, measured.grams, measured.minutes, terminal_id)
    session.flush()
    return job, hold, charged, measured


# --- cancel (before printing) ----------------------------------------------------------

def cancel(session: Session, job_id: int, actor: str,
           notifications: NotificationSettings | None = None) -> Print3DJob:
    """A ready job withdrawn by its user or an operator: ``deleted``; its files go with
    the commit (the caller removes them). The user is told (nothing was charged) when
    ``notifications`` are given."""
    owner = session.scalar(select(Print3DJob.user_id).where(Print3DJob.id == job_id))
    if owner is None:
        raise LedgerError("print3d_job_unknown", f"no 3D job {job_id}")
    ledger.lock_user(session, owner)
    job = find_job(session, job_id, lock=True)
    if job.status != "ready":
        raise LedgerError("print3d_not_ready", f"3D job {job_id} is {job.status}; only a "
                          "ready job can be cancelled")
    job.status = "deleted"
    record(session, actor, "print3d.cancel", job_ref(job.id), {"name": job.name})
    if notifications is not None:
        notify.job_settled(session, notifications, job, "cancelled", "withdrawn", "withdrawn",
                           Decimal("0.00"), Decimal("0.00"), 0, None)
    session.flush()
    return job
