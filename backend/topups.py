"""Top-ups paid by QR code: creation, settlement, failure, cancellation, expiry, refund.

The functions run inside ``Database.write()`` (expiry opens its own transactions).
Accounting, in ``backend.ledger``'s signs (what the organisation owes is positive, money
it holds or is owed is negative):

* a payment: ``payment_clearing`` (what the gateway owes us, net of its fee) and
  ``payment_fees`` (the fee, when the gateway reports one) -> the user's personal credit;
* a refund: the reverse, from the user's personal credit back to ``payment_clearing``
  (gateways keep their fee on a refund, so the fee stays posted).

Exactly once: a settlement takes the user's lock, then the top-up's row, and applies
an event only if its (gateway, event id) was never applied and the top-up is not paid
yet; every other change of status is a conditional UPDATE naming the states it leaves.
A payment of another amount than asked is not credited: the top-up becomes ``mismatch``
for the cash desk. A payment of an expired, failed or cancelled top-up is credited and
flagged ``late``: the user paid, the money is theirs.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Literal

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from backend import ledger
from backend.audit import record
from backend.db import Database
from backend.ledger import LedgerError
from backend.models import AccountKind, LedgerTransaction, TopUp, TopUpEvent, User, utcnow
from backend.money import fmt
from backend.payments.gateway import CreatedPayment, GatewayError, PaymentGateway
from backend.security import keyed_hash

# Statuses a payment may still arrive in (and be credited, "late" unless pending).
UNPAID = ("pending", "expired", "failed", "cancelled")
CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
Source = Literal["webhook", "demo_page", "reconcile", "cli", "statement"]
Result = Literal["credited", "duplicate", "already_settled", "mismatch"]


def url_token(secret: bytes, public_id: str) -> str:
    """The top-up's URL token: an HMAC of its public id, so it is never stored and can
    still be given again (a kiosk's retry); 192 bits, unguessable without the key."""
    mac = hmac.new(secret, f"topup-url:{public_id}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(mac[:24]).decode("ascii")


def token_hash(secret: bytes, token: str) -> str:
    return keyed_hash(secret, token, "topup")


def new_short_code() -> str:
    """Six Crockford base-32 characters: read aloud at the cash desk, seed of the bank
    reference (not a secret, not unique: the public id is the key)."""
    return "".join(secrets.choice(CROCKFORD) for _ in range(6))


def find(session: Session, public_id: str, *, lock: bool = False) -> TopUp:
    query = select(TopUp).where(TopUp.public_id == public_id.strip())
    if lock:
        query = query.with_for_update().execution_options(populate_existing=True)
    top_up = session.scalar(query)
    if top_up is None:
        raise LedgerError("topup_unknown", f"no top-up {public_id!r} (printkiosk payments "
                          "list)")
    return top_up


def find_by_token(session: Session, secret: bytes, token: str) -> TopUp | None:
    return session.scalar(select(TopUp).where(TopUp.token_hash == token_hash(secret, token)))


def find_by_payment(session: Session, gateway: str, gateway_payment_id: str) -> TopUp | None:
    return session.scalar(select(TopUp).where(TopUp.gateway == gateway,
                                              TopUp.gateway_payment_id == gateway_payment_id))


def create_top_up(session: Session, secret: bytes, *, user: User, terminal_id: str | None,
                  amount: Decimal, currency: str, gateway_name: str,
                  expire_after: timedelta, idempotency_key: str | None = None,
                  now: datetime | None = None) -> TopUp:
    """A pending top-up (the gateway's payment is attached by :func:`attach_payment`).

    The same ``idempotency_key`` from the same terminal returns the first top-up; with
    another amount it is refused (``idempotency_key_reused``)."""
    if idempotency_key is not None:
        earlier = session.scalar(select(TopUp).where(TopUp.terminal_id == terminal_id,
                                                     TopUp.idempotency_key == idempotency_key))
        if earlier is not None:
            if earlier.amount != amount or earlier.user_id != user.id:
                raise LedgerError("idempotency_key_reused", "this idempotency key was used "
                                  "for another top-up")
            return earlier
    now = now or utcnow()
    public_id = f"T-{secrets.token_hex(5).upper()}"
    top_up = TopUp(public_id=public_id, user_id=user.id, terminal_id=terminal_id,
                   idempotency_key=idempotency_key, amount=amount, currency=currency,
                   gateway=gateway_name, token_hash=token_hash(secret, url_token(secret,
                                                                                public_id)),
                   short_code=new_short_code(), status="pending", created_at=now,
                   expires_at=now + expire_after, changed_at=now,
                   refunded_amount=Decimal("0.00"))
    session.add(top_up)
    session.flush()
    return top_up


def attach_payment(session: Session, top_up: TopUp, created: CreatedPayment,
                   token: str) -> None:
    """Keep the gateway's payment id and page. A pay URL that holds our token (the demo
    gateway's own page) is not stored: the token is given again from the key."""
    top_up.gateway_payment_id = created.gateway_payment_id
    top_up.pay_url = None if token in created.pay_url else created.pay_url
    top_up.qr_payload = created.qr_payload
    session.flush()


class GatewayUnavailable(Exception):
    """The gateway refused or did not answer: the top-up was marked failed."""


def start_top_up(db: Database, secret: bytes, gateway: PaymentGateway, *, user_id: int,
                 terminal_id: str | None, amount: Decimal, currency: str,
                 expire_after: timedelta, public_base_url: str | None,
                 idempotency_key: str | None, actor: str,
                 origin: str | None = None) -> TopUp:
    """A new top-up with its gateway payment: the kiosk's ``POST /topups`` and the user's
    own page both start one here. The gateway is asked outside any transaction (no lock
    held while it answers); the same idempotency key returns the first top-up. Raises
    :class:`GatewayUnavailable` (the top-up is then failed and audited)."""
    with db.write() as session:
        user = ledger.lock_user(session, user_id)
        if user.status != "active":
            raise LedgerError("user_disabled", f"user {user.username} is disabled")
        top_up = create_top_up(session, secret, user=user, terminal_id=terminal_id,
                               amount=amount, currency=currency, gateway_name=gateway.name,
                               expire_after=expire_after, idempotency_key=idempotency_key)
        if top_up.gateway_payment_id is not None or top_up.status != "pending":
            session.expunge(top_up)
            return top_up
        public_id, amount = top_up.public_id, top_up.amount
        record(session, actor, "topup.start", public_id,
               {"amount": fmt(amount), "currency": currency, "gateway": gateway.name,
                "terminal_id": terminal_id}, origin=origin)
    token = url_token(secret, public_id)
    base = (public_base_url or "").rstrip("/")
    try:
        created = gateway.create_payment(public_id, amount, currency,
                                         f"printkiosk top-up {public_id}",
                                         f"{base}/pay/{token}/done")
    except GatewayError as exc:
        with db.write() as session:
            failed = find(session, public_id)
            failed.status, failed.changed_at = "failed", utcnow()
            record(session, actor, "topup.gateway_error", public_id, {"error": str(exc)},
                   origin=origin)
        raise GatewayUnavailable(str(exc)) from exc
    with db.write() as session:
        top_up = find(session, public_id, lock=True)
        attach_payment(session, top_up, created, token)
        session.expunge(top_up)
    return top_up


def _changed(top_up: TopUp, status: str, now: datetime) -> None:
    top_up.status = status
    top_up.changed_at = now


@dataclass(frozen=True)
class SettleOutcome:
    result: Result
    top_up: TopUp
    transaction: LedgerTransaction | None = None
    late: bool = False


def _seen(session: Session, gateway: str, event_id: str) -> TopUpEvent | None:
    return session.scalar(select(TopUpEvent).where(TopUpEvent.gateway == gateway,
                                                   TopUpEvent.event_id == event_id))


def _note_event(session: Session, top_up: TopUp, event_id: str, kind: str,
                amount: Decimal | None, outcome: str, source: str) -> None:
    session.add(TopUpEvent(gateway=top_up.gateway, event_id=event_id, top_up_id=top_up.id,
                           kind=kind, amount=amount, outcome=outcome, source=source))
    session.flush()


def _lock(session: Session, top_up: TopUp) -> TopUp:
    """The user's lock, then the top-up's row, freshly read (the order of every writer)."""
    ledger.lock_user(session, top_up.user_id)
    return find(session, top_up.public_id, lock=True)


def settle_top_up(session: Session, top_up: TopUp, *, amount: Decimal, currency: str,
                  gateway_payment_id: str, event_id: str, fee: Decimal | None = None,
                  source: Source, now: datetime | None = None) -> SettleOutcome:
    """Apply a successful payment of ``amount`` to the top-up, exactly once."""
    now = now or utcnow()
    top_up = _lock(session, top_up)
    if _seen(session, top_up.gateway, event_id) is not None:
        return SettleOutcome("duplicate", top_up)
    if top_up.status not in UNPAID:  # paid, refunded or mismatch: already settled
        _note_event(session, top_up, event_id, "succeeded", amount, "already_settled", source)
        return SettleOutcome("already_settled", top_up)
    details = {"amount": fmt(amount), "currency": currency, "event_id": event_id,
               "gateway_payment_id": gateway_payment_id, "source": source,
               "status_before": top_up.status}
    top_up.paid_amount = amount
    top_up.settled_at = now
    if top_up.gateway_payment_id is None:
        top_up.gateway_payment_id = gateway_payment_id
    if amount != top_up.amount or currency != top_up.currency:
        top_up.flag = "amount_mismatch"
        _changed(top_up, "mismatch", now)
        _note_event(session, top_up, event_id, "succeeded", amount, "mismatch", source)
        record(session, source, "topup.mismatch", top_up.public_id,
               {**details, "asked": fmt(top_up.amount), "asked_currency": top_up.currency})
        session.flush()
        return SettleOutcome("mismatch", top_up)
    late = top_up.status != "pending" or now > top_up.expires_at
    fee = fee if fee is not None and Decimal("0") < fee <= amount else None
    user = ledger.lock_user(session, top_up.user_id)
    _virtual, personal = ledger.user_accounts(session, user.id, currency)
    clearing = ledger.get_account(session, AccountKind.PAYMENT_CLEARING, currency)
    movements = [(personal, amount), (clearing, -(amount - (fee or Decimal("0"))))]
    if fee is not None:
        movements.append((ledger.get_account(session, AccountKind.PAYMENT_FEES, currency),
                          -fee))
    transaction = ledger.post(session, LedgerTransaction(
        kind="topup", user_id=user.id, terminal_id=top_up.terminal_id,
        description=f"top-up {top_up.public_id} ({top_up.gateway})"), movements)
    top_up.credit_transaction_id = transaction.id
    top_up.fee = fee
    top_up.late = late
    if late:
        top_up.flag = "late"
    _changed(top_up, "paid", now)
    _note_event(session, top_up, event_id, "succeeded", amount, "credited", source)
    record(session, source, "topup.late" if late else "topup.paid", top_up.public_id,
           {**details, "transaction_id": transaction.id,
            **({"fee": fmt(fee)} if fee is not None else {})})
    session.flush()
    return SettleOutcome("credited", top_up, transaction, late)


def fail_top_up(session: Session, top_up: TopUp, *, event_id: str, source: Source,
                now: datetime | None = None) -> bool:
    """The gateway says the payment failed (declined): a pending top-up becomes failed.
    True when this call changed it."""
    now = now or utcnow()
    top_up = _lock(session, top_up)
    if _seen(session, top_up.gateway, event_id) is not None:
        return False
    changed = top_up.status == "pending"
    if changed:
        _changed(top_up, "failed", now)
        record(session, source, "topup.failed", top_up.public_id, {"event_id": event_id})
    _note_event(session, top_up, event_id, "failed", None,
                "failed" if changed else "ignored", source)
    return changed


def cancel_top_up(session: Session, top_up: TopUp, actor: str,
                  now: datetime | None = None) -> TopUp:
    """The user gave up at the kiosk. A payment that arrives later still credits (late)."""
    top_up = _lock(session, top_up)
    if top_up.status in ("paid", "refunded", "mismatch"):
        raise LedgerError("topup_settled", f"top-up {top_up.public_id} is already "
                          f"{top_up.status}")
    if top_up.status == "pending":
        _changed(top_up, "cancelled", now or utcnow())
        record(session, actor, "topup.cancel", top_up.public_id, {})
    session.flush()
    return top_up


def expire_due(session: Session, now: datetime, limit: int = 200) -> list[str]:
    """Expire pending top-ups past their time; each by a conditional UPDATE, so of two
    processes only one changes (and audits) a given top-up."""
    due = session.scalars(select(TopUp.id).where(TopUp.status == "pending",
                                                 TopUp.expires_at < now)
                          .order_by(TopUp.id).limit(limit)).all()
    expired: list[str] = []
    for top_up_id in due:
        changed = session.execute(
            update(TopUp).where(TopUp.id == top_up_id, TopUp.status == "pending")
            .values(status="expired", changed_at=now)
            .returning(TopUp.public_id))
        public_id = changed.scalar_one_or_none()
        if public_id is not None:
            record(session, "scheduler", "topup.expire", public_id, {})
            expired.append(public_id)
    return expired


def expire_top_ups(db: Database, now: datetime | None = None) -> list[str]:
    """One run of the expiry job (the scheduler's): batches in their own transactions."""
    now = now or utcnow()
    done: list[str] = []
    while True:
        with db.write() as session:
            batch = expire_due(session, now)
        done.extend(batch)
        if len(batch) < 200:
            return done


def refund_top_up(session: Session, top_up: TopUp, gateway: PaymentGateway,
                  amount: Decimal | None, reason: str, actor: str,
                  origin: str | None = None) -> LedgerTransaction | None:
    """Give a paid top-up back through the gateway, and take it from the user's personal
    credit. A ``mismatch`` top-up (never credited) is refunded in full at the gateway
    only: nothing was posted for it. Refused when the user has spent the credit."""
    if not reason.strip():
        raise LedgerError("reason_required", "a refund needs a reason")
    top_up = _lock(session, top_up)
    if top_up.gateway_payment_id is None or top_up.paid_amount is None:
        raise LedgerError("not_refundable", f"top-up {top_up.public_id} was never paid")
    if top_up.status == "mismatch":
        refund_id = gateway.refund(top_up.gateway_payment_id, top_up.paid_amount)
        top_up.refunded_amount = top_up.paid_amount
        _changed(top_up, "refunded", utcnow())
        record(session, actor, "topup.refund", top_up.public_id, {
            "amount": fmt(top_up.paid_amount), "reason": reason, "refund_id": refund_id,
            "credited": False}, origin=origin)
        session.flush()
        return None
    if top_up.status != "paid":
        raise LedgerError("not_refundable", f"top-up {top_up.public_id} is {top_up.status}")
    remaining = top_up.paid_amount - top_up.refunded_amount
    amount = remaining if amount is None else amount
    if not Decimal("0") < amount <= remaining:
        raise LedgerError("refund_exceeds_charge", f"refund {fmt(amount)} asked, "
                          f"{fmt(remaining)} of {fmt(top_up.paid_amount)} refundable")
    _virtual, personal = ledger.user_accounts(session, top_up.user_id, top_up.currency)
    if personal.balance < amount:
        raise LedgerError("refund_exceeds_credit", f"refund {fmt(amount)} asked, the user "
                          f"has {fmt(personal.balance)} personal credit left")
    refund_id = gateway.refund(top_up.gateway_payment_id, amount)
    clearing = ledger.get_account(session, AccountKind.PAYMENT_CLEARING, top_up.currency)
    transaction = ledger.post(session, LedgerTransaction(
        kind="topup_refund", user_id=top_up.user_id, actor=actor, reason=reason,
        refund_of_id=top_up.credit_transaction_id,
        description=f"refund of top-up {top_up.public_id} ({refund_id})"),
        [(personal, -amount), (clearing, amount)])
    top_up.refunded_amount = top_up.refunded_amount + amount
    if top_up.refunded_amount == top_up.paid_amount:
        _changed(top_up, "refunded", utcnow())
    record(session, actor, "topup.refund", top_up.public_id, {
        "amount": fmt(amount), "reason": reason, "refund_id": refund_id,
        "transaction_id": transaction.id}, origin=origin)
    session.flush()
    return transaction
