"""The 3D print mails to a job's user: nearly done, finished, failed, cancelled.

Each is recorded in the transaction of the event that causes it (the settlement, the
withdrawal, the kiosk's progress report), so a settlement rolled back leaves no mail and
a committed one always has its mail. Each has a ``dedupe_key`` per job and outcome: a
settlement retried after a lost answer, or a progress report resent, records nothing
twice. Nothing is recorded when ``[notifications] enabled`` or ``[notifications.print3d]
enabled`` is false, or when the user has no e-mail address.

Context values are JSON: amounts and grams as decimal strings (the templates format them
with ``|money`` and ``|number``), the reason and the policy as codes the templates put
into words in the user's language (docs/notifications.md, "3D prints").
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy.orm import Session

from backend import ledger
from backend.config import NotificationSettings
from backend.models import Print3DJob, Terminal, User, utcnow
from backend.money import fmt
from backend.notify import outbox

KIND_OF_OUTCOME = {"completed": "print3d_finished", "failed": "print3d_failed",
                   "cancelled": "print3d_cancelled"}
NEARLY_DONE = "print3d_nearly_done"


def _enabled(settings: NotificationSettings) -> bool:
    return settings.enabled and settings.print3d.enabled


def _base(session: Session, settings: NotificationSettings, job: Print3DJob,
          terminal_id: str | None) -> dict[str, Any]:
    """What every 3D mail says: the job, the printer, where to collect the print."""
    terminal = session.get(Terminal, terminal_id) if terminal_id else None
    return {"job_id": job.id, "job_name": job.name, "group": job.group_name,
            "printer": terminal.name if terminal is not None else job.group_name,
            "collect_at": settings.print3d.collect_at.get(job.group_name, ""),
            "currency": job.currency}


def job_settled(session: Session, settings: NotificationSettings, job: Print3DJob,
                outcome: str, policy: str, reason: str, charged: Decimal, grams: Decimal,
                minutes: int, terminal_id: str | None) -> None:
    """The mail of a settled (or withdrawn) job, in the settlement's transaction.

    ``reason`` is a code the template says in words: ``completed``, ``cancelled_by_user``
    (on the kiosk or the printer), ``printer_error`` (the printer's error or a lost job),
    ``hold_expired`` (the hold was voided before the settlement: nothing charged),
    ``withdrawn`` (cancelled before printing)."""
    kind = KIND_OF_OUTCOME.get(outcome)
    if kind is None or not _enabled(settings):
        return
    user = session.get_one(User, job.user_id)
    address = outbox.recipient(user)
    if address is None:
        return
    balance = ledger.balance(session, user, job.currency)
    context = {**_base(session, settings, job, terminal_id),
               "outcome": outcome, "policy": policy, "reason": reason,
               "charged": fmt(charged), "price": fmt(job.price), "grams": str(grams),
               "grams_estimate": job.grams, "minutes": minutes,
               "available": fmt(balance.available),
               "at": utcnow().astimezone(UTC).isoformat()}
    outbox.record(session, kind=kind, to_address=address[0], language=address[1],
                  context=context, user_id=user.id, dedupe_key=f"{kind}:{job.id}")


def progress_reported(session: Session, settings: NotificationSettings, terminal_id: str,
                      occurred_at: datetime, job_id: int, percent: float | None,
                      time_left_s: int | None) -> bool:
    """One nearly-done mail per job, when a kiosk's progress report reaches the threshold.

    Only for a job this terminal is printing (a settled job's end is told by its own
    mail, and a report from another kiosk names no job of its own). A report that
    arrives after the print must have ended by its own time left (kept in the kiosk's
    outbox while the backend was away) is too late to be of use: nothing is sent.
    True when a mail was recorded."""
    if not _enabled(settings) or not _reached(settings, percent, time_left_s):
        return False
    job = session.get(Print3DJob, job_id)
    if job is None or job.status != "printing" or job.terminal_id != terminal_id:
        return False
    moment = occurred_at if occurred_at.tzinfo else occurred_at.replace(tzinfo=UTC)
    if time_left_s is not None and moment + timedelta(seconds=time_left_s) < utcnow():
        return False
    user = session.get_one(User, job.user_id)
    address = outbox.recipient(user)
    if address is None:
        return False
    context = {**_base(session, settings, job, terminal_id),
               "percent": None if percent is None else int(percent),
               "minutes_left": None if time_left_s is None else -(-time_left_s // 60),
               "grams_estimate": job.grams,
               "at": moment.astimezone(UTC).isoformat()}
    row = outbox.record(session, kind=NEARLY_DONE, to_address=address[0],
                        language=address[1], context=context, user_id=user.id,
                        dedupe_key=f"{NEARLY_DONE}:{job.id}")
    return row is not None


def _reached(settings: NotificationSettings, percent: float | None,
             time_left_s: int | None) -> bool:
    minutes, threshold = settings.print3d.nearly_done_minutes, settings.print3d.nearly_done_percent
    by_time = minutes > 0 and time_left_s is not None and time_left_s <= minutes * 60
    by_percent = threshold > 0 and percent is not None and percent >= threshold
    return by_time or by_percent
