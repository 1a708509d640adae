"""Release held jobs and charge for the pages really printed: authorise, print, capture.

For each job: check the printer can print (a stopped, jammed or empty printer is refused
before any money moves) -> hold the estimate on the backend -> read the printer's page
counter -> release the job at the print server -> follow it to the end (job-state,
job-impressions-completed) -> read the counter again -> capture the price of what was
printed -> the rest of the hold is released by the capture itself.

What was printed is the SNMP counter delta when the printer is monitored (the printer's
own count, which a print server cannot inflate), else the impressions the print server
reports; both are capped at the job's estimate, because a shared device's counter also
moves for copies made meanwhile. A job that completes while its server reports no
impressions at all (many IPP printers never report them) is charged its estimate. A job
that stops (jam) is cancelled at the server so it cannot resume unpaid, and a jam, a
cancel or an abort is charged only for the impressions printed, priced page by page.

Every backend write carries an idempotency key made when the step is decided, and a
step that met a transport error is retried with the same key, so a retried capture can
never charge twice. Listeners get a :class:`ReleaseUpdate` at every stage, from the
worker thread: the UI hands them to its own thread.
"""

from __future__ import annotations

import enum
import logging
import time
import uuid
from collections.abc import Callable, Sequence
from concurrent.futures import Executor, Future
from dataclasses import dataclass, field, replace
from decimal import Decimal
from typing import Any, Protocol, TypeVar

from terminal.analysis import BillableUsage, ImpressionColour
from terminal.jobs import (
    HoldQueue,
    JobNotFound,
    JobQuote,
    JobService,
    Pricer,
    printed_usage,
)
from terminal.ports import BackendError, BackendRejected, BackendUnavailable, Balance

_log = logging.getLogger(__name__)

FINAL_JOB_STATES = frozenset({"completed", "canceled", "aborted"})
STOPPED_JOB_STATE = "stopped"


@dataclass(frozen=True)
class HoldReceipt:
    """A hold the backend granted, with the balance that now shows it as held."""

    hold_id: str
    amount: Decimal
    balance: Balance


@dataclass(frozen=True)
class Settlement:
    """A hold captured or voided: what was charged, what went back, the new balance."""

    hold_id: str
    captured: Decimal
    released: Decimal
    balance: Balance


class HoldLedger(Protocol):
    """The backend's authorise / capture / void, and the balance (role, not technology)."""

    def balance(self, username: str) -> Balance: ...

    def hold(
        self, key: str, username: str, amount: Decimal, description: str, job_ref: str
    ) -> HoldReceipt: ...

    def capture(
        self, key: str, hold_id: str, amount: Decimal, pages: int, colour_pages: int
    ) -> Settlement: ...

    def void(self, key: str, hold_id: str, reason: str) -> Settlement: ...


class PrinterMonitor(Protocol):
    """The printer itself over SNMP: its lifetime page counter and any blocking problem."""

    def page_count(self) -> int: ...

    def printer_problem(self) -> str | None: ...


class Stage(enum.Enum):
    """Where one job's release is; the last four are final."""

    WAITING = "waiting"
    HOLDING = "holding"
    PRINTING = "printing"
    CHARGED = "charged"
    REFUSED = "refused"
    INSUFFICIENT = "insufficient"
    FAILED = "failed"

    @property
    def final(self) -> bool:
        return self in {Stage.CHARGED, Stage.REFUSED, Stage.INSUFFICIENT, Stage.FAILED}


@dataclass(frozen=True)
class ReleaseUpdate:
    """One job's progress, for the screen. ``problem`` is a stable translatable key."""

    job_id: int
    name: str
    stage: Stage
    currency: str
    estimate: Decimal
    impressions_done: int = 0
    impressions_total: int = 0
    held: Decimal | None = None
    charged: Decimal | None = None
    refunded: Decimal | None = None
    balance: Balance | None = None
    problem: str | None = None
    missing: Decimal | None = None


