"""``/admin/vouchers`` and ``/admin/top-ups``: voucher batches with their figures, a new
batch, revoking serials; the online top-ups, and refunding a paid one when a payment
gateway is configured.

As ``printkiosk vouchers create``: the codes exist only encrypted in the database, with a
one-time export token shown once, after creation; the card sheet (the PDF of
``backend.voucher_cards``) is made with that token, which spends it. The accounting is
the existing functions' (``vouchers.create_batch``, ``voucher_admin.revoke``,
``topups.refund_top_up``), each auditing with the staff member and the origin.
"""

from __future__ import annotations

import tempfile
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import select

from backend import topups, voucher_admin, voucher_cards, vouchers
from backend.ledger import LedgerError
from backend.models import TopUp, User
from backend.money import parse_typed_amount
from backend.web.auth import context_of, origin_of, staff
from backend.web.sessions import WebIdentity
from backend.web.templating import page_text, render

router = APIRouter(include_in_schema=False)
Admin = Annotated[WebIdentity, Depends(staff("administrator"))]
Reader = Annotated[WebIdentity, Depends(staff("administrator", "auditor"))]
Field = Annotated[str, Form(max_length=200)]


def _vouchers_page(request: Request, identity: WebIdentity, status_code: int = 200,
                   errors: dict[str, str] | None = None, values: dict[str, str] | None = None,
                   created: Any = None) -> HTMLResponse:
    context = context_of(request)
    with context.db.read() as session:
        batches = voucher_admin.stats(session, context.config.vouchers.timezone)
    return render(request, "admin/vouchers.html", identity, status_code=status_code,
                  batches=batches, errors=errors or {}, values=values or {},
                  created=created, revoked=request.query_params.get("revoked", "")[:40])


@router.get("/admin/vouchers", response_class=HTMLResponse)
def vouchers_page(request: Request, identity: Reader) -> HTMLResponse:
    return _vouchers_page(request, identity)


@router.post("/admin/vouchers", response_class=HTMLResponse)
def create_batch(request: Request, identity: Admin, value: Field = "", count: Field = "",
                 expires_on: Field = "", prefix: Field = "", note: Field = "") -> Response:
    """Answers with the page (no redirect): the export token is shown this once."""
    text = page_text(request, identity)
    values = {"value": value, "count": count, "expires_on": expires_on, "prefix": prefix,
              "note": note}
    errors: dict[str, str] = {}
    try:
        amount = parse_typed_amount(value, allow_zero=False)
    except ValueError:
        errors["value"] = text("Value: give an amount such as 5.00.")
    number = int(count) if count.strip().isdigit() else 0
    if not 1 <= number <= vouchers.MAX_COUNT:
        errors["count"] = text("Count: give a whole number from 1 to {max}.",
                               max=vouchers.MAX_COUNT)
    try:
        day = date.fromisoformat(expires_on.strip())
    except ValueError:
        errors["expires_on"] = text("Expires: give a date such as 2027-06-30.")
    if errors:
        return _vouchers_page(request, identity, 400, errors, values)
    context = context_of(request)
    try:
        with context.db.write() as session:
            made = vouchers.create_batch(
                session, context.secret, value=amount, currency=context.currency,
                count=number, expires_on=day, prefix=prefix.strip().upper(),
                note=note.strip(), actor=f"staff:{identity.username}",
                timezone=context.config.vouchers.timezone, origin=origin_of(request))
            created = {"public_id": made.batch.public_id, "token": made.export_token,
                       "count": number}
    except LedgerError as exc:
        field = {"voucher_expiry_invalid": "expires_on",
                 "voucher_prefix_invalid": "prefix"}.get(exc.code, "value")
        message = {"expires_on": text("Expires: the date must be in the future."),
                   "prefix": text("Prefix: up to 6 letters or digits.")}.get(
            field, text("Value: give an amount such as 5.00."))
        return _vouchers_page(request, identity, 400, {field: message}, values)
    response = _vouchers_page(request, identity, created=created)
    response.headers["Cache-Control"] = "no-store"
    return response


