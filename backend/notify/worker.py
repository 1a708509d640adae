"""The outbox worker: sends the due mails of the outbox, each one once, whoever runs it.

One row at a time, in three steps, so that no transaction stays open across the SMTP
conversation (a slow server must not hold a database lock, nor undo anything):

1. **claim** (a short write transaction): ``UPDATE ... SET claim_token, claimed_until
   WHERE id = ? AND status = 'pending' AND (no lease or an expired one)``. The row is
   locked by the UPDATE and the condition is checked again under that lock (PostgreSQL
   in READ COMMITTED; SQLite has one writer at a time), so of two backend processes
   exactly one gets the row (rowcount 1), the other moves on. The Message-ID is fixed
   here at the first attempt and reused by every retry.
2. **send** (no transaction): render the templates, build the mail, hand it to the SMTP
   server (``backend.notify.smtp``), on one session kept for the whole run.
3. **finish** (a write transaction, only if the lease is still ours): ``sent``; or
   ``pending`` again with a later ``next_attempt_at`` (temporary failure, exponential
   backoff); or ``failed`` (a permanent refusal, a template that does not render, or a
   mail still refused after ``give_up_after_h``), with a ``delivery_failed`` mail to the
   administrators recorded in the same transaction.

The guarantee is at-least-once with a stable Message-ID: a process that dies after the
server's 250 and before step 3 commits leaves the row claimed; once the lease expires,
the next run sends it again with the same Message-ID (docs/notifications.md). The worker
never touches the ledger: a mail that fails changes nothing but its own row.
"""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from pathlib import Path

from jinja2 import Environment, TemplateError
from sqlalchemy import or_, select, update

from backend.config import BackendConfig
from backend.db import Database
from backend.models import Notification, utcnow
from backend.notify import outbox, smtp, templates
from backend.notify.recipients import administrators

_log = logging.getLogger(__name__)
# At most this many mails per run: the scheduler's next tick takes the rest.
BATCH = 200
FAILED_KIND = "delivery_failed"


@dataclass(frozen=True)
class Attempt:
    """What one delivery did: ``status`` is the row's new status."""

    notification_id: int
    status: str  # sent | pending | failed | lost (the lease expired and another took it)
    error: str | None = None


def deliver_due(db: Database, config: BackendConfig, now: datetime | None = None) -> int:
    """Send every mail due at ``now`` (default: the current time); the number sent."""
    return sum(1 for attempt in deliver(db, config, now) if attempt.status == "sent")


def deliver(db: Database, config: BackendConfig,
            now: datetime | None = None) -> list[Attempt]:
    """Every delivery attempted in this run, in order."""
    env = templates.environment(_override_dir(config))
    done: list[Attempt] = []
    tried: set[int] = set()
    with smtp.Connection(config.notifications.smtp) as connection:
        while len(done) < BATCH:
            at = now or utcnow()
            claimed = _claim_next(db, config, at, tried)
            if claimed is None:
                break
            tried.add(claimed.id)
            done.append(_attempt(db, config, env, claimed, at, connection))
    return done


def deliver_one(db: Database, config: BackendConfig, notification_id: int) -> Attempt:
    """Deliver one row now (``notify test``), whatever its ``next_attempt_at``."""
    env = templates.environment(_override_dir(config))
    at = utcnow()
    claimed = _claim(db, config, notification_id, at, due_only=False)
    if claimed is None:
        return Attempt(notification_id, "lost", "claimed by another backend process")
    with smtp.Connection(config.notifications.smtp) as connection:
        return _attempt(db, config, env, claimed, at, connection)


@dataclass(frozen=True)
class _Claimed:
    id: int
    token: str
    kind: str
    to_address: str
    language: str
    context: dict[str, object]
    attempts: int
    message_id: str
    created_at: datetime


def _override_dir(config: BackendConfig) -> Path | None:
    folder = config.notifications.templates_dir
    return Path(folder) if folder else None


def _lease(config: BackendConfig) -> timedelta:
    """Longer than one SMTP conversation can last (connect, TLS, login, data)."""
    return timedelta(seconds=4 * config.notifications.smtp.timeout_s + 60)


def _claim_next(db: Database, config: BackendConfig, at: datetime,
                tried: set[int]) -> _Claimed | None:
    """Claim the next due row nobody holds; None when there is none left."""
    while True:
        with db.read() as session:
            query = (select(Notification.id)
                     .where(Notification.status == "pending",
                            Notification.next_attempt_at <= at,
                            or_(Notification.claimed_until.is_(None),
                                Notification.claimed_until <= at))
                     .order_by(Notification.next_attempt_at, Notification.id).limit(20))
            if tried:
                query = query.where(Notification.id.not_in(tried))
            candidates = list(session.scalars(query))
        if not candidates:
            return None
        for candidate in candidates:
            claimed = _claim(db, config, candidate, at, due_only=True)
            if claimed is not None:
                return claimed
            tried.add(candidate)  # another process took it first


