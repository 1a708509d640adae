"""HTTP client for the backend's terminal API (``/api/v1``).

Every call has a connect and a read timeout so that a kiosk never hangs on a dead
network, and the connection is kept alive between calls (a badge answered in
milliseconds, not a TCP and TLS handshake each time). Errors are translated here:
transport errors and 5xx become :class:`BackendUnavailable`, 4xx problem details become
:class:`BackendRejected` carrying the backend's stable code and the HTTP status.

Only idempotent calls are retried, with exponential backoff: reads, card lookups and
every money write (each carries an idempotency key, so the backend answers a resend
with the first answer), and only while the backend is not already known to be away;
identification only within its budget (below).
A PIN login is never retried: a resend could count as a second failed attempt and lock
the user out.

Identification, and the user's price list right after it, are the calls a person waits
for at the screen: each must be answered (or declared offline) within ``read_timeout_s``
in all, connect included. Each gets that budget as a total deadline (urllib3's
``total`` timeout), and is resent only after a failure that came fast (a dropped
keep-alive connection) while the budget lasts — never after a timeout: a backend that
did not answer in time will not answer a resend sooner, and the offline cache can
answer now. The client keeps a plain ``reachable`` flag and tells listeners when it
flips, so the UI can say "offline" before anyone badges.

User sessions: an identification (card, PIN, card enrolment) opens a backend session for
that user at this kiosk; the client keeps its token per user (the last few users only)
and sends it (``X-Printkiosk-Session``) with every user-scoped call: balance, billing
codes, the user's price list, and holds — for a hold the charge book journals the token
(:meth:`session_of`) and hands it back when the hold is sent, maybe after a restart.

Vouchers: a redemption is a money write like a hold (its key is the caller's, made once
per attempt, so a resend credits once), answered within the screen's budget because the
user waits for it. The backend's refusals of a voucher are answers here, not errors:
:meth:`redeem_voucher` returns a :class:`VoucherRefusal` with the problem's facts.

Top-ups (issue 14): creating one is a money write with the caller's key (a resend gets
the same top-up, never a second one) within the screen's budget; a refused amount
(``topup_amount``, 422) and a gateway the backend cannot use (``topup_unavailable``, 503)
are answers (:class:`TopUpRefusal`): the backend did answer, so that 503 does not mark
it unreachable. Waiting for the payment is a long-poll (``wait_s`` seconds held by the
backend): its read timeout is ``wait_s`` plus the usual read timeout, it is never
resent here (the caller asks again), and it blocks its thread, so the kiosk runs it on
the terminal's executor, never on the Kivy thread.

3D jobs (issue 15, :class:`terminal.ports.Print3DJobs`): the list is a user-scoped read
within the screen's budget; a claim names the hold, so a resend is the same claim; the
G-code download is streamed to a temporary file beside the destination and renamed
into place once complete (a cut connection leaves no half file under the real name);
a settlement is a money write keyed by the outbox entry's key, resent like a capture.

Technician mode (issue 16): a technician report is an audit write keyed by its outbox
entry's key, resent like an event (a resend is answered 200 and audited once);
:meth:`terminal_status` is one unretried probe, so that the technician's backend check
times one round trip and a 401 says the token is bad; :meth:`enrol_terminal` spends a
one-time key and is never resent (a resend after a lost answer would find the key spent
and the token lost either way: the technician asks for a new key).
"""

from __future__ import annotations

import logging
import math
import os
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any, TypeVar, cast
from urllib.parse import quote, urlencode

import requests
from requests.adapters import HTTPAdapter
from urllib3.util import Timeout

from terminal.http_answers import answer_of, single_line, without_nul
from terminal.ports import (
    BackendRejected,
    BackendUnavailable,
    Balance,
    BillingCode,
    HoldAnswer,
    Identity,
    Print3DFlag,
    Print3DJob,
    Print3DSettlement,
    Redemption,
    TopUp,
    TopUpOptions,
    TopUpRefusal,
    VoucherCredit,
    VoucherRefusal,
)
from terminal.technician_types import TechnicianReport