Listener = Callable[[ReleaseUpdate], None]
T = TypeVar("T")


@dataclass
class ReleaseWorkflow:
    """Releases jobs one after the other; a refusal or missing credit stops the batch."""

    jobs: JobService
    queue: HoldQueue
    ledger: HoldLedger
    pricer: Pricer
    monitor: PrinterMonitor | None = None
    executor: Executor | None = None
    poll_s: float = 0.5
    follow_timeout_s: float = 900.0
    retries: int = 3
    sleep: Callable[[float], None] = time.sleep
    clock: Callable[[], float] = time.monotonic
    new_key: Callable[[], str] = field(default=lambda: uuid.uuid4().hex)

    def start(
        self, username: str, quotes: Sequence[JobQuote], listener: Listener
    ) -> Future[list[ReleaseUpdate]]:
        """Release in the background (never on the UI thread); updates go to ``listener``."""
        if self.executor is None:
            raise RuntimeError("ReleaseWorkflow.start needs an executor")
        return self.executor.submit(self.release, username, quotes, listener)

    def release(
        self, username: str, quotes: Sequence[JobQuote], listener: Listener
    ) -> list[ReleaseUpdate]:
        """Release ``quotes`` in order; return each job's final update."""
        for quote in quotes:
            listener(_update(quote, Stage.WAITING))
        finals: list[ReleaseUpdate] = []
        stopped: ReleaseUpdate | None = None
        for quote in quotes:
            if stopped is not None:
                final = _update(
                    quote, Stage.REFUSED, problem=stopped.problem, balance=stopped.balance
                )
            else:
                try:
                    final = self._release_one(username, quote, listener)
                except Exception:  # a bug must not leave the screen on "printing" forever
                    _log.exception("release of job %s failed", quote.job_id)
                    final = _update(quote, Stage.FAILED, problem="internal_error")
            listener(final)
            finals.append(final)
            if final.stage in {Stage.REFUSED, Stage.INSUFFICIENT}:
                stopped = final
        return finals

    def _printer_problem(self) -> str | None:
        problem = self.queue.printer_problem()
        if problem is None and self.monitor is not None:
            problem = self.monitor.printer_problem()
        return problem

    def _release_one(self, username: str, quote: JobQuote, listener: Listener) -> ReleaseUpdate:
        problem = self._printer_problem()
        if problem is not None:
            return _update(quote, Stage.REFUSED, problem=problem)
        try:
            job, analysis = self.jobs.analysis_of(username, quote.job_id)
        except JobNotFound:
            return _update(quote, Stage.FAILED, problem=JobNotFound.code)
        listener(_update(quote, Stage.HOLDING))
        description = f"{quote.name}, {quote.impressions} impressions"
        hold_key = self.new_key()
        try:
            receipt = self._retrying(
                lambda: self.ledger.hold(hold_key, username, quote.amount, description,
                                         quote.job_ref)
            )
        except BackendRejected as exc:
            if exc.code == "insufficient_funds":
                return self._insufficient(username, quote)
            return _update(quote, Stage.FAILED, problem=exc.code)
        except BackendError as exc:
            return _update(quote, Stage.FAILED, problem=exc.code)
        printing = _update(
            quote, Stage.PRINTING, held=receipt.amount, balance=receipt.balance,
            impressions_total=quote.impressions,
        )
        listener(printing)
        try:
            counter_before = self.monitor.page_count() if self.monitor is not None else None
            self.queue.release(quote.job_id)
        except Exception:
            _log.exception("job %s could not be released; voiding its hold", quote.job_id)
            return self._void(quote, receipt, "release_failed", "release_failed")
        state, reported = self._follow(quote, printing, listener)
        if state == STOPPED_JOB_STATE:
            self.queue.cancel(quote.job_id)
        printed = self._printed(quote, state, reported, counter_before)
        usage = printed_usage(analysis, quote.options, job.copies, job.number_up, printed)
        return self._capture(quote, receipt, usage, printed, state)

    def _follow(
        self, quote: JobQuote, printing: ReleaseUpdate, listener: Listener
    ) -> tuple[str, int]:
        """Poll the job until it ends, stops or the follow timeout passes."""
        deadline = self.clock() + self.follow_timeout_s
        last = -1
        while True:
            progress = self.queue.progress(quote.job_id)
            done = progress.impressions_completed
            if done != last:
                last = done
                listener(_replace_done(printing, min(done, quote.impressions)))
            if progress.state in FINAL_JOB_STATES or progress.state == STOPPED_JOB_STATE:
                return progress.state, done
            if self.clock() >= deadline:
                _log.warning("job %s still %s after %s s", quote.job_id, progress.state,
                             self.follow_timeout_s)
                return progress.state, done
            self.sleep(self.poll_s)

    def _printed(
        self, quote: JobQuote, state: str, reported: int, counter_before: int | None
    ) -> int:
        if counter_before is not None and self.monitor is not None:
            counted = max(0, self.monitor.page_count() - counter_before)
        elif state == "completed" and reported == 0:
            counted = quote.impressions  # the printer does not report: completed is all
        else:
            counted = reported
        return min(counted, quote.impressions)

    def _capture(
        self,
        quote: JobQuote,
        receipt: HoldReceipt,
        usage: BillableUsage,
        printed: int,
        state: str,
    ) -> ReleaseUpdate:
        if printed == 0:
            return self._void(quote, receipt, f"job {state}, nothing printed", None)
        amount = min(self.pricer.price(usage, quote.options.duplex), receipt.amount)
        colour = usage.total_impressions(ImpressionColour.COLOUR)
        capture_key = self.new_key()
        try:
            settled = self._retrying(
                lambda: self.ledger.capture(capture_key, receipt.hold_id, amount, printed, colour)
            )
        except BackendError as exc:
            _log.error("capture of hold %s failed: %s", receipt.hold_id, exc)
            return _update(quote, Stage.FAILED, problem=exc.code, held=receipt.amount,
                           impressions_done=printed, impressions_total=quote.impressions)
        return _update(
            quote, Stage.CHARGED, charged=settled.captured, refunded=settled.released,
            balance=settled.balance, impressions_done=printed,
            impressions_total=quote.impressions, held=receipt.amount,
            problem=None if state == "completed" else f"job_{state}",
        )

    def _void(
        self, quote: JobQuote, receipt: HoldReceipt, reason: str, problem: str | None
    ) -> ReleaseUpdate:
        void_key = self.new_key()
        try:
            settled = self._retrying(lambda: self.ledger.void(void_key, receipt.hold_id, reason))
        except BackendError as exc:
            return _update(quote, Stage.FAILED, problem=exc.code, held=receipt.amount)
        return _update(
            quote, Stage.FAILED if problem else Stage.CHARGED, charged=settled.captured,
            refunded=settled.released, balance=settled.balance, held=receipt.amount,
            problem=problem or "job_nothing_printed", impressions_total=quote.impressions,
        )

    def _insufficient(self, username: str, quote: JobQuote) -> ReleaseUpdate:
        try:
            balance: Balance | None = self._retrying(lambda: self.ledger.balance(username))
        except BackendError:
            balance = None
        missing = None if balance is None else max(quote.amount - balance.available,
                                                   Decimal("0.01"))
        return _update(quote, Stage.INSUFFICIENT, problem="insufficient_funds",
                       balance=balance, missing=missing)

    def _retrying(self, call: Callable[[], T]) -> T:
        """Retry transport failures with the same idempotency key (inside ``call``)."""
        for attempt in range(self.retries):
            try:
                return call()
            except BackendUnavailable:
                if attempt == self.retries - 1:
                    raise
                self.sleep(0.5 * 2**attempt)
        raise AssertionError("unreachable: the loop returns or raises")