def _claim(db: Database, config: BackendConfig, notification_id: int, at: datetime,
           due_only: bool) -> _Claimed | None:
    token = secrets.token_hex(16)
    conditions = [Notification.id == notification_id, Notification.status == "pending",
                  or_(Notification.claimed_until.is_(None),
                      Notification.claimed_until <= at)]
    if due_only:
        conditions.append(Notification.next_attempt_at <= at)
    with db.write() as session:
        result = session.execute(
            update(Notification).where(*conditions)
            .values(claim_token=token, claimed_until=at + _lease(config))
            .execution_options(synchronize_session=False))
        if result.rowcount != 1:  # type: ignore[attr-defined]
            return None
        row = session.get(Notification, notification_id, populate_existing=True)
        assert row is not None
        if row.message_id is None:
            row.message_id = make_msgid(idstring=f"pk{row.id}",
                                        domain=_domain(config.notifications.from_address))
        return _Claimed(row.id, token, row.kind, row.to_address, row.language,
                        dict(row.context), row.attempts, row.message_id, row.created_at)


def _domain(address: str | None) -> str:
    return (address or "printkiosk.invalid").rpartition("@")[2] or "printkiosk.invalid"


def _attempt(db: Database, config: BackendConfig, env: Environment, row: _Claimed,
             at: datetime, connection: smtp.Connection) -> Attempt:
    try:
        message = build_message(config, env, row.kind, row.language, row.context,
                                row.to_address, row.message_id, row.created_at)
    except (TemplateError, KeyError, ValueError, TypeError, ArithmeticError) as exc:
        reason = f"template {row.kind} ({row.language}) does not render: " \
                 f"{type(exc).__name__}: {exc}"
        return _finish_failed(db, config, row, at, reason)
    try:
        connection.send(message)
    except smtp.SmtpPermanent as exc:
        return _finish_failed(db, config, row, at, exc.reason)
    except smtp.SmtpTemporary as exc:
        return _finish_retry(db, config, row, at, exc.reason)
    return _finish(db, row, Attempt(row.id, "sent"), status="sent", sent_at=at,
                   attempts=row.attempts + 1, last_error=None)


def build_message(config: BackendConfig, env: Environment, kind: str, language: str,
                  context: dict[str, object], to_address: str, message_id: str,
                  created_at: datetime) -> EmailMessage:
    """The mail: text and HTML alternatives of the rendered templates, with the headers
    a mail client and an auto-responder need (Auto-Submitted: no replies to a robot)."""
    mail = templates.render(env, kind, language, context,
                            config.vouchers.timezone or "UTC")
    message = EmailMessage()
    message["From"] = config.notifications.from_address or ""
    message["To"] = to_address
    message["Subject"] = mail.subject
    message["Date"] = format_datetime(created_at)
    message["Message-ID"] = message_id
    message["Auto-Submitted"] = "auto-generated"
    message.set_content(mail.text)
    message.add_alternative(mail.html, subtype="html")
    # after add_alternative, which moves every Content-* header into the first part
    message["Content-Language"] = language if language in templates.LANGUAGES else "en"
    return message


def _finish_retry(db: Database, config: BackendConfig, row: _Claimed, at: datetime,
                  reason: str) -> Attempt:
    settings = config.notifications
    if at - row.created_at >= timedelta(hours=settings.give_up_after_h):
        return _finish_failed(db, config, row, at,
                              f"given up after {settings.give_up_after_h} h: {reason}")
    delay = min(settings.retry_initial_s * 2 ** min(row.attempts, 30), settings.retry_max_s)
    return _finish(db, row, Attempt(row.id, "pending", reason), status="pending",
                   attempts=row.attempts + 1, last_error=reason,
                   next_attempt_at=at + timedelta(seconds=delay))


def _finish_failed(db: Database, config: BackendConfig, row: _Claimed, at: datetime,
                   reason: str) -> Attempt:
    _log.warning("notification %d (%s to %s) failed: %s", row.id, row.kind,
                 row.to_address, reason)
    return _finish(db, row, Attempt(row.id, "failed", reason), status="failed",
                   attempts=row.attempts + 1, last_error=reason, failed_at=at,
                   tell=(config, at))


def _finish(db: Database, row: _Claimed, attempt: Attempt, *,
            tell: tuple[BackendConfig, datetime] | None = None,
            **values: object) -> Attempt:
    """Write the outcome if the lease is still ours (else another process owns the row)."""
    with db.write() as session:
        result = session.execute(
            update(Notification)
            .where(Notification.id == row.id, Notification.claim_token == row.token)
            .values(claim_token=None, claimed_until=None, **values)
            .execution_options(synchronize_session=False))
        if result.rowcount != 1:  # type: ignore[attr-defined]
            return Attempt(row.id, "lost", "the lease expired before the outcome was "
                                           "written; another run owns the row")
        # never about itself (no loops); one per failure: the claim token is the attempt's
        if tell is not None and row.kind != FAILED_KIND:
            config, at = tell
            for address, language in administrators(session, config.notifications):
                outbox.record(session, kind=FAILED_KIND, to_address=address,
                              language=language,
                              context={"kind": row.kind, "to_address": row.to_address,
                                       "error": attempt.error or "",
                                       "failed_at": at.isoformat(),
                                       "notification_id": row.id},
                              dedupe_key=f"{FAILED_KIND}:{row.id}:{row.token}:"
                                         f"{address.lower()}")
    return attempt
