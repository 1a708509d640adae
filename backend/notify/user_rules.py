"""The user rules: low balance (with hysteresis) and transaction alerts (grouped).

Run by backend.notify.hook once per write transaction, for each user whose credit moved
or whose holds changed, under that user's row lock (``ledger.lock_user``, already held
by the movement itself): two terminals charging the same user at once are serialised
there, so the memory in ``UserNotificationSettings`` is read and written race-free.

Low balance: available credit = virtual + personal - open holds (the overdraft is not
credit). Below the threshold with no mail sent since the last recovery: one mail, and
``low_balance_sent``. Above threshold + margin: armed again.

Transaction alerts: mails to one user leave at least ``group_minutes`` apart. The first
movement after a quiet period is mailed at once and opens a window; the movements
within it go into ONE pending mail due at the window's end (lines appended to its
context while it is still pending and not claimed by the worker); the window after that
one starts at its due time. Each line carries its ledger transaction id: a line is never
added twice, and the mail's ``dedupe_key`` is its first transaction.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from backend import ledger
from backend.config import BackendConfig
from backend.models import (
    Account,
    LedgerEntry,
    LedgerTransaction,
    Notification,
    Terminal,
    User,
    UserNotificationSettings,
    utcnow,
)
from backend.money import fmt, from_storage
from backend.notify.outbox import recipient, record

# What a movement was, for the mail (the template words each code in its language).
WHAT = {"charge": "charge", "refund": "refund", "topup": "top_up",
        "topup_refund": "top_up_refund", "voucher_redemption": "voucher",
        "adjustment": "adjustment", "desk_cash_in": "cash_in", "desk_cash_out": "cash_out",
        "refill": "refill", "deposit": "deposit"}


def settings_of(session: Session, user_id: int) -> UserNotificationSettings:
    """The user's row, created with every choice at the site's default on first use."""
    row = session.get(UserNotificationSettings, user_id)
    if row is None:
        row = UserNotificationSettings(user_id=user_id, low_balance_sent=False)
        session.add(row)
    return row


class UserRules:
    """The rules of one configuration (the hook holds one per installed database)."""

    def __init__(self, config: BackendConfig) -> None:
        self.currency = config.ledger.currency
        self.low = config.notifications.low_balance
        self.alerts = config.notifications.transactions
        base = config.payments.public_base_url
        self.top_up_url = f"{base.rstrip('/')}/me" if base else None

    def run(self, session: Session, touched: dict[int, set[int]]) -> None:
        for user_id in sorted(touched):
            user = ledger.lock_user(session, user_id)
            to = recipient(user)
            if to is None:
                continue  # no e-mail: nothing can be sent, nothing remembered
            row = settings_of(session, user_id)
            self.low_balance(session, user, row, to)
            if touched[user_id]:
                self.transactions(session, user, row, to, touched[user_id])
        session.flush()

    def low_balance(self, session: Session, user: User, row: UserNotificationSettings,
                    to: tuple[str, str]) -> None:
        enabled = self.low.enabled if row.low_balance_enabled is None else row.low_balance_enabled
        if not enabled:
            return
        threshold = (self.low.threshold_amount if row.low_balance_threshold is None
                     else row.low_balance_threshold)
        current = ledger.balance(session, user, self.currency)
        credit = current.virtual_credit + current.personal_credit - current.held
        if credit < threshold and not row.low_balance_sent:
            record(session, kind="low_balance", to_address=to[0], language=to[1],
                   user_id=user.id, context={
                       "currency": self.currency, "display_name": user.display_name,
                       "balance": fmt(credit), "threshold": fmt(threshold),
                       "top_up_url": self.top_up_url})
            row.low_balance_sent = True
        elif row.low_balance_sent and credit > threshold + self.low.margin_amount:
            row.low_balance_sent = False

    def transactions(self, session: Session, user: User, row: UserNotificationSettings,
                     to: tuple[str, str], ids: set[int]) -> None:
        enabled = (self.alerts.default if row.transactions_enabled is None
                   else row.transactions_enabled)
        if not enabled:
            return
        lines = _lines(session, user.id, ids)
        if not lines:
            return  # e.g. a charge a billing code paid: the user's credit did not move
        now = utcnow()
        window = timedelta(minutes=self.alerts.group_minutes)
        quiet_until = row.alerts_quiet_until
        if quiet_until is None or now >= quiet_until:
            self._record(session, user, to, lines, send_after=now)
            row.alerts_quiet_until = now + window
            row.alert_group_id = row.alert_group_due = None
            return
        if self._append(session, row, lines, now):
            return
        group = self._record(session, user, to, lines, send_after=quiet_until)
        row.alert_group_id = group.id if group is not None else None
        row.alert_group_due = quiet_until
        row.alerts_quiet_until = quiet_until + window

    def _record(self, session: Session, user: User, to: tuple[str, str],
                lines: list[dict[str, Any]], send_after: datetime) -> Notification | None:
        return record(session, kind="transactions", to_address=to[0], language=to[1],
                      user_id=user.id, send_after=send_after,
                      dedupe_key=f"transactions:{user.id}:{lines[0]['id']}",
                      context={"currency": self.currency, "display_name": user.display_name,
                               "lines": lines, "not_you": self.alerts.not_you})

    @staticmethod
    def _append(session: Session, row: UserNotificationSettings,
                lines: list[dict[str, Any]], now: datetime) -> bool:
        """Add the lines to the open grouped mail; False when there is none any more (it
        is due, or a worker has it or tried it)."""
        if row.alert_group_id is None or row.alert_group_due is None or now >= row.alert_group_due:
            return False
        group = session.scalar(select(Notification).where(Notification.id == row.alert_group_id)
                               .with_for_update()
                               .execution_options(populate_existing=True))
        # Never to a mail a worker holds or has tried (its Message-ID is fixed then: a
        # retry must carry the same message).
        if (group is None or group.status != "pending" or group.claim_token is not None
                or group.attempts > 0):
            return False
        known = {line["id"] for line in group.context["lines"]}
        fresh = [line for line in lines if line["id"] not in known]
        group.context = {**group.context, "lines": [*group.context["lines"], *fresh]}
        return True


def _lines(session: Session, user_id: int, ids: set[int]) -> list[dict[str, Any]]:
    """One line per movement of the user's credit: what, how much, where, when."""
    moved = session.execute(
        select(LedgerTransaction.id, LedgerTransaction.kind, LedgerTransaction.terminal_id,
               LedgerTransaction.actor, LedgerTransaction.created_at,
               func.sum(LedgerEntry.amount))
        .join(LedgerEntry, LedgerEntry.transaction_id == LedgerTransaction.id)
        .join(Account, Account.id == LedgerEntry.account_id)
        .where(LedgerTransaction.id.in_(sorted(ids)), Account.user_id == user_id)
        .group_by(LedgerTransaction.id, LedgerTransaction.kind, LedgerTransaction.terminal_id,
                  LedgerTransaction.actor, LedgerTransaction.created_at)
        .order_by(LedgerTransaction.id)).tuples().all()
    terminal_ids = {terminal for _i, _k, terminal, _a, _c, _s in moved if terminal}
    terminals = {terminal.id: terminal for terminal in session.scalars(
        select(Terminal).where(Terminal.id.in_(sorted(terminal_ids))))} if terminal_ids else {}
    lines = []
    for tx_id, kind, terminal_id, actor, created_at, raw in moved:
        amount = raw if isinstance(raw, Decimal) else from_storage(raw)
        if amount == 0:
            continue
        terminal = terminals.get(terminal_id) if terminal_id else None
        lines.append({"id": tx_id, "what": WHAT.get(kind, kind), "amount": fmt(amount),
                      "at": created_at.isoformat(), "where": _place(kind, actor, terminal),
                      "terminal": terminal.name if terminal else None,
                      "device": terminal.device if terminal else None})
    return lines


def _place(kind: str, actor: str | None, terminal: Terminal | None) -> str:
    """Where a movement happened: a terminal, the cash desk, the administration, the
    automatic refill, or the web (the user's own page, the payment gateway)."""
    if terminal is not None:
        return "terminal"
    if kind.startswith("desk_") or (kind == "refund" and actor):
        return "cash_desk"
    if kind == "adjustment":
        return "administration"
    if kind in ("refill", "deposit"):
        return "automatic"
    return "web"