_log = logging.getLogger(__name__)

# Below this much budget left, an identification is not resent (a connect needs it).
_MIN_ATTEMPT_S = 0.2
SESSION_HEADER = "X-Printkiosk-Session"
# Sessions kept: one user at a time at a kiosk, a few more while releases finish.
_SESSIONS_KEPT = 8
MAX_WAIT_S = 30  # the longest long-poll the backend holds (a top-up's status)


@dataclass(frozen=True)
class TerminalStatus:
    """``GET /terminals/me``: the terminal the token stands for, and the backend's clock
    when it answered (timezone-aware UTC)."""

    id: str
    name: str
    state: str
    server_time: datetime


class _TimedOut(BackendUnavailable):
    """No answer within the timeout: resent only by calls without a deadline."""


ReachabilityListener = Callable[[bool], None]
T = TypeVar("T")


class HttpBackend:
    """The :class:`terminal.ports.Backend`, :class:`terminal.ports.Ledger` and
    :class:`terminal.ports.Print3DJobs` ports over HTTP."""

    def __init__(
        self,
        base_url: str,
        token: str,
        connect_timeout_s: float = 2.0,
        read_timeout_s: float = 5.0,
        retries: int = 2,
        backoff_s: float = 0.2,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._base = base_url.rstrip("/") + "/api/v1"
        self._timeout = (connect_timeout_s, read_timeout_s)
        # someone waits at the screen for these calls: all attempts within this
        self._screen_budget_s = read_timeout_s
        self._retries = retries
        self._backoff_s = backoff_s
        self._sleep = sleep
        self._http = requests.Session()
        # One small pool per backend: keep-alive for the worker threads that talk to it.
        adapter = HTTPAdapter(pool_connections=1, pool_maxsize=4, max_retries=0)
        self._http.mount("http://", adapter)
        self._http.mount("https://", adapter)
        self._http.headers.update(
            {"Authorization": f"Bearer {token}", "Accept": "application/json"}
        )
        self._lock = threading.Lock()
        self._reachable: bool | None = None
        self._listeners: list[ReachabilityListener] = []
        self._sessions: OrderedDict[str, str] = OrderedDict()  # username -> session token

    @property
    def reachable(self) -> bool | None:
        """None until the first call, then whether the last call got an HTTP answer."""
        with self._lock:
            return self._reachable

    def on_reachability(self, listener: ReachabilityListener) -> None:
        self._listeners.append(listener)

    def close(self) -> None:
        self._http.close()

    # --- identification (terminal.ports.Backend) ---------------------------------------

    def identify_card(self, card_number: str) -> Identity:
        """Answered within ``read_timeout_s`` in all; resent only after a fast failure."""
        body = {"card": wire_card(card_number)}
        return self._opened(self._call("POST", "/sessions", body,
                                       budget_s=self._screen_budget_s))

    def identify_pin(self, username: str, pin: str) -> Identity:
        body = {"username": username, "pin": pin}
        return self._opened(self._call("POST", "/sessions", body, retry=False,
                                       budget_s=self._screen_budget_s))

    def enrol_card(self, card_number: str, username: str, pin: str) -> Identity:
        """Never retried, like a PIN login: a resend could count as a second failed PIN."""
        body = {"card": wire_card(card_number), "username": username, "pin": pin}
        return self._opened(self._call("POST", "/cards/enrol", body, retry=False,
                                       budget_s=self._screen_budget_s))

    def session_of(self, username: str) -> str | None:
        """The session token of the user's last identification here (None: none yet,
        e.g. identified from the offline cache)."""
        with self._lock:
            return self._sessions.get(username)

    def _opened(self, answer: dict[str, Any]) -> Identity:
        """The identity, and its session kept for the user's next calls."""
        identity = _identity(answer)
        token = _parse(_session_token, answer)
        with self._lock:
            self._sessions.pop(identity.username, None)
            if token is not None:
                self._sessions[identity.username] = token
                while len(self._sessions) > _SESSIONS_KEPT:
                    self._sessions.popitem(last=False)
        return identity

    # --- billing codes (terminal.ports.BillingCodeDirectory) ----------------------------

    def search_billing_codes(
        self, username: str, prefix: str, limit: int = 20
    ) -> list[BillingCode]:
        query = urlencode({"username": username, "q": prefix, "limit": limit})
        return _parse(_codes, self._call("GET", f"/billing-codes?{query}", None,
                                         session=self.session_of(username)))

    def recent_billing_codes(self, username: str, limit: int = 5) -> list[BillingCode]:
        path = f"/users/{quote(username, safe='')}/billing-codes/recent?limit={limit}"
        return _parse(_codes, self._call("GET", path, None, session=self.session_of(username)))

    # --- pricing (terminal.ports.UserPriceLists) and the print server's analyses ---------

    def user_price_list(self, username: str) -> tuple[str, tuple[int, int] | None]:
        """The list the backend applies to this user here, and their volume this period;
        within the screen's budget (the offline cache has the list as last seen)."""
        query = urlencode({"username": username})
        answer = self._call("GET", f"/price-list?{query}", None, budget_s=self._screen_budget_s,
                            session=self.session_of(username))
        return _parse(_price_list, answer)

    def reported_analysis(self, job_uuid: str) -> list[dict[str, object]] | None:
        """The spool agent's page counts for a job, or None when it has not reported."""
        try:
            answer = self._call("GET", f"/job-analyses/{quote(job_uuid, safe='')}", None)
        except BackendRejected as exc:
            if exc.code == "job_analysis_unknown":
                return None
            raise
        return _parse(lambda raw: [dict(item) for item in raw["counts"]], answer)

    # --- money (terminal.ports.Ledger) --------------------------------------------------

    def balance(self, username: str) -> Balance:
        path = f"/users/{quote(username, safe='')}/balance"
        return _parse(_balance, self._call("GET", path, None, session=self.session_of(username)))

    def hold(
        self, key: str, username: str, amount: Decimal, description: str, job_ref: str,
        billing_code: str | None = None, session: str | None = None,
    ) -> HoldAnswer:
        """``session`` is the one journalled with the hold (None: decided offline)."""
        body = {"idempotency_key": key, "username": username, "amount": wire_amount(amount),
                "description": single_line(description), "job_ref": single_line(job_ref)}
        if billing_code is not None:
            body["billing_code"] = billing_code
        return _parse(_hold, self._call("POST", "/holds", body, session=session))

    def capture(
        self, key: str, hold_id: str, amount: Decimal, pages: int, colour_pages: int
    ) -> HoldAnswer:
        body = {"idempotency_key": key, "amount": wire_amount(amount), "pages": pages,
                "colour_pages": colour_pages}
        return _parse(_hold, self._call("POST", f"/holds/{hold_id}/capture", body))

    def void(self, key: str, hold_id: str, reason: str) -> HoldAnswer:
        body = {"idempotency_key": key, "reason": single_line(reason)}
        return _parse(_hold, self._call("POST", f"/holds/{hold_id}/void", body))

    def refund(self, key: str, hold_id: str, amount: Decimal | None, reason: str) -> Balance:
        body: dict[str, object] = {"idempotency_key": key, "hold_id": hold_id,
                                   "reason": single_line(reason)}
        if amount is not None:
            body["amount"] = wire_amount(amount)
        answer = self._call("POST", "/refunds", body)
        return _parse(lambda raw: _balance(raw["balance"]), answer)

    def send_events(self, events: Sequence[Mapping[str, object]]) -> int:
        answer = self._call("POST", "/events",
                            {"events": [without_nul(dict(event)) for event in events]})
        return _parse(lambda raw: int(raw["accepted"]), answer)

    def redeem_voucher(self, username: str, code: str, key: str) -> Redemption:
        """``POST /vouchers/redeem`` with the user's session; resent (same key) only after
        a fast failure within the screen's budget. A ``voucher_*`` refusal is returned as
        a :class:`VoucherRefusal`; any other refusal (an expired session...) is raised."""
        body = {"code": single_line(code), "idempotency_key": key}
        try:
            answer = self._call("POST", "/vouchers/redeem", body, budget_s=self._screen_budget_s,
                                session=self.session_of(username))
        except BackendRejected as exc:
            return _refusal(exc, "voucher_", _voucher_refusal)
        return _parse(_voucher_credit, answer)

    def topup_options(self, username: str) -> TopUpOptions:
        answer = self._call("GET", "/topups/options", None, budget_s=self._screen_budget_s,
                            session=self.session_of(username))
        return _parse(_topup_options, answer)

    def create_topup(self, username: str, amount: Decimal, key: str) -> TopUp | TopUpRefusal:
        """``POST /topups``; ``topup_*`` refusals are returned, anything else raised."""
        body = {"amount": wire_amount(amount), "idempotency_key": key}
        try:
            answer = self._call("POST", "/topups", body, budget_s=self._screen_budget_s,
                                session=self.session_of(username))
        except BackendRejected as exc:
            return _refusal(exc, "topup_", _topup_refusal)
        return _parse(lambda raw: _topup(raw["topup"]), answer)

    def wait_topup(self, username: str, topup_id: str, wait_s: float) -> TopUp:
        """``GET /topups/{id}?wait_s=``: held by the backend up to ``wait_s`` (whole
        seconds, rounded up; at most the contract's 30)."""
        held = min(max(math.ceil(wait_s), 0), MAX_WAIT_S)
        path = f"/topups/{quote(topup_id, safe='')}?{urlencode({'wait_s': held})}"
        answer = self._call("GET", path, None, retry=False, session=self.session_of(username),
                            read_timeout_s=held + self._timeout[1])
        return _parse(_topup_answer, answer)

    def cancel_topup(self, username: str, topup_id: str) -> TopUp:
        """Cancelled; one that ended first (``topup_settled``: paid, declined...) is
        answered with its state as it is, so the kiosk shows how it really ended."""
        path = f"/topups/{quote(topup_id, safe='')}/cancel"
        try:
            answer = self._call("POST", path, {}, budget_s=self._screen_budget_s,
                                session=self.session_of(username))
        except BackendRejected as exc:
            if exc.code != "topup_settled":
                raise
            return self.wait_topup(username, topup_id, 0)
        return _parse(_topup_answer, answer)

    # --- 3D jobs (terminal.ports.Print3DJobs) ---------------------------------------------

    def print3d_jobs(self, username: str, group: str) -> list[Print3DJob]:
        query = urlencode({"username": username, "group": group})
        answer = self._call("GET", f"/print3d/jobs?{query}", None,
                            budget_s=self._screen_budget_s, session=self.session_of(username))
        return _parse(lambda raw: [_print3d_job(item) for item in raw["jobs"]], answer)

    def claim_print3d(self, job_id: int, hold_id: str) -> Print3DJob:
        answer = self._call("POST", f"/print3d/jobs/{int(job_id)}/claim", {"hold_id": hold_id})
        return _parse(_print3d_job, answer)

    def download_print3d(self, job_id: int, destination: Path) -> Path:
        """Streamed to ``<destination>.part`` (fsynced), then renamed to ``destination``.
        Read timeout per chunk, not for the whole file: a large file takes long to send."""
        path = f"/print3d/jobs/{int(job_id)}/gcode"
        partial = destination.with_name(destination.name + ".part")
        try:
            response = self._http.get(self._base + path, timeout=self._timeout, stream=True)
        except requests.RequestException as exc:
            self._set_reachable(False)
            raise BackendUnavailable(f"{path}: {exc.__class__.__name__}") from exc
        try:
            if response.status_code != 200:
                self._set_reachable(response.status_code < 500)
                answer_of(response, path)  # raises the refusal or the failure
                raise BackendUnavailable(f"{path}: HTTP {response.status_code}")
            with partial.open("wb") as out:
                for chunk in response.iter_content(chunk_size=256 * 1024):
                    out.write(chunk)
                out.flush()
                os.fsync(out.fileno())
            os.replace(partial, destination)
        except requests.RequestException as exc:
            self._set_reachable(False)
            raise BackendUnavailable(f"{path}: {exc.__class__.__name__} while reading") from exc
        finally:
            response.close()
            partial.unlink(missing_ok=True)
        self._set_reachable(True)
        return destination

    def settle_print3d(
        self, key: str, hold_id: str, job_id: int, outcome: str,
        file_position: int | None, print_time_s: int | None,
        printer_filament_mm: Decimal | None,
    ) -> Print3DSettlement:
        body = {"key": key, "hold_id": hold_id, "outcome": outcome,
                "file_position": file_position, "print_time_s": print_time_s,
                "printer_filament_mm": None if printer_filament_mm is None
                else format(printer_filament_mm, "f")}
        answer = self._call("POST", f"/print3d/jobs/{int(job_id)}/settle", body)
        return _parse(_print3d_settlement, answer)

    # --- technician mode (issue 16) -----------------------------------------------------

    def report_technician(self, report: TechnicianReport) -> None:
        """``POST /technician/reports``: the report for the backend's audit log, keyed by
        ``report.key`` (a resend is audited once). ``not_a_technician`` (403) is final."""
        body: dict[str, object] = {
            "key": report.key, "technician": single_line(report.technician),
            "via": report.via, "action": report.action,
            "details": without_nul(dict(report.details)),
            "at": None if report.at is None else report.at.astimezone(UTC).isoformat(),
        }
        self._call("POST", "/technician/reports", body)

    def terminal_status(self) -> TerminalStatus:
        """``GET /terminals/me``, tried once within the screen's budget: the caller times
        it. A bad or revoked token is :class:`BackendRejected` with status 401."""
        answer = self._call("GET", "/terminals/me", None, retry=False,
                            budget_s=self._screen_budget_s)
        return _parse(_terminal_status, answer)

    def enrol_terminal(self, enrolment_key: str, name: str, *, device: str | None = None,
                       device_model: str | None = None,
                       offline_limit: Decimal | None = None) -> tuple[str, str]:
        """``POST /terminals/enrol``: (terminal id, token). Never resent: the key is
        spent by the first request that reaches the backend. ``enrolment_key_invalid``
        (403) and ``enrolment_key_used`` (409) are :class:`BackendRejected`."""
        body: dict[str, object] = {"enrolment_key": enrolment_key.strip(),
                                   "name": single_line(name)}
        if device is not None:
            body["device"] = single_line(device)
        if device_model is not None:
            body["device_model"] = single_line(device_model)
        if offline_limit is not None:
            body["offline_limit"] = wire_amount(offline_limit)
        answer = self._call("POST", "/terminals/enrol", body, retry=False,
                            budget_s=self._screen_budget_s)
        return _parse(lambda raw: (_text(raw["terminal_id"]), _text(raw["token"])), answer)

    def health(self) -> bool:
        """One quick unretried probe (the heartbeat); True when the backend answers."""
        try:
            self._call("GET", "/health", None, retry=False)
        except BackendUnavailable:
            return False
        return True

    # --- transport ----------------------------------------------------------------------

    def _call(
        self, method: str, path: str, body: Mapping[str, object] | None, retry: bool = True,
        budget_s: float | None = None, session: str | None = None,
        read_timeout_s: float | None = None,
    ) -> dict[str, Any]:
        """One call, resent per the retry rules; ``budget_s`` bounds all its attempts,
        connects, reads and backoffs together (someone is waiting at the screen);
        ``read_timeout_s`` replaces the read timeout of a call without a budget."""
        # A backend already known to be away gets one try per call, not a backed-off
        # series: the outbox drainer keeps probing, and the user at the screen is not
        # kept waiting for retries that will fail like the last ones did.
        attempts = 1 + (self._retries if retry and self.reachable is not False else 0)
        deadline = None if budget_s is None else time.monotonic() + budget_s
        for attempt in range(attempts):
            try:
                timeout = self._timeout_until(deadline) if read_timeout_s is None \
                    else (self._timeout[0], read_timeout_s)
                answer = self._once(method, path, body, timeout, session)
            except BackendUnavailable as exc:
                backoff = self._backoff_s * 2**attempt
                out_of_time = deadline is not None and (
                    isinstance(exc, _TimedOut)
                    or deadline - time.monotonic() < backoff + _MIN_ATTEMPT_S)
                if attempt == attempts - 1 or out_of_time:
                    self._set_reachable(False)
                    raise
                self._sleep(backoff)
            except BackendRejected:
                self._set_reachable(True)
                raise
            else:
                self._set_reachable(True)
                return answer
        raise AssertionError("unreachable: the loop returns or raises")

    def _timeout_until(self, deadline: float | None) -> tuple[float, float] | Timeout:
        """The per-call timeouts, or what is left of a deadline for connect and read
        together (requests' own timeouts apply to each separately, and stack)."""
        if deadline is None:
            return self._timeout
        left = max(deadline - time.monotonic(), 0.001)
        return Timeout(total=left, connect=min(self._timeout[0], left), read=left)

    def _once(
        self, method: str, path: str, body: Mapping[str, object] | None,
        timeout: tuple[float, float] | Timeout, session: str | None = None,
    ) -> dict[str, Any]:
        headers = None if session is None else {SESSION_HEADER: session}
        try:
            # requests' adapter takes a urllib3 Timeout as documented; its stubs do not say so
            response = self._http.request(method, self._base + path, json=body,
                                          headers=headers, timeout=cast(Any, timeout))
        except requests.Timeout as exc:
            raise _TimedOut(f"{path}: no answer in time ({exc.__class__.__name__})") from exc
        except requests.RequestException as exc:
            raise BackendUnavailable(f"{path}: {exc.__class__.__name__}") from exc
        if response.status_code == 503:
            _answered_unavailable(response)
        return answer_of(response, path)

    def _set_reachable(self, reachable: bool) -> None:
        with self._lock:
            changed = self._reachable is not reachable
            self._reachable = reachable
        if changed:
            _log.info("backend %s", "reachable" if reachable else "unreachable")
            for listener in list(self._listeners):
                listener(reachable)


def _parse(parse: Callable[[dict[str, Any]], T], payload: dict[str, Any]) -> T:
    """An answer that does not have the documented shape is the backend failing."""
    try:
        return parse(payload)
    except (KeyError, TypeError, ValueError, ArithmeticError) as exc:
        raise BackendUnavailable(f"unexpected answer: {exc!r}") from exc


def _refusal(exc: BackendRejected, prefix: str,
             parse: Callable[[str, dict[str, Any]], T]) -> T:
    """A refusal the screen explains (its code starts with ``prefix``) as a value; any
    other (an expired session...) raised again for the caller's general handling."""
    if not exc.code.startswith(prefix):
        raise exc
    return _parse(lambda raw: parse(exc.code, raw), dict(exc.problem))


# 503 problems that are the backend's answer (it is up), not its absence
_ANSWERED_503 = ("topup_unavailable",)


def _answered_unavailable(response: requests.Response) -> None:
    """Raise a 503 whose problem code says the backend answered as a refusal."""
    try:
        problem = response.json()
    except ValueError:
        return
    if isinstance(problem, dict) and problem.get("code") in _ANSWERED_503:
        raise BackendRejected(str(problem["code"]), str(problem.get("detail", "")),
                              status=503, problem=problem)


def wire_card(card_number: str) -> str:
    """A card number without its whitespace (a keyboard-wedge reader ends it with a
    newline): the backend ignores whitespace in card numbers but refuses control
    characters in any text field."""
    return "".join(card_number.split())


def wire_amount(amount: Decimal) -> str:
    """The API's spelling of an amount: plain digits, never an exponent (``str`` of
    ``Decimal("1E+1")`` is "1E+1", which the backend's pattern refuses). The value is
    unchanged: an amount with more than 2 decimals is the backend's to refuse."""
    return format(amount, "f")


def _amount(raw: object) -> Decimal:
    return Decimal(str(raw))


def _balance(raw: dict[str, Any]) -> Balance:
    return Balance(
        currency=str(raw["currency"]),
        virtual_credit=_amount(raw["virtual_credit"]),
        personal_credit=_amount(raw["personal_credit"]),
        held=_amount(raw.get("held", "0")),
        available=_amount(raw["available"]),
    )


def _hold(raw: dict[str, Any]) -> HoldAnswer:
    return HoldAnswer(
        hold_id=str(raw["hold_id"]),
        status=str(raw["status"]),
        amount=_amount(raw["amount"]),
        captured=None if raw.get("captured") is None else _amount(raw["captured"]),
        released=None if raw.get("released") is None else _amount(raw["released"]),
        balance=_balance(raw["balance"]),
    )


def _voucher_credit(raw: dict[str, Any]) -> VoucherCredit:
    voucher = raw["voucher"]
    return VoucherCredit(
        batch=str(voucher["batch"]), serial=int(voucher["serial"]),
        value=_amount(voucher["value"]), currency=str(voucher["currency"]),
        expires_on=date.fromisoformat(str(voucher["expires_on"])),
        credited=_amount(raw["credited"]), balance=_balance(raw["balance"]),
        transaction_id=int(raw["transaction_id"]),
    )


def _voucher_refusal(code: str, raw: dict[str, Any]) -> VoucherRefusal:
    """The refusal's facts from the problem's extra members (absent ones stay None)."""
    redeemed_at, expires_on, retry = (raw.get(name) for name in
                                      ("redeemed_at", "expires_on", "retry_after_s"))
    return VoucherRefusal(
        code=code,
        redeemed_at=None if redeemed_at is None else _utc(str(redeemed_at)),
        expires_on=None if expires_on is None else date.fromisoformat(str(expires_on)),
        retry_after_s=None if retry is None else int(retry),
    )


def _topup_options(raw: dict[str, Any]) -> TopUpOptions:
    return TopUpOptions(
        gateway=str(raw["gateway"]), currency=str(raw["currency"]),
        minimum=_amount(raw["min"]), maximum=_amount(raw["max"]),
        presets=tuple(_amount(item) for item in raw["presets"]),
        expires_after_s=int(raw["expires_after_s"]),
    )


def _topup(raw: dict[str, Any]) -> TopUp:
    return TopUp(
        topup_id=str(raw["id"]), status=str(raw["status"]), amount=_amount(raw["amount"]),
        currency=str(raw["currency"]), short_code=str(raw["short_code"]),
        qr_payload=str(raw["qr_payload"]),
        pay_url=None if raw.get("pay_url") is None else str(raw["pay_url"]),
        expires_at=_utc(str(raw["expires_at"])),
    )


def _topup_answer(raw: dict[str, Any]) -> TopUp:
    """A long-poll's or a cancel's answer: the top-up, and the balance once paid."""
    balance = raw.get("balance")
    return replace(_topup(raw["topup"]),
                   balance=None if balance is None else _balance(balance))


def _topup_refusal(code: str, raw: dict[str, Any]) -> TopUpRefusal:
    low, high = raw.get("min"), raw.get("max")
    return TopUpRefusal(code, None if low is None else _amount(low),
                        None if high is None else _amount(high))


def _utc(text: str) -> datetime:
    """An ISO timestamp; one without an offset is UTC (the backend stores UTC)."""
    moment = datetime.fromisoformat(text)
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _text(value: object) -> str:
    if not isinstance(value, str) or not value:
        raise ValueError(f"{value!r} is not a non-empty string")
    return value


def _terminal_status(raw: dict[str, Any]) -> TerminalStatus:
    return TerminalStatus(id=_text(raw["id"]), name=str(raw["name"]), state=str(raw["state"]),
                          server_time=_utc(str(raw["server_time"])))


def _price_list(raw: dict[str, Any]) -> tuple[str, tuple[int, int] | None]:
    volume = raw.get("period_volume")
    counted = None if volume is None else (int(volume["mono"]), int(volume["colour"]))
    return str(raw["toml"]), counted


def _codes(raw: dict[str, Any]) -> list[BillingCode]:
    return [
        BillingCode(
            code=str(item["code"]), name=str(item["name"]),
            client=None if item.get("client") is None else str(item["client"]),
            client_name=None if item.get("client_name") is None else str(item["client_name"]),
            payer=_payer(item.get("payer", "user")),
        )
        for item in raw["codes"]
    ]


PAYERS = ("user", "code")


def _payer(value: object) -> str:
    """Who pays a billing code's jobs. Anything else is a malformed answer (``_parse``
    turns it into BackendUnavailable), never taken for the user paying by mistake."""
    if value not in PAYERS:
        raise ValueError(f"billing code payer {value!r} is not one of {', '.join(PAYERS)}")
    return str(value)


def _print3d_job(raw: dict[str, Any]) -> Print3DJob:
    return Print3DJob(
        job_id=int(raw["job_id"]), name=str(raw["name"]), username=str(raw["username"]),
        status=str(raw["status"]),
        material=None if raw.get("material") is None else str(raw["material"]),
        grams=_amount(raw["grams"]), metres=_amount(raw["metres"]),
        minutes=int(raw["minutes"]), grams_source=str(raw["grams_source"]),
        time_source=str(raw["time_source"]), price=_amount(raw["price"]),
        hold_amount=_amount(raw["hold_amount"]), currency=str(raw["currency"]),
        flags=tuple(Print3DFlag(code=str(flag["code"]), expected=str(flag["expected"]),
                                found=str(flag["found"]),
                                blocks_release=bool(flag["blocks_release"]))
                    for flag in raw["flags"]),
        uploaded_at=_utc(str(raw["uploaded_at"])),
    )


def _print3d_settlement(raw: dict[str, Any]) -> Print3DSettlement:
    balance = raw.get("balance")
    return Print3DSettlement(
        job_id=int(raw["job_id"]), outcome=str(raw["outcome"]), policy=str(raw["policy"]),
        grams=_amount(raw["grams"]), minutes=int(raw["minutes"]),
        charged=_amount(raw["charged"]),
        balance=None if balance is None else _balance(balance),
    )


def _session_token(raw: dict[str, Any]) -> str | None:
    """The session an identification opened (a backend before sessions sends none)."""
    session = raw.get("session")
    if session is None:
        return None
    token = session["token"]
    if not isinstance(token, str) or not token:
        raise ValueError(f"session token {token!r} is not a non-empty string")
    return token


def _identity(payload: dict[str, Any]) -> Identity:
    def parse(raw: dict[str, Any]) -> Identity:
        user = raw["user"]
        return Identity(
            username=str(user["username"]),
            display_name=str(user.get("display_name") or user["username"]),
            language=str(user.get("language") or "en"),
            balance=_balance(raw["balance"]),
            roles=tuple(str(role) for role in user.get("roles") or ()),
        )

    return _parse(parse, payload)
