"""``/me``: the user's own page — balance, history, language, vouchers, top-ups, password,
notifications.

Only the signed-in user's data, ever: every read and change goes through
``backend.me_account`` with ``identity.user_id`` and no URL or form field names a user,
a hold or a transaction (the success message's transaction id and the top-up's public
id are looked up as the user's own, else ignored / 404). Forms post here and come back
with Post/Redirect/Get; a refused form is the page again with the error next to its field
(status 4xx), nothing written except what the refusal itself records (a voucher guess).
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Annotated, Any
from uuid import uuid4

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import select

from backend import ledger, me_account, topups
from backend.api.vouchers import STATUS_OF_REFUSAL
from backend.ledger import LedgerError
from backend.models import User
from backend.money import fmt, parse_typed_amount
from backend.notify import preferences
from backend.payments.gateway import PaymentGateway
from backend.vouchers import Refusal
from backend.web import login_limits
from backend.web.auth import client_address, context_of, me, origin_of
from backend.web.i18n import PageText
from backend.web.passwords import MIN_LENGTH
from backend.web.sessions import COOKIES, WebIdentity, open_session
from backend.web.sign_in import set_cookie
from backend.web.templating import LANGUAGE_COOKIE, page_text, render

router = APIRouter(include_in_schema=False)
Me = Annotated[WebIdentity, Depends(me())]


def _gateway(request: Request) -> PaymentGateway | None:
    gateway: PaymentGateway | None = request.app.state.gateway
    return gateway


def _page(request: Request, identity: WebIdentity, status_code: int = 200,
          errors: dict[str, str] | None = None, values: dict[str, str] | None = None,
          notice: str | None = None, tx_page: int = 1, job_page: int = 1) -> HTMLResponse:
    context = context_of(request)
    settings = context.config.payments
    with context.db.read() as session:
        user = session.get(User, identity.user_id)
        assert user is not None
        balance = ledger.balance(session, user, context.currency)
        history = me_account.transactions(session, identity.user_id, tx_page)
        holds = me_account.print_jobs(session, identity.user_id, job_page)
        jobs3d = me_account.print3d_jobs(session, identity.user_id)
        top_ups = me_account.recent_top_ups(session, identity.user_id)
        language = user.language
        notify = preferences.read(session, user, context.config.notifications)
    text = page_text(request, identity)
    return render(request, "me/home.html", identity, status_code=status_code,
                  balance=balance, history=history, holds=holds, jobs3d=jobs3d,
                  top_ups=top_ups, account_language=language, notify=notify,
                  own_threshold=_typed(text, notify.low_balance_threshold)
                  if notify.own_threshold else "",
                  errors=errors or {},
                  values=values or {}, notice=notice, kind_label=kind_label(text),
                  **status_labels(text),
                  gateway=_gateway(request), presets=[Decimal(p) for p in settings.presets],
                  min_amount=settings.min_decimal, max_amount=settings.max_decimal,
                  operation=uuid4().hex, min_length=MIN_LENGTH)


def _typed(text: PageText, amount: Decimal) -> str:
    """An amount as the user would type it back: "2.50", "2,50" in French (no grouping,
    which ``parse_typed_amount`` would refuse)."""
    shown = fmt(amount)
    return shown.replace(".", ",") if text.language == "fr" else shown


def kind_label(text: PageText) -> dict[str, str]:
    """The transaction kinds a user meets, in the page's language (others: as stored)."""
    return {"charge": text("Print charge"), "refund": text("Refund"),
            "adjustment": text("Adjustment"), "refill": text("Quota refill"),
            "deposit": text("Deposit"), "topup": text("Top-up"),
            "topup_refund": text("Top-up refund"),
            "voucher_redemption": text("Voucher")}


def status_labels(text: PageText) -> dict[str, Any]:
    """The states of holds, 3D jobs and top-ups, in the page's language."""
    return {
        "hold_status": {"open": text("In progress"), "captured": text("Printed"),
                        "voided": text("Cancelled, not charged")},
        "job3d_status": {"ready": text("Ready to print"), "printing": text("Printing"),
                         "completed": text("Printed"), "cancelled": text("Cancelled"),
                         "failed": text("Failed"), "deleted": text("Deleted")},
        "top_up_status": {"pending": text("Waiting for payment"), "paid": text("Paid"),
                          "expired": text("Expired"), "failed": text("Declined"),
                          "cancelled": text("Cancelled"), "mismatch": text(
                              "Another amount was paid: ask at the cash desk"),
                          "refunded": text("Refunded")},
    }


