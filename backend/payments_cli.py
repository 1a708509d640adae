"""What ``printkiosk payments`` does: list and show top-ups, refund one, reconcile now.
Every change is audited with the operator as actor (``cli:<user>``)."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from sqlalchemy import select

from backend import topups
from backend.cli_output import local_time, table
from backend.ledger import LedgerError
from backend.models import AuditEntry, TopUp, TopUpEvent, User
from backend.money import fmt, parse_amount
from backend.payments.gateway import GatewayError, PaymentGateway
from backend.payments.registry import make_gateway
from backend.topup_reconcile import reconcile
from backend.voucher_cli import Backend, CliRefused


def gateway_of(backend: Backend) -> PaymentGateway:
    try:
        gateway = make_gateway(backend.config, backend.secret)
    except GatewayError as exc:
        raise CliRefused(str(exc)) from exc
    if gateway is None:
        raise CliRefused("no payment gateway is configured ([payments] gateway)")
    return gateway


def list_top_ups(backend: Backend, status: str | None, limit: int = 50) -> None:
    with backend.db.read() as session:
        query = (select(TopUp, User.username).join(User, User.id == TopUp.user_id)
                 .order_by(TopUp.id.desc()).limit(limit))
        if status:
            query = query.where(TopUp.status == status)
        rows = [[top_up.public_id, local_time(top_up.created_at), username,
                 f"{fmt(top_up.amount)} {top_up.currency}", top_up.status,
                 top_up.flag or "", top_up.short_code, top_up.gateway]
                for top_up, username in session.execute(query).tuples()]
    if not rows:
        print("no top-ups")
        return
    print(table(["ID", "CREATED", "USER", "AMOUNT", "STATUS", "FLAG", "CODE", "GATEWAY"],
                rows))


def show(backend: Backend, public_id: str) -> None:
    with backend.db.read() as session:
        try:
            top_up = topups.find(session, public_id)
        except LedgerError as exc:
            raise CliRefused(exc.detail) from exc
        user = session.get(User, top_up.user_id)
        assert user is not None
        fields = [
            ("id", top_up.public_id), ("user", user.username),
            ("amount", f"{fmt(top_up.amount)} {top_up.currency}"),
            ("status", top_up.status), ("flag", top_up.flag or ""),
            ("late", "yes" if top_up.late else "no"), ("short code", top_up.short_code),
            ("gateway", top_up.gateway),
            ("gateway payment", top_up.gateway_payment_id or ""),
            ("paid", fmt(top_up.paid_amount) if top_up.paid_amount is not None else ""),
            ("fee", fmt(top_up.fee) if top_up.fee is not None else ""),
            ("refunded", fmt(top_up.refunded_amount)),
            ("terminal", top_up.terminal_id or ""),
            ("created", local_time(top_up.created_at)),
            ("expires", local_time(top_up.expires_at)),
            ("settled", local_time(top_up.settled_at, "")),
            ("last asked of the gateway", local_time(top_up.checked_at)),
        ]
        events = session.execute(select(TopUpEvent).where(TopUpEvent.top_up_id == top_up.id)
                                 .order_by(TopUpEvent.id)).scalars().all()
        history = session.execute(select(AuditEntry).where(
            AuditEntry.subject == top_up.public_id).order_by(AuditEntry.id)).scalars().all()
        width = max(len(name) for name, _ in fields)
        for name, value in fields:
            print(f"{name.ljust(width)}  {value}")
        if events:
            print("\nevents:")
            print(table(["RECEIVED", "EVENT", "KIND", "AMOUNT", "OUTCOME", "SOURCE"], [
                [local_time(event.received_at), event.event_id, event.kind,
                 fmt(event.amount) if event.amount is not None else "", event.outcome,
                 event.source] for event in events]))
        if history:
            print("\naudit:")
            for entry in history:
                print(f"  {local_time(entry.at)}  {entry.actor}  {entry.action}")


def refund(backend: Backend, public_id: str, amount: str | None, reason: str | None) -> None:
    if not reason or not reason.strip():
        raise CliRefused("refund needs --reason (audited)")
    value: Decimal | None = None
    if amount is not None:
        try:
            value = parse_amount(amount.strip(), allow_zero=False)
        except ValueError as exc:
            raise CliRefused(f"--amount {exc}") from exc
    gateway = gateway_of(backend)
    try:
        with backend.db.write() as session:
            top_up = topups.find(session, public_id)
            if top_up.gateway != gateway.name:
                raise CliRefused(f"top-up {top_up.public_id} was paid through "
                                 f"{top_up.gateway}, this backend's gateway is {gateway.name}")
            transaction = topups.refund_top_up(session, top_up, gateway, value, reason,
                                               backend.actor)
            found = topups.find(session, public_id)
            print(f"top-up {found.public_id}: refunded, {fmt(found.refunded_amount)} of "
                  f"{fmt(found.paid_amount or Decimal('0'))} in all; status {found.status}"
                  + (f"; ledger transaction {transaction.id}" if transaction else
                     " (it was never credited: nothing to reverse in the ledger)"))
    except LedgerError as exc:
        raise CliRefused(exc.detail) from exc
    except GatewayError as exc:
        raise CliRefused(f"the gateway refused the refund: {exc}") from exc


def reconcile_now(backend: Backend) -> None:
    gateway = gateway_of(backend)
    done = reconcile(backend.db, gateway,
                     timedelta(minutes=backend.config.payments.reconcile_after_min))
    if not done:
        print("no pending top-up was due for reconciliation")
    for item in done:
        print(f"{item.public_id}: the gateway says {item.state}: {item.result}")
