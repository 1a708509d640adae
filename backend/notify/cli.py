"""``printkiosk backend notify test|send|outbox|retry``: the outbox from the command line.

``test --to ADDR`` records a ``test_message`` and delivers it at once, printing what the
server answered (the quickest check of ``[notifications.smtp]``); ``send`` runs the
worker once (what the scheduler does every ``check_interval_s``); ``outbox`` prints the
counts by status and every failed mail with its error; ``retry ID`` queues a failed mail
again. Changes are audited as ``cli:<login>``.
"""

from __future__ import annotations

from collections.abc import Sequence

from backend import audit
from backend.cli_output import local_time, table
from backend.models import utcnow
from backend.notify import outbox, outbox_view, worker
from backend.voucher_cli import Backend, CliRefused

USAGE = ("give `notify test --to ADDRESS`, `notify send`, `notify outbox` or "
         "`notify retry ID`")


def notify_command(backend: Backend, words: Sequence[str], to: str | None) -> None:
    verb, *rest = words or ("",)
    if verb == "test" and not rest:
        _test(backend, to)
    elif verb == "send" and not rest:
        _send(backend)
    elif verb == "outbox" and not rest:
        _outbox(backend)
    elif verb == "retry" and len(rest) == 1 and rest[0].isdigit():
        _retry(backend, int(rest[0]))
    else:
        raise CliRefused(f"{' '.join(words)!r}: {USAGE}" if words else USAGE)


def _enabled(backend: Backend) -> None:
    if not backend.config.notifications.enabled:
        raise CliRefused("[notifications] enabled is false: no mail is recorded or sent "
                         "(set enabled = true with from_address and [notifications.smtp])")


def _test(backend: Backend, to: str | None) -> None:
    _enabled(backend)
    if not to or "@" not in to:
        raise CliRefused(f"notify test needs --to ADDRESS (an e-mail address), got {to!r}")
    with backend.db.write() as session:
        row = outbox.record(session, kind="test_message", to_address=to, language="en",
                            context={"site": backend.config.vouchers.site_name,
                                     "sent_at": utcnow().isoformat()})
        assert row is not None  # no dedupe key: always recorded
        audit.record(session, backend.actor, "notification.test", to)
        notification_id = row.id
    attempt = worker.deliver_one(backend.db, backend.config, notification_id)
    if attempt.status == "sent":
        print(f"test mail {notification_id} to {to}: accepted by "
              f"{backend.config.notifications.smtp.host}:"
              f"{backend.config.notifications.smtp.port}")
        return
    raise CliRefused(f"test mail {notification_id} to {to}: {attempt.status}: "
                     f"{attempt.error}")


def _send(backend: Backend) -> None:
    _enabled(backend)
    attempts = worker.deliver(backend.db, backend.config)
    by_status = {status: sum(1 for a in attempts if a.status == status)
                 for status in ("sent", "pending", "failed", "lost")}
    print(f"{len(attempts)} mails tried: {by_status['sent']} sent, "
          f"{by_status['pending']} to retry, {by_status['failed']} failed")
    for attempt in attempts:
        if attempt.error:
            print(f"  {attempt.notification_id}: {attempt.status}: {attempt.error}")


def _outbox(backend: Backend) -> None:
    with backend.db.read() as session:
        counts = outbox_view.counts(session)
        failed = outbox_view.failed(session)
    print(", ".join(f"{count} {status}" for status, count in counts.items()))
    if failed:
        print(table(("ID", "KIND", "TO", "FAILED", "ERROR"),
                    [(str(row.id), row.kind, row.to_address,
                      local_time(row.failed_at), row.last_error or "")
                     for row in failed]))


def _retry(backend: Backend, notification_id: int) -> None:
    try:
        with backend.db.write() as session:
            row = outbox_view.retry(session, notification_id, backend.actor)
            to = row.to_address
    except outbox_view.RetryRefused as exc:
        raise CliRefused(exc.detail) from exc
    print(f"mail {notification_id} to {to} queued again (audited as {backend.actor})")
