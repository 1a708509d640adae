"""``/cash-desk``: find a user (as you type, or by a card swipe), the user's page with
cash in, cash out and job refunds, voucher sales, receipts, and the clerk's drawer.

The pages only parse forms, call backend.cash_desk* and render; the rules are there.
Every money form carries a hidden ``operation`` id made when the form is shown; after a
post the browser is sent (303) to the page with the receipt, so a reload posts nothing.
"""

from __future__ import annotations

import logging
import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import select

from backend import cash_desk, cash_desk_drawer, cash_desk_receipts
from backend.cash_desk import Clerk, DeskError
from backend.cash_desk_drawer import DrawerError
from backend.cash_desk_search import search_users, user_of_card
from backend.cash_desk_views import user_view
from backend.models import User
from backend.rate_limits import TokenBucket
from backend.web.auth import context_of, origin_of, staff
from backend.web.desk_text import error_message, receipt_lines
from backend.web.i18n import PageText
from backend.web.sessions import WebIdentity
from backend.web.templating import page_text, render

router = APIRouter(include_in_schema=False)
Clerkship = Annotated[WebIdentity, Depends(staff("cashier", "administrator"))]
log = logging.getLogger(__name__)
Text = Annotated[str, Form(max_length=600)]


def _clerk(request: Request, identity: WebIdentity) -> Clerk:
    return Clerk(identity.user_id, identity.username, origin_of(request))


def _card_bucket(request: Request) -> TokenBucket:
    """Card look-ups per clerk: a swipe is one, a script trying numbers is many."""
    bucket: TokenBucket = request.app.state.__dict__.setdefault(
        "desk_card_bucket", TokenBucket(1.0, 30))
    return bucket


@router.get("/cash-desk", response_class=HTMLResponse)
def desk_home(request: Request, identity: Clerkship, q: str = "") -> HTMLResponse:
    context = context_of(request)
    with context.db.read() as session:
        found = search_users(session, q) if q.strip() else []
        drawer = cash_desk_drawer.open_drawer_of(session, identity.user_id)
    return render(request, "desk/search.html", identity, q=q, found=found,
                  drawer_open=drawer is not None, not_found=False)


@router.get("/cash-desk/search", response_class=HTMLResponse)
def desk_search(request: Request, identity: Clerkship, q: str = "") -> HTMLResponse:
    """The results as the clerk types (htmx swaps them under the field)."""
    with context_of(request).db.read() as session:
        found = search_users(session, q)
    return render(request, "desk/results.html", identity, q=q, found=found)


@router.get("/cash-desk/find", response_model=None)
def desk_find(request: Request, identity: Clerkship, q: str = "") -> Response:
    """Enter in the field: a card number goes straight to its user, one match too;
    otherwise the list."""
    context = context_of(request)
    wait = _card_bucket(request).take(identity.username)
    with context.db.read() as session:
        username = user_of_card(session, context.secret, q) if (
            wait is None and q.strip()) else None
        found = [] if username else search_users(session, q)
        drawer = cash_desk_drawer.open_drawer_of(session, identity.user_id)
    if username is None and len(found) == 1:
        username = found[0].username
    if username is not None:
        return RedirectResponse(f"/cash-desk/users/{username}", status_code=303)
    return render(request, "desk/search.html", identity, q=q, found=found,
                  drawer_open=drawer is not None, not_found=not found)


def _user_page(request: Request, identity: WebIdentity, username: str,
               status_code: int = 200, error: tuple[str, str | None, str] | None = None,
               values: dict[str, str] | None = None, receipt: int | None = None) -> Response:
    context = context_of(request)
    text = page_text(request, identity)
    with context.db.read() as session:
        view = user_view(session, username, context.currency)
        drawer = cash_desk_drawer.open_drawer_of(session, identity.user_id)
        if view is None:
            return render(request, "desk/missing.html", identity, status_code=404,
                          username=username)
        return render(request, "desk/user.html", identity, status_code=status_code,
                      view=view, drawer_open=drawer is not None, error=_shown(text, error),
                      values=values or {}, receipt=receipt,
                      operations={name: uuid.uuid4().hex
                                  for name in ("cash_in", "cash_out", "refund")})


def _shown(text: PageText, error: tuple[str, str | None, str] | None
           ) -> dict[str, str] | None:
    """(form, field, message) for the template, the message translated."""
    if error is None:
        return None
    form, field, code = error
    return {"form": form, "field": field or "", "message": error_message(text, code)}


