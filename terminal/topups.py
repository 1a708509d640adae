"""Topping up at the kiosk with a payment QR code: amount, start, wait, cancel.

Like a voucher, a top-up needs the backend's answer (only it can ask the gateway for a
payment page), so nothing here is queued in the outbox: offline, every step is refused
at once with ``topup_offline`` and nothing was started. The idempotency key of a start is
made once per attempt and reused when the same user asks for the same amount again
after an attempt that got no answer, so a lost answer never leaves two top-ups pending.

The amount is judged here, live, against the backend's limits (:func:`judge`), so the
keypad can say "at least 1,00 €" before any request; the backend checks again.
Waiting is a long-poll (:meth:`TopUpDesk.wait`): the backend answers when the status
changes, so the kiosk learns of a payment as soon as the backend does. A wait that comes
back early (an error, an unreachable backend) is stretched to :data:`MIN_POLL_S`, so a
failing network is never asked more than once a second.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from decimal import ROUND_UP, Decimal, InvalidOperation

from terminal.ports import (
    BackendError,
    BackendUnavailable,
    Ledger,
    TopUp,
    TopUpOptions,
    TopUpRefusal,
)

__all__ = ["MIN_POLL_S", "OFFLINE", "AmountJudgement", "TopUpDesk", "judge", "missing_amount"]

_log = logging.getLogger(__name__)

OFFLINE = "topup_offline"  # the backend could not be reached: nothing was started
MIN_POLL_S = 1.0  # never ask for a top-up's status more often than this
WAIT_S = 20.0  # what one long-poll asks the backend to hold (the contract allows 30)
CENT = Decimal("0.01")
MAX_DIGITS = 7  # what the keypad lets one type: far above any sensible maximum


@dataclass(frozen=True)
class AmountJudgement:
    """Typed digits judged against the limits: ``status`` is "empty", "malformed",
    "below", "above" or "ok"; ``amount`` set when the text is a number."""

    status: str
    amount: Decimal | None = None


def judge(typed: str, options: TopUpOptions) -> AmountJudgement:
    """The keypad's text (digits, at most one decimal separator, at most 2 decimals)
    against the backend's min and max."""
    text = typed.strip().replace(",", ".")
    if not text:
        return AmountJudgement("empty")
    whole, _, cents = text.partition(".")
    if not (whole or cents) or not (whole + cents).isdigit() or len(cents) > 2 \
            or text.count(".") > 1:
        return AmountJudgement("malformed")
    try:
        amount = Decimal(text).quantize(CENT)
    except InvalidOperation:
        return AmountJudgement("malformed")
    if amount < options.minimum:
        return AmountJudgement("below", amount)
    if amount > options.maximum:
        return AmountJudgement("above", amount)
    return AmountJudgement("ok", amount)


def missing_amount(short_by: Decimal, options: TopUpOptions) -> Decimal:
    """The top-up that covers ``short_by``: rounded up to the cent, at least the
    minimum, at most the maximum (a bigger shortfall is covered in several top-ups)."""
    needed = short_by.quantize(CENT, rounding=ROUND_UP)
    return min(max(needed, options.minimum), options.maximum)


class TopUpDesk:
    """The kiosk-facing top-up: blocking calls, to be run off the UI thread."""

    def __init__(self, ledger: Ledger, new_key: Callable[[], str] = lambda: str(uuid.uuid4()),
                 clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], None] = time.sleep, wait_s: float = WAIT_S) -> None:
        self._ledger = ledger
        self._wait_s = wait_s
        self._new_key = new_key
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()
        # (username, amount) -> the key of the last start that got no answer
        self._unanswered: dict[tuple[str, Decimal], str] = {}

    def options(self, username: str) -> TopUpOptions | TopUpRefusal:
        try:
            return self._ledger.topup_options(username)
        except BackendUnavailable as exc:
            _log.info("top-up options for %s not answered: %s", username, exc)
            return TopUpRefusal(OFFLINE)
        except BackendError as exc:  # no gateway configured, an expired session...
            return TopUpRefusal(exc.code)

    def start(self, username: str, amount: Decimal) -> TopUp | TopUpRefusal:
        """Start a top-up of ``amount``; a refusal is an answer, never raised."""
        attempt = (username, amount)
        with self._lock:
            key = self._unanswered.pop(attempt, None) or self._new_key()
        try:
            return self._ledger.create_topup(username, amount, key)
        except BackendUnavailable as exc:
            _log.info("top-up for %s not answered: %s", username, exc)
            with self._lock:
                self._unanswered[attempt] = key
            return TopUpRefusal(OFFLINE)
        except BackendError as exc:
            return TopUpRefusal(exc.code)

    def wait(self, username: str, topup: TopUp, wait_s: float | None = None) -> TopUp:
        """The top-up's next state: the backend's answer to one long-poll, or the same
        top-up (still pending) when it could not answer. Never returns in less than
        :data:`MIN_POLL_S` with the top-up still pending."""
        began = self._clock()
        try:
            latest = self._ledger.wait_topup(
                username, topup.topup_id, self._wait_s if wait_s is None else wait_s)
        except BackendError as exc:
            _log.info("waiting for top-up %s: %s", topup.topup_id, exc)
            latest = topup
        if latest.pending:
            early = MIN_POLL_S - (self._clock() - began)
            if early > 0:
                self._sleep(early)
        return latest

    def cancel(self, username: str, topup: TopUp) -> TopUp | TopUpRefusal:
        """Cancel; the answer may be "paid" (the payment won the race): show that."""
        try:
            return self._ledger.cancel_topup(username, topup.topup_id)
        except BackendUnavailable:
            return TopUpRefusal(OFFLINE)
        except BackendError as exc:
            return TopUpRefusal(exc.code)