@router.get("/me", response_class=HTMLResponse)
def home(request: Request, identity: Me, transactions: int = 1, jobs: int = 1,
         redeemed: int | None = None, saved: str | None = None) -> HTMLResponse:
    """The page; ``redeemed`` (a transaction id of this user's) and ``saved`` say what
    the last form did."""
    context = context_of(request)
    text = page_text(request, identity)
    notice = None
    if redeemed is not None:
        with context.db.read() as session:
            own = me_account.own_transaction(session, identity.user_id, redeemed)
            if own is not None and own.kind == "voucher_redemption":
                value = sum((entry.amount for entry in own.entries if entry.amount > 0),
                            Decimal("0"))
                notice = text("Voucher redeemed: {amount} added to your balance.",
                              amount=text.money(value))
    elif saved == "language":
        notice = text("Your language is saved.")
    elif saved == "notifications":
        notice = text("Your notification choices are saved.")
    elif saved == "password":
        notice = text("Your password is changed. Your other sessions are signed out.")
    return _page(request, identity, notice=notice, tx_page=transactions, job_page=jobs)


@router.post("/me/language")
def choose_language(request: Request, identity: Me,
                    language: Annotated[str, Form(max_length=8)] = "") -> Response:
    """Save the account's language (the kiosk speaks it too) and show the page in it."""
    context = context_of(request)
    if language not in me_account.LANGUAGES:
        text = page_text(request, identity)
        return _page(request, identity, 400, errors={"language": text(
            "Choose English or French.")})
    with context.db.write() as session:
        me_account.set_language(session, identity.user_id, language, origin_of(request))
    response = RedirectResponse("/me?saved=language", status_code=303)
    set_cookie(response, request, LANGUAGE_COOKIE, language, max_age=365 * 86400)
    return response


@router.post("/me/notifications")
def choose_notifications(request: Request, identity: Me,
                         low_balance: Annotated[str, Form(max_length=8)] = "",
                         threshold: Annotated[str, Form(max_length=20)] = "",
                         transactions: Annotated[str, Form(max_length=8)] = "") -> Response:
    """Save the two switches and the threshold (empty: the site's), audited as the
    user's own change; a threshold that is not an amount is refused next to its field."""
    context = context_of(request)
    try:
        amount = preferences.parse_threshold(threshold)
    except preferences.ThresholdRefused as refused:
        text = page_text(request, identity)
        return _page(request, identity, 400, values={"threshold": threshold},
                     errors={"threshold": _threshold_error(text, refused.reason)})
    with context.db.write() as session:
        user = session.get(User, identity.user_id)
        assert user is not None
        preferences.change(session, user, low_balance_enabled=low_balance == "on",
                           low_balance_threshold=amount,
                           transactions_enabled=transactions == "on",
                           actor=me_account.actor_of(identity.username),
                           origin=origin_of(request))
    return RedirectResponse("/me?saved=notifications", status_code=303)


def _threshold_error(text: PageText, reason: str) -> str:
    if reason == "negative":
        return text("The amount cannot be negative.")
    if reason == "decimals":
        return text("At most 2 decimals, such as 2.50.")
    if reason == "too_large":
        return text("This amount is too large.")
    return text("This is not an amount: type digits such as 2.50 (or 2,50), or leave it "
                "empty for the site's amount.")


def _voucher_error(text: PageText, refusal: Refusal) -> str:
    if refusal.code == "voucher_rate_limited":
        return text("Too many unknown codes: voucher redemption is locked until {time}.",
                    time=text.when(me_account.locked_until(refusal)))
    messages = {
        "voucher_typo": text("This code has a typo: check every character (the last one "
                             "is a check character)."),
        "voucher_unknown": text("No voucher has this code."),
        "voucher_redeemed": text("This voucher was already redeemed."),
        "voucher_expired": text("This voucher has expired."),
        "voucher_revoked": text("This voucher was revoked."),
        "voucher_not_sold": text("This voucher card was never sold: ask at the cash "
                                 "desk."),
        "voucher_currency": text("This voucher is in another currency."),
    }
    return messages[refusal.code]


@router.post("/me/voucher")
def redeem(request: Request, identity: Me,
           code: Annotated[str, Form(max_length=100)] = "") -> Response:
    """Redeem a voucher code: the kiosk's checks, limits and ledger posting."""
    context = context_of(request)
    outcome = me_account.redeem_voucher(context.db, context.secret, context.config,
                                        identity.user_id, code, origin_of(request))
    if isinstance(outcome, Refusal):
        text = page_text(request, identity)
        status = 400 if outcome.code == "voucher_typo" else STATUS_OF_REFUSAL[outcome.code]
        return _page(request, identity, status, errors={"code": _voucher_error(text, outcome)},
                     values={"code": code})
    return RedirectResponse(f"/me?redeemed={outcome.transaction_id}", status_code=303)


def _amount(preset: str, other: str) -> Decimal | None:
    try:
        return parse_typed_amount(other or preset, allow_zero=False)
    except ValueError:
        return None