@router.get("/cash-desk/users/{username}", response_model=None)
def desk_user(request: Request, identity: Clerkship, username: str,
              receipt: int | None = None) -> Response:
    return _user_page(request, identity, username, receipt=receipt)


def _user_id(request: Request, username: str) -> int | None:
    with context_of(request).db.read() as session:
        found: int | None = session.scalar(select(User.id).where(User.username == username))
        return found


def _done(username: str, receipt: cash_desk.Receipt, request: Request,
          identity: WebIdentity) -> Response:
    if receipt.posted:
        _print(request, identity, receipt.number)
    return RedirectResponse(f"/cash-desk/users/{username}?receipt={receipt.number}",
                            status_code=303)


@router.post("/cash-desk/users/{username}/cash-in", response_model=None)
def desk_cash_in(request: Request, identity: Clerkship, username: str,
                 operation: Text = "", amount: Text = "", method: Text = "",
                 comment: Text = "") -> Response:
    user_id = _user_id(request, username)
    if user_id is None:
        return _user_page(request, identity, username)
    try:
        receipt = cash_desk.cash_in(context_of(request).db, _clerk(request, identity),
                                    context_of(request).currency, operation=operation,
                                    user_id=user_id, amount=amount, method=method,
                                    comment=comment)
    except DeskError as exc:
        return _user_page(request, identity, username, 400, ("cash_in", exc.field, exc.code),
                          {"amount": amount, "method": method, "comment": comment})
    return _done(username, receipt, request, identity)


@router.post("/cash-desk/users/{username}/cash-out", response_model=None)
def desk_cash_out(request: Request, identity: Clerkship, username: str,
                  operation: Text = "", amount: Text = "", reason: Text = "") -> Response:
    user_id = _user_id(request, username)
    if user_id is None:
        return _user_page(request, identity, username)
    try:
        receipt = cash_desk.cash_out(context_of(request).db, _clerk(request, identity),
                                     context_of(request).currency, operation=operation,
                                     user_id=user_id, amount=amount, reason=reason)
    except DeskError as exc:
        return _user_page(request, identity, username, 400,
                          ("cash_out", exc.field, exc.code),
                          {"out_amount": amount, "out_reason": reason})
    return _done(username, receipt, request, identity)


@router.post("/cash-desk/users/{username}/refund", response_model=None)
def desk_refund(request: Request, identity: Clerkship, username: str,
                operation: Text = "", charge: Text = "", amount: Text = "",
                reason: Text = "") -> Response:
    user_id = _user_id(request, username)
    if user_id is None:
        return _user_page(request, identity, username)
    values = {"charge": charge, "refund_amount": amount, "refund_reason": reason}
    if not charge.isdigit():
        return _user_page(request, identity, username, 400,
                          ("refund", "charge", "charge_unknown"), values)
    try:
        receipt = cash_desk.refund_job(context_of(request).db, _clerk(request, identity),
                                       context_of(request).currency, operation=operation,
                                       user_id=user_id, charge_id=int(charge),
                                       amount=amount, reason=reason)
    except DeskError as exc:
        return _user_page(request, identity, username, 400, ("refund", exc.field, exc.code),
                          values)
    return _done(username, receipt, request, identity)


def _vouchers_page(request: Request, identity: WebIdentity, status_code: int = 200,
                   error: tuple[str, str | None, str] | None = None,
                   values: dict[str, str] | None = None,
                   receipt: int | None = None) -> HTMLResponse:
    from backend.voucher_admin import stats

    context = context_of(request)
    with context.db.read() as session:
        batches = [row for row in stats(session, context.config.vouchers.timezone)
                   if row.batch.revoked_at is None]
        drawer = cash_desk_drawer.open_drawer_of(session, identity.user_id)
        return render(request, "desk/vouchers.html", identity, status_code=status_code,
                      batches=batches, drawer_open=drawer is not None,
                      error=_shown(page_text(request, identity), error),
                      values=values or {}, receipt=receipt, operation=uuid.uuid4().hex)


@router.get("/cash-desk/vouchers", response_class=HTMLResponse)
def desk_vouchers(request: Request, identity: Clerkship,
                  receipt: int | None = None) -> HTMLResponse:
    return _vouchers_page(request, identity, receipt=receipt)