def _update(quote: JobQuote, stage: Stage, **values: object) -> ReleaseUpdate:
    return ReleaseUpdate(
        job_id=quote.job_id, name=quote.name, stage=stage, currency=quote.currency,
        estimate=quote.amount, **values,  # type: ignore[arg-type]
    )


def _replace_done(update: ReleaseUpdate, done: int) -> ReleaseUpdate:
    return replace(update, impressions_done=done)


class HttpHoldLedger:
    """The :class:`HoldLedger` port over the backend's ``/api/v1/holds`` endpoints.

    Transport errors and 5xx become :class:`BackendUnavailable` (retried by the workflow
    with the same key), 4xx become :class:`BackendRejected` with the backend's code.
    """

    def __init__(
        self, base_url: str, token: str, connect_timeout_s: float = 2.0,
        read_timeout_s: float = 10.0,
    ) -> None:
        import requests

        self._requests = requests
        self._base = base_url.rstrip("/") + "/api/v1"
        self._timeout = (connect_timeout_s, read_timeout_s)
        self._http = requests.Session()
        self._http.headers.update(
            {"Authorization": f"Bearer {token}", "Accept": "application/json"}
        )

    def close(self) -> None:
        self._http.close()

    def balance(self, username: str) -> Balance:
        return _balance(self._call("GET", f"/users/{username}/balance", None))

    def hold(
        self, key: str, username: str, amount: Decimal, description: str, job_ref: str
    ) -> HoldReceipt:
        answer = self._call("POST", "/holds", {
            "idempotency_key": key, "username": username, "amount": str(amount),
            "description": description, "job_ref": job_ref,
        })
        return HoldReceipt(str(answer["hold_id"]), Decimal(str(answer["amount"])),
                           _balance(answer["balance"]))

    def capture(
        self, key: str, hold_id: str, amount: Decimal, pages: int, colour_pages: int
    ) -> Settlement:
        return _settlement(self._call("POST", f"/holds/{hold_id}/capture", {
            "idempotency_key": key, "amount": str(amount), "pages": pages,
            "colour_pages": colour_pages,
        }))

    def void(self, key: str, hold_id: str, reason: str) -> Settlement:
        return _settlement(self._call("POST", f"/holds/{hold_id}/void",
                                      {"idempotency_key": key, "reason": reason}))

    def _call(self, method: str, path: str, body: dict[str, object] | None) -> dict[str, Any]:
        try:
            response = self._http.request(method, self._base + path, json=body,
                                          timeout=self._timeout)
        except self._requests.RequestException as exc:
            raise BackendUnavailable(f"{path}: {exc.__class__.__name__}") from exc
        if response.status_code >= 500:
            raise BackendUnavailable(f"{path}: HTTP {response.status_code}")
        try:
            payload = response.json()
        except ValueError as exc:
            raise BackendUnavailable(f"{path}: answer is not JSON") from exc
        if not isinstance(payload, dict):
            raise BackendUnavailable(f"{path}: answer is not a JSON object")
        if response.status_code >= 400:
            raise BackendRejected(str(payload.get("code", "rejected")),
                                  str(payload.get("detail", "")))
        return payload


def _balance(raw: dict[str, Any]) -> Balance:
    return Balance(
        currency=str(raw["currency"]),
        virtual_credit=Decimal(str(raw["virtual_credit"])),
        personal_credit=Decimal(str(raw["personal_credit"])),
        held=Decimal(str(raw.get("held", "0"))),
        available=Decimal(str(raw["available"])),
    )


def _settlement(answer: dict[str, Any]) -> Settlement:
    return Settlement(
        hold_id=str(answer["hold_id"]),
        captured=Decimal(str(answer["captured"])),
        released=Decimal(str(answer["released"] or "0")),
        balance=_balance(answer["balance"]),
    )
