"""One hook for the user rules: every write transaction's ledger movements and holds.

Why session events instead of a call at each site: a movement of a user's credit is
written by a dozen callers (captures, refunds, top-ups, vouchers, the cash desk,
adjustments, refills, hold expiry...) and the next feature will add one more. Each of
them writes ``LedgerTransaction`` / ``Hold`` rows through the ORM, so ``after_flush``
sees them all without any caller knowing: it notes which users were touched (and the
new transactions' ids) in ``session.info``, which is per transaction because
``Database.write`` opens one session per transaction. ``before_commit`` then runs the
rules once, in the same transaction: a rolled-back charge leaves no mail, a committed
one cannot lose it.

Cost: with ``notifications.enabled`` false no listener is installed at all; with it
true, a transaction that touched no user's money costs nothing, one that did costs a few
indexed queries per user (see backend.notify.user_rules). A failure of the rules is
logged and undone by its savepoint; it never rolls back the charge that caused it.
"""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy import event
from sqlalchemy.orm import Session

from backend.config import BackendConfig
from backend.db import Database
from backend.models import Hold, LedgerTransaction
from backend.notify.user_rules import UserRules

_log = logging.getLogger(__name__)
# session.info: {user_id: {new ledger transaction ids}} of this transaction so far.
_TOUCHED = "printkiosk_notify_touched"
_INSTALLED = "printkiosk_notify_listeners"


def install_rules(db: Database, config: BackendConfig) -> None:
    """Make every write transaction of ``db`` run the user rules of ``config``; again on
    the same database replaces the earlier installation (never two listeners)."""
    factory = db.write_sessions
    earlier: list[tuple[str, Any]] | None = getattr(db, _INSTALLED, None)
    for name, listener in earlier or []:
        event.remove(factory, name, listener)
    setattr(db, _INSTALLED, [])
    if not config.notifications.enabled:
        return
    rules = UserRules(config)

    def after_flush(session: Session, _context: Any) -> None:
        touched: dict[int, set[int]] | None = None
        for row in (*session.new, *session.dirty):
            if isinstance(row, LedgerTransaction) and row.user_id is not None:
                touched = session.info.setdefault(_TOUCHED, {}) if touched is None else touched
                touched.setdefault(row.user_id, set()).add(row.id)
            elif isinstance(row, Hold):
                touched = session.info.setdefault(_TOUCHED, {}) if touched is None else touched
                touched.setdefault(row.user_id, set())

    def before_commit(session: Session) -> None:
        touched: dict[int, set[int]] | None = session.info.pop(_TOUCHED, None)
        if not touched:
            return
        try:
            with session.begin_nested():
                rules.run(session, touched)
        except Exception:
            _log.exception("notification rules failed for user(s) %s; the movement is "
                           "kept, no mail recorded", sorted(touched))

    listeners: list[tuple[str, Any]] = [("after_flush", after_flush),
                                        ("before_commit", before_commit)]
    for name, listener in listeners:
        event.listen(factory, name, listener)
    setattr(db, _INSTALLED, listeners)