@router.post("/me/topup")
def top_up(request: Request, identity: Me,
           preset: Annotated[str, Form(max_length=20)] = "",
           other: Annotated[str, Form(max_length=20)] = "",
           operation: Annotated[str, Form(max_length=64)] = "") -> Response:
    """Start a top-up and go to the gateway's page (the demo's is on this site)."""
    context = context_of(request)
    gateway = _gateway(request)
    settings = context.config.payments
    text = page_text(request, identity)
    if gateway is None:
        return _page(request, identity, 404, errors={"topup": text(
            "Top-ups are not available on this site.")})
    amount = _amount(preset, other)
    if amount is None or not settings.min_decimal <= amount <= settings.max_decimal:
        return _page(request, identity, 400, values={"other": other}, errors={
            "topup": text("Pick an amount or type one between {min} and {max}, such as "
                          "5.00.", min=text.money(settings.min_decimal),
                          max=text.money(settings.max_decimal))})
    try:
        started = topups.start_top_up(
            context.db, context.secret, gateway, user_id=identity.user_id,
            terminal_id=None, amount=amount, currency=context.currency,
            expire_after=timedelta(minutes=settings.expire_after_min),
            public_base_url=settings.public_base_url,
            idempotency_key=f"me:{operation}" if operation else None,
            actor=me_account.actor_of(identity.username), origin=origin_of(request))
    except topups.GatewayUnavailable:
        return _page(request, identity, 503, errors={"topup": text(
            "The payment service did not answer. Try again in a moment.")})
    except LedgerError:  # the form of an earlier top-up, sent again with another amount
        return _page(request, identity, 409, errors={"topup": text(
            "This form was already sent for another amount: try again here.")})
    if started.pay_url is None:  # the demo gateway's page, on this site
        token = topups.url_token(context.secret, started.public_id)
        return RedirectResponse(f"/pay/{token}", status_code=303)
    return RedirectResponse(f"/me/topups/{started.public_id}", status_code=303)


@router.get("/me/topups/{public_id}", response_class=HTMLResponse)
def top_up_status(request: Request, identity: Me, public_id: str) -> HTMLResponse:
    """One of the user's top-ups: its state, and the gateway's page to pay on."""
    context = context_of(request)
    with context.db.read() as session:
        found = me_account.own_top_up(session, identity.user_id, public_id)
        if found is not None:
            session.expunge(found)
    if found is None:
        text = page_text(request, identity)
        return render(request, "forbidden.html", identity, status_code=404,
                      reason=text("No top-up of yours has this number."))
    return render(request, "me/topup.html", identity, top_up=found,
                  **status_labels(page_text(request, identity)))


@router.post("/me/password")
def change_password(request: Request, identity: Me,
                    current: Annotated[str, Form(max_length=300)] = "",
                    new: Annotated[str, Form(max_length=300)] = "",
                    repeat: Annotated[str, Form(max_length=300)] = "") -> Response:
    """Change the password: the current one first, limited like a sign-in; every other
    /me session of the account ends, this browser gets a fresh one."""
    context = context_of(request)
    web = context.config.web
    text = page_text(request, identity)
    wait = request.app.state.web_login_bucket.take(client_address(request))
    locked = login_limits.locked_until(context.db, identity.username)
    if wait is not None or locked is not None:
        return _page(request, identity, 429, errors={"current": text(
            "Too many wrong passwords: try again later.")})
    with context.db.read() as session:
        stored = session.scalar(select(User.password_hash).where(
            User.id == identity.user_id))
    refusal = me_account.password_refusal(context.secret, stored, current, new, repeat)
    if refusal is not None and refusal.reason == "wrong_current":
        until = login_limits.record_failure(context.db, identity.username,
                                            web.login_max_failures,
                                            timedelta(seconds=web.login_lockout_s))
        if until is not None:
            return _page(request, identity, 429, errors={"current": text(
                "Too many wrong passwords: try again later.")})
        return _page(request, identity, 400, errors={"current": text(
            "This is not your current password.")})
    if refusal is not None:
        return _page(request, identity, 400, errors={
            refusal.field: _password_message(text, refusal.reason)})
    login_limits.clear_failures(context.db, identity.username)
    with context.db.write() as session:
        me_account.change_password(session, context.secret, identity.user_id, new,
                                   origin_of(request))
    token = open_session(context.db, context.secret, identity.user_id, "me",
                         origin_of(request), request.headers.get("user-agent", ""))
    response = RedirectResponse("/me?saved=password", status_code=303)
    set_cookie(response, request, COOKIES["me"], token)
    return response


def _password_message(text: PageText, reason: str) -> str:
    if reason == "mismatch":
        return text("The two new passwords differ.")
    if reason == "same":
        return text("The new password is your current one: choose another.")
    if reason.startswith("a password needs at least"):
        return text("A password needs at least {count} characters.", count=MIN_LENGTH)
    return text("This password cannot be used: at most 200 characters, no control "
                "characters.")

