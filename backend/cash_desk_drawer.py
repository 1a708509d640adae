"""The clerk's drawer: opened with a float, counted and closed at the end of the day.

Rules (docs/cash-desk.md): one open drawer per clerk (a partial unique index, so two
tabs cannot open two); every desk operation belongs to the open drawer of the clerk who
made it; the expected cash is the float + cash paid in + vouchers sold for cash - cash
paid out; cheques and card-terminal payments are listed apart, they are not cash. At
closing the clerk types what is counted; the difference (counted - expected) is stored
with the drawer and audited. Job refunds move no cash (the money goes back to credit).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from backend.audit import record
from backend.db import Database
from backend.models import DeskDrawer, DeskOperation, utcnow
from backend.money import fmt, parse_typed_amount

ZERO = Decimal("0.00")


class DrawerError(Exception):
    """A refused drawer action; ``field`` is the form field it is about."""

    def __init__(self, code: str, detail: str, field: str | None = None) -> None:
        super().__init__(f"{code}: {detail}")
        self.code = code
        self.detail = detail
        self.field = field


@dataclass(frozen=True)
class DrawerTotals:
    opening_float: Decimal
    cash_in: Decimal
    cash_out: Decimal
    voucher_sales: Decimal
    cheques: Decimal
    card_terminal: Decimal
    job_refunds: Decimal
    operations: int

    @property
    def expected(self) -> Decimal:
        """The cash that should be in the drawer."""
        return self.opening_float + self.cash_in + self.voucher_sales - self.cash_out


def open_drawer_of(session: Session, clerk_id: int) -> DeskDrawer | None:
    found: DeskDrawer | None = session.scalar(select(DeskDrawer).where(
        DeskDrawer.clerk_id == clerk_id, DeskDrawer.closed_at.is_(None)))
    return found


def _amount(raw: str, field: str, *, allow_zero: bool) -> Decimal:
    try:
        return parse_typed_amount(raw, allow_zero=allow_zero)
    except ValueError as exc:
        raise DrawerError("amount_invalid", str(exc), field) from exc


def open_drawer(db: Database, clerk_id: int, clerk: str, currency: str, opening_float: str,
                origin: str | None) -> int:
    """Open the clerk's drawer with ``opening_float`` (0 allowed); its id."""
    amount = _amount(opening_float, "opening_float", allow_zero=True)
    try:
        with db.write() as session:
            if open_drawer_of(session, clerk_id) is not None:
                raise DrawerError("drawer_open", "your drawer is already open")
            drawer = DeskDrawer(clerk_id=clerk_id, clerk=clerk, currency=currency,
                                opening_float=amount)
            session.add(drawer)
            session.flush()
            record(session, f"staff:{clerk}", "desk.drawer_open", str(drawer.id),
                   {"opening_float": fmt(amount)}, origin=origin)
            return drawer.id
    except IntegrityError as exc:  # a second tab opened it at the same moment
        raise DrawerError("drawer_open", "your drawer is already open") from exc


def totals(session: Session, drawer: DeskDrawer) -> DrawerTotals:
    sums = {(kind, method): (total or ZERO, count) for kind, method, total, count in
            session.execute(select(DeskOperation.kind, DeskOperation.method,
                                   func.sum(DeskOperation.amount), func.count())
                            .where(DeskOperation.drawer_id == drawer.id)
                            .group_by(DeskOperation.kind, DeskOperation.method)).tuples()}

    def of(kind: str, method: str) -> Decimal:
        return sums.get((kind, method), (ZERO, 0))[0]

    return DrawerTotals(
        opening_float=drawer.opening_float, cash_in=of("cash_in", "cash"),
        cash_out=of("cash_out", "cash"), voucher_sales=of("voucher_sale", "cash"),
        cheques=of("cash_in", "cheque"), card_terminal=of("cash_in", "card_terminal"),
        job_refunds=of("job_refund", "credit"),
        operations=sum(count for _total, count in sums.values()))


def close_drawer(db: Database, clerk_id: int, clerk: str, counted: str, note: str,
                 origin: str | None) -> int:
    """Close the clerk's open drawer with the counted cash; the drawer's id."""
    amount = _amount(counted, "counted", allow_zero=True)
    text = note.strip()
    if len(text) > 500:
        raise DrawerError("text_too_long", "at most 500 characters", "note")
    with db.write() as session:
        drawer = session.scalar(select(DeskDrawer).where(
            DeskDrawer.clerk_id == clerk_id, DeskDrawer.closed_at.is_(None))
            .with_for_update())
        if drawer is None:
            raise DrawerError("drawer_closed", "you have no open drawer")
        expected = totals(session, drawer).expected
        drawer.expected = expected
        drawer.counted = amount
        drawer.difference = amount - expected
        drawer.note = text or None
        drawer.closed_at = utcnow()
        record(session, f"staff:{clerk}", "desk.drawer_close", str(drawer.id), {
            "expected": fmt(expected), "counted": fmt(amount),
            "difference": fmt(amount - expected), "note": text}, origin=origin)
        return drawer.id


def past_drawers(session: Session, clerk_id: int | None, limit: int = 50) -> list[DeskDrawer]:
    """Closed drawers, newest first; of one clerk, or of everyone (``clerk_id`` None)."""
    query = select(DeskDrawer).where(DeskDrawer.closed_at.is_not(None))
    if clerk_id is not None:
        query = query.where(DeskDrawer.clerk_id == clerk_id)
    return list(session.scalars(query.order_by(DeskDrawer.closed_at.desc(),
                                               DeskDrawer.id.desc()).limit(limit)))