@router.post("/cash-desk/vouchers/sell", response_model=None)
def desk_sell(request: Request, identity: Clerkship, operation: Text = "",
              batch: Text = "", serials: Text = "", buyer: Text = "") -> Response:
    context = context_of(request)
    try:
        receipt = cash_desk.sell_vouchers(context.db, _clerk(request, identity),
                                          context.currency, operation=operation,
                                          batch=batch, serials=serials, buyer=buyer)
    except DeskError as exc:
        return _vouchers_page(request, identity, 400, ("sell", exc.field, exc.code),
                              {"batch": batch, "serials": serials, "buyer": buyer})
    if receipt.posted:
        _print(request, identity, receipt.number)
    return RedirectResponse(f"/cash-desk/vouchers?receipt={receipt.number}", status_code=303)


def _drawer_page(request: Request, identity: WebIdentity, status_code: int = 200,
                 error: tuple[str, str | None, str] | None = None,
                 values: dict[str, str] | None = None,
                 closed: int | None = None) -> HTMLResponse:
    from backend.models import DeskDrawer

    context = context_of(request)
    with context.db.read() as session:
        drawer = cash_desk_drawer.open_drawer_of(session, identity.user_id)
        current = cash_desk_drawer.totals(session, drawer) if drawer is not None else None
        everyone = identity.has("administrator")
        past = cash_desk_drawer.past_drawers(session, None if everyone else identity.user_id)
        just_closed = session.get(DeskDrawer, closed) if closed is not None else None
        if just_closed is not None and just_closed.clerk_id != identity.user_id \
                and not everyone:
            just_closed = None
        return render(request, "desk/drawer.html", identity, status_code=status_code,
                      drawer=drawer, current=current, past=past, everyone=everyone,
                      just_closed=just_closed,
                      error=_shown(page_text(request, identity), error), values=values or {})


@router.get("/cash-desk/drawer", response_class=HTMLResponse)
def desk_drawer(request: Request, identity: Clerkship,
                closed: int | None = None) -> HTMLResponse:
    return _drawer_page(request, identity, closed=closed)


@router.post("/cash-desk/drawer/open", response_model=None)
def desk_drawer_open(request: Request, identity: Clerkship,
                     opening_float: Text = "") -> Response:
    context = context_of(request)
    try:
        cash_desk_drawer.open_drawer(context.db, identity.user_id, identity.username,
                                     context.currency, opening_float, origin_of(request))
    except DrawerError as exc:
        return _drawer_page(request, identity, 400, ("open", exc.field, exc.code),
                            {"opening_float": opening_float})
    return RedirectResponse("/cash-desk/drawer", status_code=303)


@router.post("/cash-desk/drawer/close", response_model=None)
def desk_drawer_close(request: Request, identity: Clerkship, counted: Text = "",
                      note: Text = "") -> Response:
    context = context_of(request)
    try:
        drawer_id = cash_desk_drawer.close_drawer(context.db, identity.user_id,
                                                  identity.username, counted, note,
                                                  origin_of(request))
    except DrawerError as exc:
        return _drawer_page(request, identity, 400, ("close", exc.field, exc.code),
                            {"counted": counted, "note": note})
    return RedirectResponse(f"/cash-desk/drawer?closed={drawer_id}", status_code=303)


def _receipt(request: Request, identity: WebIdentity,
             number: int) -> cash_desk_receipts.ReceiptLines | None:
    """A receipt the identity may see: a clerk's own, or any for an administrator."""
    with context_of(request).db.read() as session:
        facts = cash_desk_receipts.receipt_facts(session, number)
    if facts is None or (facts.clerk != identity.username
                         and not identity.has("administrator")):
        return None
    return receipt_lines(page_text(request, identity), facts)


@router.get("/cash-desk/receipts/{number}.pdf", response_model=None)
def desk_receipt_pdf(request: Request, identity: Clerkship, number: int) -> Response:
    lines = _receipt(request, identity, number)
    if lines is None:
        return Response(status_code=404)
    return Response(cash_desk_receipts.pdf(lines), media_type="application/pdf", headers={
        "Content-Disposition":
            f'inline; filename="{cash_desk_receipts.receipt_number(number)}.pdf"'})


def _print(request: Request, identity: WebIdentity, number: int) -> None:
    """On the desk's receipt printer, when there is one; a failure is logged, the PDF
    stays (the money has moved: the receipt must not undo it)."""
    settings = context_of(request).config.web.cash_desk
    if settings.receipt_printer is None:
        return
    lines = _receipt(request, identity, number)
    if lines is None:
        return
    try:
        cash_desk_receipts.print_receipt(
            settings.receipt_printer,
            cash_desk_receipts.escpos_bytes(lines, settings.receipt_profile))
    except cash_desk_receipts.ReceiptPrinterError as exc:
        log.warning("receipt %s not printed: %s", number, exc)
