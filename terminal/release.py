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

Money moves through :class:`Charges` (the terminal's charge book): every hold, capture
and void is journalled in the durable outbox with its idempotency key before it is
sent, so a crash or a lost answer never loses or doubles a charge, and a remembered
user can still print up to the offline limit while the backend is away. Listeners get
a :class:`ReleaseUpdate` at every stage, from the worker thread: the UI hands them to
its own thread.
"""

from __future__ import annotations

import enum
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from decimal import Decimal
from typing import Protocol

from analysis import BillableUsage, ImpressionColour
from terminal.jobs import (
    HoldQueue,
    JobNotFound,
    JobQuote,
    JobService,
    PriceUnavailable,
    PrinterRefused,
    printed_usage,
)
from terminal.ports import BackendError, BackendRejected, Balance

_log = logging.getLogger(__name__)

FINAL_JOB_STATES = frozenset({"completed", "canceled", "aborted"})
HELD_JOB_STATE = "pending-held"  # a released job is "pending" too: that one may still print
STOPPED_JOB_STATE = "processing-stopped"  # IPP job-state 6: the printer stopped (jam)


class Authorised(Protocol):
    """A hold granted (online, or offline within the limit); ``key`` names it later."""

    @property
    def key(self) -> str: ...
    @property
    def amount(self) -> Decimal: ...
    @property
    def balance(self) -> Balance | None: ...


class Settled(Protocol):
    """A capture or void journalled; ``balance`` is None until the backend confirmed it."""

    @property
    def amount(self) -> Decimal: ...
    @property
    def balance(self) -> Balance | None: ...


class Unsettled(Protocol):
    """A hold journalled but never captured or voided (the kiosk stopped mid-release)."""

    @property
    def key(self) -> str: ...
    @property
    def amount(self) -> Decimal: ...
    @property
    def job_ref(self) -> str: ...


class Charges(Protocol):
    """Authorise, capture, void through the outbox (``terminal.charges.ChargeBook``).

    ``authorise`` raises :class:`BackendRejected` when refused (``insufficient_funds``,
    or an offline refusal code).
    """

    def unsettled(self) -> Sequence[Unsettled]: ...

    def authorise(
        self, username: str, amount: Decimal, description: str, job_ref: str,
        billing_code: str | None = None,
    ) -> Authorised: ...

    def capture(
        self, authorisation_key: str, amount: Decimal, pages: int, colour_pages: int
    ) -> Settled: ...

    def void(self, authorisation_key: str, reason: str) -> Settled: ...


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


@dataclass
class ReleaseWorkflow:
    """Releases jobs one after the other; a refusal or missing credit stops the batch.

    ``balance_of`` asks the backend for a balance: only used to say how much is missing
    when a hold is refused for insufficient funds.
    """

    jobs: JobService
    queue: HoldQueue
    charges: Charges
    balance_of: Callable[[str], Balance]
    monitor: PrinterMonitor | None = None
    # Told when a batch starts (with the user); the callable it returns is called when
    # the batch ends. The wiring passes the session's ``release_running``: no idle
    # logout while the user's jobs are still printing.
    running: Callable[[str], Callable[[], None]] | None = None
    poll_s: float = 0.5
    follow_timeout_s: float = 900.0
    sleep: Callable[[float], None] = time.sleep
    clock: Callable[[], float] = time.monotonic

    def release(
        self, username: str, quotes: Sequence[JobQuote], listener: Listener,
        billing_code: str | None = None,
    ) -> list[ReleaseUpdate]:
        """Release ``quotes`` in order; return each job's final update.

        ``billing_code`` (the code the user picked, if any) goes with every job's hold:
        the backend charges the jobs to it. Blocks for as long as the printing takes:
        callers run it on a worker thread.
        """
        finished = self.running(username) if self.running is not None else None
        try:
            return self._release_all(username, quotes, listener, billing_code)
        finally:
            if finished is not None:
                finished()

    def _release_all(
        self, username: str, quotes: Sequence[JobQuote], listener: Listener,
        billing_code: str | None,
    ) -> list[ReleaseUpdate]:
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
                    final = self._release_one(username, quote, listener, billing_code)
                except Exception:  # a bug must not leave the screen on "printing" forever
                    _log.exception("release of job %s failed", quote.job_id)
                    final = _update(quote, Stage.FAILED, problem="internal_error")
            listener(final)
            finals.append(final)
            if final.stage in {Stage.REFUSED, Stage.INSUFFICIENT}:
                stopped = final
        return finals

    def recover(self, holds: Sequence[Unsettled]) -> list[str]:
        """Settle the holds a stopped kiosk left open; return the keys it settled.

        ``holds`` is ``charges.unsettled()`` read at start-up, before anyone could
        release (a hold made since is not this method's business). Only what is
        certain is settled: a job
        never released (still held) voids its hold; a completed job is charged its hold
        (the estimate of what completed); a job cancelled or aborted before printing
        voids it. A partial print, a job still printing or a job the server no longer
        knows is left open for the operator (the backend expires stale holds).
        """
        settled = []
        for hold in holds:
            job_id = _job_id(hold.job_ref)
            if job_id is None:
                continue
            try:
                progress = self.queue.progress(job_id)
            except Exception as exc:  # the driver's errors are not ours to name
                _log.warning("recovery: job %s unreadable, hold %s left open: %r",
                             job_id, hold.key, exc)
                continue
            state, done = progress.state, progress.impressions_completed
            try:
                if state == HELD_JOB_STATE or (state in FINAL_JOB_STATES
                                               and state != "completed" and done == 0):
                    self.charges.void(hold.key, f"kiosk restarted; job {state}, nothing printed")
                elif state == "completed":
                    self.charges.capture(hold.key, hold.amount, done, 0)
                else:
                    _log.warning("recovery: job %s is %s (%s printed); hold %s left open",
                                 job_id, state, done, hold.key)
                    continue
            except Exception:  # one refused settlement must not stop the others
                _log.exception("recovery: hold %s could not be settled", hold.key)
                continue
            settled.append(hold.key)
        return settled

    def _printer_problem(self) -> str | None:
        problem = self.queue.printer_problem()
        if problem is None and self.monitor is not None:
            problem = self.monitor.printer_problem()
        return problem

    def _release_one(
        self, username: str, quote: JobQuote, listener: Listener, billing_code: str | None
    ) -> ReleaseUpdate:
        problem = self._printer_problem()
        if problem is not None:
            return _update(quote, Stage.REFUSED, problem=problem)
        try:
            job, analysis = self.jobs.analysis_of(username, quote.job_id)
        except JobNotFound:
            return _update(quote, Stage.FAILED, problem=JobNotFound.code)
        listener(_update(quote, Stage.HOLDING))
        description = f"{quote.name}, {quote.impressions} impressions"
        try:
            hold = self.charges.authorise(username, quote.amount, description, quote.job_ref,
                                          billing_code)
        except BackendRejected as exc:
            if exc.code == "insufficient_funds":
                return self._insufficient(username, quote)
            return _update(quote, Stage.REFUSED, problem=exc.code)
        except BackendError as exc:
            return _update(quote, Stage.FAILED, problem=exc.code)
        printing = _update(
            quote, Stage.PRINTING, held=hold.amount, balance=hold.balance,
            impressions_total=quote.impressions,
        )
        listener(printing)
        counter_before = self._page_count()
        try:
            self.queue.release(quote.job_id)
        except PrinterRefused as exc:  # the printer failed between the check and now
            voided = self._void(quote, hold, f"printer refused: {exc.code}", exc.code)
            return replace(voided, stage=Stage.REFUSED)
        except Exception:
            _log.exception("job %s could not be released; voiding its hold", quote.job_id)
            return self._void(quote, hold, "release_failed", "release_failed")
        state, reported = self._follow(quote, printing, listener)
        if state == STOPPED_JOB_STATE:
            self.queue.cancel(quote.job_id)
        printed = self._printed(quote, state, reported, counter_before)
        usage = printed_usage(analysis, quote.options, job.copies, job.number_up, printed)
        return self._capture(quote, hold, usage, printed, state)

    def _follow(
        self, quote: JobQuote, printing: ReleaseUpdate, listener: Listener
    ) -> tuple[str, int]:
        """Poll the job until it ends, stops or the follow timeout passes.

        A print server that stops answering mid-job is asked again until the timeout:
        the hold is then settled on the last impressions it reported (state "unknown"),
        never left open.
        """
        deadline = self.clock() + self.follow_timeout_s
        state, done, last = "unknown", 0, -1
        while True:
            try:
                progress = self.queue.progress(quote.job_id)
            except Exception as exc:  # the driver's errors are not ours to name
                _log.warning("job %s progress unreadable: %r", quote.job_id, exc)
            else:
                state, done = progress.state, progress.impressions_completed
                if done != last:
                    last = done
                    listener(replace(printing, impressions_done=min(done, quote.impressions)))
                if state in FINAL_JOB_STATES or state == STOPPED_JOB_STATE:
                    return state, done
            if self.clock() >= deadline:
                _log.warning("job %s still %s after %s s", quote.job_id, state,
                             self.follow_timeout_s)
                return state, done
            self.sleep(self.poll_s)

    def _page_count(self) -> int | None:
        """The printer's counter, or None when unmonitored or unreadable right now."""
        if self.monitor is None:
            return None
        try:
            return self.monitor.page_count()
        except Exception as exc:  # an SNMP hiccup must not stop a release
            _log.warning("page counter unreadable, using the job's impressions: %r", exc)
            return None

    def _printed(
        self, quote: JobQuote, state: str, reported: int, counter_before: int | None
    ) -> int:
        counter_after = self._page_count() if counter_before is not None else None
        if counter_before is not None and counter_after is not None:
            counted = max(0, counter_after - counter_before)
        elif state == "completed" and reported == 0:
            counted = quote.impressions  # the printer does not report: completed is all
        else:
            counted = reported
        return min(counted, quote.impressions)

    def _capture(
        self,
        quote: JobQuote,
        hold: Authorised,
        usage: BillableUsage,
        printed: int,
        state: str,
    ) -> ReleaseUpdate:
        if printed == 0:
            return self._void(quote, hold, f"job {state}, nothing printed", None)
        try:
            # the prices this job was listed with, whoever has listed jobs here since
            price = quote.pricer.price(usage.impressions, 1, quote.options.duplex)
        except PriceUnavailable:
            price = hold.amount  # priced when held: the estimate is the most it can cost
        amount = min(price, hold.amount)
        colour = usage.total_impressions(ImpressionColour.COLOUR)
        try:
            settled = self.charges.capture(hold.key, amount, printed, colour)
        except BackendError as exc:
            _log.error("capture of hold %s refused: %s", hold.key, exc)
            return _update(quote, Stage.FAILED, problem=exc.code, held=hold.amount,
                           impressions_done=printed, impressions_total=quote.impressions)
        return _update(
            quote, Stage.CHARGED, charged=settled.amount, refunded=hold.amount - settled.amount,
            balance=_after(hold, settled), impressions_done=printed,
            impressions_total=quote.impressions, held=hold.amount,
            problem=_ending_problem(state),
        )

    def _void(
        self, quote: JobQuote, hold: Authorised, reason: str, problem: str | None
    ) -> ReleaseUpdate:
        try:
            settled = self.charges.void(hold.key, reason)
        except BackendError as exc:
            return _update(quote, Stage.FAILED, problem=exc.code, held=hold.amount)
        return _update(
            quote, Stage.FAILED if problem else Stage.CHARGED, charged=Decimal("0.00"),
            refunded=hold.amount, balance=_after(hold, settled), held=hold.amount,
            problem=problem or "job_nothing_printed", impressions_total=quote.impressions,
        )

    def _insufficient(self, username: str, quote: JobQuote) -> ReleaseUpdate:
        try:
            balance: Balance | None = self.balance_of(username)
        except BackendError:
            balance = None
        missing = None if balance is None else max(quote.amount - balance.available,
                                                   Decimal("0.01"))
        return _update(quote, Stage.INSUFFICIENT, problem="insufficient_funds",
                       balance=balance, missing=missing)


def _job_id(job_ref: str) -> int | None:
    """The print-server job id in a ledger ``job_ref`` (``JobQuote.job_ref``: cups-N)."""
    prefix, _, number = job_ref.partition("-")
    return int(number) if prefix == "cups" and number.isdigit() else None


def _ending_problem(state: str) -> str | None:
    """How a charged job ended, as a key: None when it completed, else what cut it short."""
    if state == "completed":
        return None
    if state in FINAL_JOB_STATES or state == STOPPED_JOB_STATE:
        return f"job_{state.replace('-', '_')}"
    return "job_not_followed"  # still printing at the timeout, or the server went away


def _after(hold: Authorised, settled: Settled) -> Balance | None:
    """The balance after a settlement; projected from the hold's while it is unsent."""
    if settled.balance is not None:
        return settled.balance
    before = hold.balance
    if before is None:
        return None
    given_back = hold.amount - settled.amount
    return Balance(before.currency, before.virtual_credit, before.personal_credit,
                   before.held - hold.amount, before.available + given_back)


def _update(quote: JobQuote, stage: Stage, **values: object) -> ReleaseUpdate:
    return ReleaseUpdate(
        job_id=quote.job_id, name=quote.name, stage=stage, currency=quote.currency,
        estimate=quote.amount, **values,  # type: ignore[arg-type]
    )