@router.post("/admin/vouchers/{public_id}/cards")
def card_sheet(request: Request, public_id: str, identity: Admin,
               token: Field = "") -> Response:
    """The batch's cards as a PDF, with the one-time export token (spent here: audited
    ``voucher.export``; a failure to draw rolls the export back)."""
    context = context_of(request)
    settings = context.config.vouchers
    try:
        with context.db.write() as session:
            batch, codes = vouchers.export_codes(session, context.secret, public_id, token,
                                                 f"staff:{identity.username}",
                                                 origin_of(request))
            faces = voucher_cards.card_faces(
                [(serial, code.display) for serial, code in enumerate(codes, start=1)],
                amount=batch.value, currency=batch.currency, expires_on=batch.expires_on,
                site=settings.site_name, count=batch.count, prefix=batch.prefix,
                language=settings.card_language)
            with tempfile.TemporaryDirectory() as folder:
                target = Path(folder) / "cards.pdf"
                voucher_cards.write_card_sheet(faces, target)
                pdf = target.read_bytes()
    except LedgerError:
        text = page_text(request, identity)
        return _vouchers_page(request, identity, 409, {"cards": text(
            "The card sheet was already made, or the token is wrong.")})
    return Response(pdf, media_type="application/pdf", headers={
        "Content-Disposition": f'inline; filename="{public_id}-cards.pdf"',
        "Cache-Control": "no-store"})


@router.post("/admin/vouchers/{public_id}/revoke")
def revoke_serials(request: Request, public_id: str, identity: Admin, serials: Field = "",
                   reason: Field = "", sold: Field = "") -> Response:
    text = page_text(request, identity)
    context = context_of(request)
    choice = sold if sold in ("refund", "forfeit") else None
    try:
        with context.db.write() as session:
            batch = vouchers.find_batch(session, public_id)
            wanted = voucher_admin.parse_serials(serials, batch.count) if serials.strip() \
                else None
            done = voucher_admin.revoke(session, public_id, serials=wanted,
                                        sold_vouchers=choice,  # type: ignore[arg-type]
                                        reason=reason, actor=f"staff:{identity.username}",
                                        origin=origin_of(request))
    except ValueError:
        return _vouchers_page(request, identity, 400, {f"revoke-{public_id}": text(
            "Serials: give numbers or ranges of this batch, such as 3-9,12.")})
    except LedgerError as exc:
        message = {"reason_required": text("Give a reason for the revocation."),
                   "voucher_sold_option_required": text(
                       "Some of these vouchers are sold: choose refund or forfeit.")}.get(
            exc.code, text("These vouchers cannot be revoked."))
        return _vouchers_page(request, identity, 400, {f"revoke-{public_id}": message})
    revoked = done.unsold + done.refunded + done.forfeited
    return RedirectResponse(f"/admin/vouchers?revoked={revoked}", status_code=303)


def _topups_page(request: Request, identity: WebIdentity, status_code: int = 200,
                 error: str | None = None) -> HTMLResponse:
    context = context_of(request)
    with context.db.read() as session:
        rows = list(session.execute(select(TopUp, User.username)
                                    .join(User, User.id == TopUp.user_id)
                                    .order_by(TopUp.created_at.desc()).limit(200)).tuples())
    gateway = request.app.state.gateway
    return render(request, "admin/top_ups.html", identity, status_code=status_code,
                  rows=rows, can_refund=gateway is not None, error=error,
                  refunded=request.query_params.get("refunded", "")[:40])


@router.get("/admin/top-ups", response_class=HTMLResponse)
def top_ups_page(request: Request, identity: Reader) -> HTMLResponse:
    return _topups_page(request, identity)


@router.post("/admin/top-ups/{public_id}/refund")
def refund(request: Request, public_id: str, identity: Admin, amount: Field = "",
           reason: Field = "") -> Response:
    text = page_text(request, identity)
    gateway = request.app.state.gateway
    if gateway is None:
        return _topups_page(request, identity, 409, text("No payment gateway is configured."))
    wanted: Decimal | None = None
    if amount.strip():
        try:
            wanted = parse_typed_amount(amount, allow_zero=False)
        except ValueError:
            return _topups_page(request, identity, 400, text(
                "Amount: give an amount such as 5.00, or leave it empty for all."))
    context = context_of(request)
    try:
        with context.db.write() as session:
            top_up = topups.find(session, public_id)
            topups.refund_top_up(session, top_up, gateway, wanted, reason,
                                 f"staff:{identity.username}", origin_of(request))
    except LedgerError as exc:
        message = {
            "reason_required": text("Give a reason for the refund."),
            "refund_exceeds_charge": text("The amount is more than what is left to refund."),
            "refund_exceeds_credit": text(
                "The user has already spent part of this credit: refund less."),
        }.get(exc.code, text("This top-up cannot be refunded."))
        return _topups_page(request, identity, 400, message)
    return RedirectResponse(f"/admin/top-ups?refunded={public_id}", status_code=303)
