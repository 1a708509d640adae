"""A statement as its reader sees it: facts loaded once, lines described in the client's
language. Shared by the PDF, the admin page and the payment-request mail, so all three
say the same thing."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from babel.numbers import format_decimal
from sqlalchemy import select
from sqlalchemy.orm import Session

from backend.models import Client, Statement, StatementLine
from backend.statements.status import carried
from backend.web.i18n import PageText


@dataclass(frozen=True)
class LineView:
    kind: str
    description: str  # stored, in English
    quantity: int
    unit_price: Decimal
    amount: Decimal
    details: dict[str, Any]


@dataclass(frozen=True)
class StatementView:
    number: str
    public_id: str
    status: str
    client_code: str
    client_name: str
    client_email: str | None
    language: str
    currency: str
    period_start: date
    period_end: date
    total: Decimal
    issued_at: datetime | None
    due_date: date | None
    paid_at: datetime | None
    transferred_to: str | None  # "number (client name)" of the parent's statement
    carries: tuple[str, ...]
    lines: tuple[LineView, ...]

    @property
    def last_day(self) -> date:
        return date.fromordinal(self.period_end.toordinal() - 1)


def load_view(session: Session, statement: Statement) -> StatementView:
    client = session.get(Client, statement.client_id)
    assert client is not None
    transferred = None
    if statement.transferred_to_id is not None:
        parent = session.get(Statement, statement.transferred_to_id)
        owner = session.get(Client, parent.client_id) if parent else None
        transferred = f"{parent.number if parent else '?'} ({owner.name if owner else '?'})"
    rows = session.scalars(select(StatementLine).where(
        StatementLine.statement_id == statement.id).order_by(StatementLine.position))
    return StatementView(
        statement.number, statement.public_id, statement.status, client.code, client.name,
        client.email, client.language if client.language in ("en", "fr") else "en",
        statement.currency, statement.period_start, statement.period_end, statement.total,
        statement.issued_at, statement.due_date, statement.paid_at, transferred,
        tuple(member.number for member in carried(session, statement)),
        tuple(LineView(r.kind, r.description, r.quantity, r.unit_price, r.amount,
                       r.details or {}) for r in rows))


def describe(line: LineView, text: PageText) -> str:
    """The line in the reader's language, from its kind and details."""
    d = line.details
    colour = {"mono": text("Black and white"), "colour": text("Colour")}.get(
        str(d.get("colour")), "")
    if line.kind == "fee":
        return text("Monthly subscription")
    if line.kind == "included":
        return text("{colour} pages included in the subscription", colour=colour)
    if line.kind == "tier":
        return text("{colour} pages {first} to {last}", colour=colour,
                    first=text.number(d["first"]), last=text.number(d["last"]))
    if line.kind == "consumable":
        return text("{supply} replaced", supply=d.get("supply", ""))
    if line.kind == "transfer":
        return text("Statement {number} of {client}", number=d.get("statement", ""),
                    client=d.get("client", ""))
    if line.kind == "pages":
        if d.get("function") == "scan":
            return text("Scanned pages")
        if "model" in d:
            device = d["model"] or text("other devices")
            what = line.description.rsplit(": ", 1)[-1]
            kind = {"mono pages": text("black and white pages"),
                    "colour pages": text("colour pages"),
                    "scanned pages": text("Scanned pages")}.get(what, what)
            return f"{device}: {kind}"
        return text("{colour} pages", colour=colour)
    return line.description


def status_text(status: str, text: PageText) -> str:
    return {"draft": text("draft"), "issued": text("issued"), "paid": text("paid"),
            "overdue": text("overdue"), "cancelled": text("cancelled")}.get(status, status)


def unit_price(text: PageText, price: Decimal) -> str:
    """A unit price with all its decimals (0.0125 stays 0.0125, 10 shows 10.00)."""
    exponent = price.normalize().as_tuple().exponent
    digits = max(2, -exponent if isinstance(exponent, int) else 2)
    return format_decimal(price, format="#,##0." + "0" * digits,
                          locale="fr_FR" if text.language == "fr" else "en_GB")
