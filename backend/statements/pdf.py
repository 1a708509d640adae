"""The statement as a PDF (reportlab, A4): the client, the period, every line with its
tier, the total, and where a member's statement went (seed 002's transfer).

Set in DejaVu Sans like the vouchers and receipts (backend.voucher_cards' fonts): French
amounts need no-break spaces and the 14 standard PDF fonts cannot show them.
"""

from __future__ import annotations

import io

from backend.statements.document import StatementView, describe, status_text, unit_price
from backend.web.i18n import PageText


def statement_pdf(view: StatementView, timezone: str = "UTC") -> bytes:
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.units import mm
    from reportlab.pdfgen.canvas import Canvas

    from backend.voucher_cards import _register_fonts

    _register_fonts()
    text = PageText(view.language, view.currency, timezone)
    out = io.BytesIO()
    canvas = Canvas(out, pagesize=A4, invariant=True)
    title = text("Statement {number}", number=view.number)
    canvas.setTitle(title)
    width, height = A4
    left, right = 18 * mm, width - 18 * mm
    columns = (right - 75 * mm, right - 45 * mm, right)  # quantity, unit price, amount

    def heading() -> float:
        y = height - 22 * mm
        canvas.setFont("CardSans-Bold", 16)
        canvas.drawString(left, y, title)
        canvas.setFont("CardSans", 10)
        facts = [
            (text("Client"), f"{view.client_name} ({view.client_code})"),
            (text("Period"), text("{first} to {last}", first=text.day(view.period_start),
                                  last=text.day(view.last_day))),
            (text("Status"), status_text(view.status, text)),
        ]
        if view.issued_at:
            facts.append((text("Issued"), text.when(view.issued_at)))
        if view.due_date:
            facts.append((text("Due"), text.day(view.due_date)))
        if view.transferred_to:
            facts.append((text("Transferred to"), view.transferred_to))
        for label, value in facts:
            y -= 6 * mm
            canvas.drawString(left, y, label)
            canvas.drawString(left + 35 * mm, y, value)
        y -= 11 * mm
        canvas.setFont("CardSans-Bold", 9)
        canvas.drawString(left, y, text("Description"))
        for x, label in zip(columns, (text("Quantity"), text("Unit price"), text("Amount")),
                            strict=True):
            canvas.drawRightString(x, y, label)
        canvas.line(left, y - 2 * mm, right, y - 2 * mm)
        return float(y - 7 * mm)

    y = heading()
    for line in view.lines:
        if y < 30 * mm:
            canvas.showPage()
            y = heading()
        canvas.setFont("CardSans", 9)
        canvas.drawString(left, y, describe(line, text)[:70])
        canvas.drawRightString(columns[0], y, text.number(line.quantity))
        canvas.drawRightString(columns[1], y, unit_price(text, line.unit_price))
        canvas.drawRightString(columns[2], y, text.money(line.amount))
        y -= 5.5 * mm
    canvas.line(left, y + 2 * mm, right, y + 2 * mm)
    y -= 4 * mm
    canvas.setFont("CardSans-Bold", 11)
    canvas.drawString(left, y, text("Total"))
    canvas.drawRightString(columns[2], y, text.money(view.total))
    if view.transferred_to:
        y -= 8 * mm
        canvas.setFont("CardSans", 9)
        canvas.drawString(left, y, text("This statement is paid through {parent}.",
                                        parent=view.transferred_to))
    canvas.showPage()
    canvas.save()
    return out.getvalue()
