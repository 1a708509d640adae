"""Redeeming a voucher at the kiosk: judge the typed code live, then ask the backend once.

The kiosk may not import ``billing`` (the import rule), so the code format reaches it
through here: :func:`assess` is billing's own judgement of typed text, re-exported, and
:data:`ALPHABET` is the keyboard's keys. A typo (wrong check character) or a foreign
character is refused here, before any request: it never reaches the backend, so it never
counts as a guess against the user's few allowed attempts.

A redemption needs the backend's answer (only it knows whether the voucher exists and
was not redeemed elsewhere a second ago), so it is never queued in the outbox: offline,
it is refused at once with ``voucher_offline``. Its idempotency key is made once per
attempt and reused when the same user sends the same code again after an attempt that
got no answer: if that lost attempt did credit, the resend gets the first answer (the
credit) instead of "already redeemed" by themselves.
"""

from __future__ import annotations

import logging
import threading
import uuid
from collections.abc import Callable

from billing.voucher_codes import ALPHABET, Assessment, assess
from terminal.ports import BackendError, BackendUnavailable, Ledger, Redemption, VoucherRefusal

__all__ = ["ALPHABET", "OFFLINE", "TYPO", "Assessment", "VoucherDesk", "assess"]

_log = logging.getLogger(__name__)

OFFLINE = "voucher_offline"  # the backend could not be reached: nothing was tried
TYPO = "voucher_typo"  # "check the code": refused before any request


class VoucherDesk:
    """The kiosk-facing redemption: blocking calls, to be run off the UI thread."""

    def __init__(self, ledger: Ledger, new_key: Callable[[], str] = lambda: str(uuid.uuid4())
                 ) -> None:
        self._ledger = ledger
        self._new_key = new_key
        self._lock = threading.Lock()
        # (username, body) -> the key of the last attempt that got no answer
        self._unanswered: dict[tuple[str, str], str] = {}

    def redeem(self, username: str, text: str) -> Redemption:
        """Redeem what the user typed or scanned; a refusal is an answer, never raised
        (except a bug's). Text that is not a valid code is refused without a request."""
        judged = assess(text)
        if judged.status != "valid":
            return VoucherRefusal(TYPO)
        attempt = (username, judged.body)
        with self._lock:
            key = self._unanswered.pop(attempt, None) or self._new_key()
        try:
            return self._ledger.redeem_voucher(username, judged.body, key)
        except BackendUnavailable as exc:
            _log.info("voucher redemption for %s not answered: %s", username, exc)
            with self._lock:
                self._unanswered[attempt] = key
            return VoucherRefusal(OFFLINE)
        except BackendError as exc:  # the backend refused the session, not the voucher
            return VoucherRefusal(exc.code)
