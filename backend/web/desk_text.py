"""The cash desk's shown texts that come from code: the refusals of backend.cash_desk*
by their stable code, and the lines of a receipt (the PDF and the printed one)."""

from __future__ import annotations

from backend.cash_desk import MAX_DESK_AMOUNT
from backend.cash_desk_receipts import ReceiptFacts, ReceiptLines, receipt_number
from backend.web.i18n import PageText


def error_message(text: PageText, code: str) -> str:
    """The clerk's sentence for a refusal ``code`` (stable keys, house rule 10)."""
    if code == "amount_invalid":
        return text("Write an amount above zero such as 12.50 (digits, at most two "
                    "decimals).")
    if code == "amount_too_large":
        return text("At most {amount} in one operation.",
                    amount=text.money(MAX_DESK_AMOUNT))
    if code == "method_invalid":
        return text("Choose how the money was paid: cash, card terminal or cheque.")
    if code == "reason_required":
        return text("Give a reason.")
    if code == "text_too_long":
        return text("This text is too long (at most 500 characters).")
    if code == "cash_out_exceeds_credit":
        return text("That is more than the personal credit that can be paid out.")
    if code in ("refund_exceeds_charge", "not_refundable"):
        return text("That is more than what remains to refund of this job.")
    if code == "charge_unknown":
        return text("Choose one of this user's charged jobs.")
    if code == "drawer_closed":
        return text("Open your drawer first (Drawer page).")
    if code == "drawer_open":
        return text("Your drawer is already open.")
    if code in ("voucher_batch_unknown", "batch_unknown"):
        return text("There is no such voucher batch.")
    if code == "serials_invalid":
        return text("Write serials as N or N-M, separated by commas, within the batch.")
    if code in ("voucher_not_in_stock", "voucher_stock_short"):
        return text("Some of these vouchers are not in stock (sold or revoked).")
    if code == "voucher_revoked":
        return text("This batch is revoked.")
    if code == "voucher_expired":
        return text("This batch has expired.")
    if code == "operation_invalid":
        return text("This form is incomplete: reload the page and try again.")
    if code == "user_disabled":
        return text("This user is disabled.")
    return text("This operation was refused ({code}).", code=code)


def kind_label(text: PageText, kind: str) -> str:
    if kind == "cash_in":
        return text("Cash in")
    if kind == "cash_out":
        return text("Cash out")
    if kind == "job_refund":
        return text("Job refund")
    if kind == "voucher_sale":
        return text("Voucher sale")
    return kind


def method_label(text: PageText, method: str) -> str:
    if method == "cash":
        return text("Cash")
    if method == "card_terminal":
        return text("Card terminal")
    if method == "cheque":
        return text("Cheque")
    if method == "credit":
        return text("To the user's credit")
    return method


def receipt_lines(text: PageText, facts: ReceiptFacts) -> ReceiptLines:
    lines = [(text("Receipt"), receipt_number(facts.number)),
             (text("Date"), text.when(facts.at)),
             (text("Operation"), kind_label(text, facts.kind)),
             (text("Payment"), method_label(text, facts.method)),
             (text("Amount"), text.money(facts.amount))]
    if facts.username is not None:
        lines.append((text("User"), f"{facts.display_name} ({facts.username})"))
    if facts.comment:
        lines.append((text("Note"), facts.comment))
    lines.append((text("Clerk"), facts.clerk))
    return ReceiptLines(text("Cash desk receipt"), lines)
