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

Every job of a batch gets its own outcome: a refusal (printer, credit, backend) ends that
job only, and the next one is checked and asked for again on its own — a cheaper job may
still fit the credit left, and a printer fixed meanwhile prints the rest. Each final
update names its outcome with a key of :mod:`terminal.outcomes` and says what happened
to the money (:class:`Settlement`) and how much.

Money moves through :class:`Charges` (the terminal's charge book): every hold, capture
and void is journalled in the durable outbox with its idempotency key before it is
sent, so a crash or a lost answer never loses or doubles a charge, and a remembered
user can still print up to the offline limit while the backend is away. Listeners get
a :class:`ReleaseUpdate` at every stage, from the worker thread: the UI hands them to
its own thread.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from decimal import ROUND_HALF_UP, Decimal

from analysis import BillableUsage, ImpressionColour
from terminal.jobs import (
    JobNotFound,
    JobQuote,
    JobService,
    printed_usage,
)
from terminal.outcomes import (
    Settlement,
    Stage,
    backend_refusal,
    check,
    printer_refusal,
)
from terminal.ports import (
    Authorised,
    BackendError,
    BackendRejected,
    Balance,
    Charges,
    HoldQueue,
    PageCounter,
    PriceUnavailable,
    PrinterRefused,
    PrinterUnreadable,
    PrintServerError,
    Settled,
    Unsettled,
)

__all__ = ["ReleaseUpdate", "ReleaseWorkflow", "Settlement", "Stage"]

_log = logging.getLogger(__name__)

FINAL_JOB_STATES = frozenset({"completed", "canceled", "aborted"})
HELD_JOB_STATE = "pending-held"  # a released job is "pending" too: that one may still print
STOPPED_JOB_STATE = "processing-stopped"  # IPP job-state 6: the printer stopped (jam)
_ENDED = FINAL_JOB_STATES | {STOPPED_JOB_STATE}


@dataclass(frozen=True)
class ReleaseUpdate:
    """One job's progress, for the screen. ``problem`` is a stable translatable key.

    On a final update, ``outcome`` is the key of :data:`terminal.outcomes.OUTCOMES` the
    job ended with (``problem``, or ``job_completed`` on a plain success) and
    ``settlement`` what happened to its money: ``held`` was reserved, ``charged`` taken,
    ``refunded`` given back (all None when no hold was made). A final update with a key,
    stage or settlement the registry does not allow is refused at construction.
    """

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
    settlement: Settlement = Settlement.NONE

    def __post_init__(self) -> None:
        if self.stage.final:
            check(self.problem, self.stage, self.settlement)

    @property
    def outcome(self) -> str | None:
        """The registry key of how the job ended; None while it is not final."""
        if not self.stage.final:
            return None
        return self.problem or "job_completed"


Listener = Callable[[ReleaseUpdate], None]


@dataclass
class ReleaseWorkflow:
    """Releases jobs one after the other; every job gets its own outcome.

    ``balance_of`` asks the backend for a balance: only used to say how much is missing
    when a hold is refused for insufficient funds.
    """

    jobs: JobService
    queue: HoldQueue
    charges: Charges
    balance_of: Callable[[str], Balance]
    monitor: PageCounter | None = None
    # Told when a batch starts (with the user); the callable it returns is called when
    # the batch ends. The wiring passes the session's ``release_running``: no idle
    # logout while the user's jobs are still printing.
    running: Callable[[str], Callable[[], None]] | None = None
    poll_s: float = 0.5
    follow_timeout_s: float = 900.0
    sleep: Callable[[float], None] = time.sleep
    clock: Callable[[], float] = time.monotonic
    # Set when the kiosk closes: following stops, and what is unsettled stays in the
    # journal for the next start (settling on a half-followed job would be a guess).
    closing: threading.Event = field(default_factory=threading.Event)
    # Jobs whose holds a restart is settling: not released again meanwhile (the
    # recovery would take the new print for the old hold's and charge it twice).
    _recovering: set[str] = field(default_factory=set, init=False, repr=False)
    _recovering_lock: threading.Lock = field(default_factory=threading.Lock, init=False,
                                             repr=False)

    def release(
        self, username: str, quotes: Sequence[JobQuote], listener: Listener,
        billing_code: str | None = None,
    ) -> list[ReleaseUpdate]:
        """Release ``quotes`` in order; return each job's final update.

        A refused job never stops the batch: each job is checked (printer, credit) and
        held on its own. ``billing_code`` (the code the user picked, if any) goes with
        every job's hold. Blocks for as long as the printing takes: callers run it on a
        worker thread. A technician session is refused before anything is held
        (:class:`~terminal.jobs.TechnicianSession`).
        """
        self.jobs.refuse_technician(username)
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
        for quote in quotes:
            try:
                final = self._release_one(username, quote, listener, billing_code)
            except _Closing:
                _log.info("kiosk closing: job %s left to the next start", quote.job_id)
                return finals
            except Exception:  # last-resort guard: a bug must not stop the batch or the screen
                _log.exception("bug: release of job %s failed", quote.job_id)
                final = self._internal_error(quote)
            listener(final)
            finals.append(final)
        return finals

    def recover(self, holds: Sequence[Unsettled]) -> list[str]:
        """Settle the holds a stopped kiosk left open; return the keys it settled.

        ``holds`` is ``charges.unsettled()`` read at start-up (oldest first), before
        anyone could release (a hold made since is not this method's business). Of two
        open holds for one job only the later can have printed: the earlier is voided.
        Every hold whose
        job's fate the print server can tell is settled: a job never released voids its
        hold; a completed job is charged its hold (the estimate of what completed); a job
        the printer stopped (jam) is cancelled so it cannot resume unpaid, then settled
        like a cancelled or aborted one — voided when nothing printed, else charged the
        part printed in proportion of the hold. A job still printing (or released and
        queued) is followed to its end first, after the others are settled, so this
        may take as long as those jobs print: callers run it on a worker thread. Left
        open, logged, for the backend's expiry: a job the server no longer knows or
        cannot be asked about, and a part printed of a hold journalled without its
        impressions.
        """
        settled: list[str] = []
        printing: list[tuple[Unsettled, int]] = []
        # a 3D kiosk's holds are its follower's (terminal.print3d_follow): never voided
        # as "superseded" nor settled here, whatever job they name
        holds = [hold for hold in holds if not hold.job_ref.startswith("print3d:")]
        with self._recovering_lock:
            self._recovering.update(hold.job_ref for hold in holds)
        try:
            self._recover(holds, settled, printing)
        finally:
            with self._recovering_lock:
                self._recovering.difference_update(hold.job_ref for hold in holds)
        return settled

    def _recover(
        self, holds: Sequence[Unsettled], settled: list[str],
        printing: list[tuple[Unsettled, int]],
    ) -> None:
        latest = {hold.job_ref: hold.key for hold in holds}  # holds come oldest first
        for hold in holds:
            if latest[hold.job_ref] != hold.key:
                # A job is released once: a later hold for it means this one's release
                # never happened (it was left open when the job's fate was unknown).
                self._void_recovered(hold, "superseded by a later hold for the same job",
                                     settled)
                continue
            job_id = _job_id(hold.job_ref)
            if job_id is None:
                _log.warning("recovery: hold %s is for %r, not a print job; left open",
                             hold.key, hold.job_ref)
                continue
            try:
                progress = self.queue.progress(job_id)
            except PrintServerError as exc:
                _log.warning("recovery: job %s unreadable, hold %s left open: %s",
                             job_id, hold.key, exc)
                continue
            if progress.state == HELD_JOB_STATE or progress.state in _ENDED:
                self._settle_recovered(hold, job_id, progress.state,
                                       progress.impressions_completed, settled)
            else:
                printing.append((hold, job_id))
        for hold, job_id in printing:
            try:
                state, done = self._follow(job_id, lambda _done: None)
            except _Closing:
                _log.info("kiosk closing: hold %s left to the next start", hold.key)
                break
            self._settle_recovered(hold, job_id, state, done, settled)

    def _void_recovered(self, hold: Unsettled, reason: str, settled: list[str]) -> None:
        try:
            self.charges.void(hold.key, reason)
        except BackendError as exc:
            _log.error("recovery: hold %s could not be voided: %s", hold.key, exc)
            return
        settled.append(hold.key)

    def _settle_recovered(
        self, hold: Unsettled, job_id: int, state: str, done: int, settled: list[str]
    ) -> None:
        if state == STOPPED_JOB_STATE:
            self._cancel(job_id)
        try:
            if state == HELD_JOB_STATE:
                self.charges.void(hold.key, "kiosk restarted; job never released")
            elif state == "completed":
                self.charges.capture(hold.key, hold.amount, done, 0)
            elif done <= 0:
                self.charges.void(hold.key, f"kiosk restarted; job {state}, nothing printed")
            elif hold.impressions is None:
                _log.warning("recovery: job %s is %s (%s printed) and its hold %s has no "
                             "impressions to price it by; left open", job_id, state, done,
                             hold.key)
                return
            else:
                printed = min(done, hold.impressions)
                self.charges.capture(hold.key, _part(hold.amount, printed, hold.impressions),
                                     printed, 0)
        except BackendError as exc:  # one refused settlement must not stop the others
            _log.error("recovery: hold %s could not be settled: %s", hold.key, exc)
            return
        settled.append(hold.key)

    def _printer_problem(self) -> str | None:
        problem = self.queue.printer_problem()
        if problem is None and self.monitor is not None:
            problem = self.monitor.printer_problem()
        return None if problem is None else printer_refusal(problem)

    def _release_one(
        self, username: str, quote: JobQuote, listener: Listener, billing_code: str | None
    ) -> ReleaseUpdate:
        try:
            problem = self._printer_problem()
        except PrintServerError as exc:
            _log.warning("printer state unreadable, job %s not released: %s",
                         quote.job_id, exc)
            problem = "printer_unavailable"
        if problem is not None:
            return _update(quote, Stage.REFUSED, problem=problem)
        with self._recovering_lock:
            if quote.job_ref in self._recovering:
                return _update(quote, Stage.REFUSED, problem="job_recovering")
        try:
            job, analysis = self.jobs.analysis_of(username, quote.job_id)
        except JobNotFound:
            return _update(quote, Stage.FAILED, problem=JobNotFound.code)
        listener(_update(quote, Stage.HOLDING))
        description = f"{quote.name}, {quote.impressions} impressions"
        try:
            hold = self.charges.authorise(username, quote.amount, description, quote.job_ref,
                                          billing_code, quote.impressions)
        except BackendRejected as exc:
            if exc.code == "insufficient_funds":
                return self._insufficient(username, quote)
            key = backend_refusal(exc.code)
            if key != exc.code:
                _log.warning("hold for job %s refused with unknown code %r", quote.job_id,
                             exc.code)
            return _update(quote, Stage.REFUSED, problem=key)
        except BackendError as exc:
            known = exc.code in {"backend_unavailable", "backend_error"}
            return _update(quote, Stage.FAILED, problem=exc.code if known else "backend_error")
        printing = _update(
            quote, Stage.PRINTING, held=hold.amount, balance=hold.balance,
            impressions_total=quote.impressions,
        )
        listener(printing)
        counter_before = self._page_count()
        try:
            self.queue.release(quote.job_id)
        except PrinterRefused as exc:  # the printer failed between the check and now
            return self._void(quote, hold, f"printer refused: {exc.code}", Stage.REFUSED,
                              printer_refusal(exc.code))
        except PrintServerError as exc:
            _log.warning("job %s could not be released, voiding its hold: %s",
                         quote.job_id, exc)
            return self._void(quote, hold, "release_failed", Stage.VOIDED, "release_failed")

        def shown(done: int) -> None:
            listener(replace(printing, impressions_done=min(done, quote.impressions)))

        state, reported = self._follow(quote.job_id, shown)
        if state == STOPPED_JOB_STATE:
            self._cancel(quote.job_id)
        printed = self._printed(quote, state, reported, counter_before)
        usage = printed_usage(analysis, quote.options, job.copies, job.number_up, printed)
        return self._capture(quote, hold, usage, printed, state)

    def _cancel(self, job_id: int) -> None:
        """Cancel a stopped job so it cannot resume unpaid; a failure is logged, no more:
        the hold is settled on what printed either way."""
        try:
            self.queue.cancel(job_id)
        except PrintServerError as exc:
            _log.error("stopped job %s could not be cancelled (it may resume when the "
                       "printer is fixed): %s", job_id, exc)

    def _follow(self, job_id: int, shown: Callable[[int], None]) -> tuple[str, int]:
        """Poll the job until it ends, stops or the follow timeout passes.

        A print server that stops answering mid-job is asked again until the timeout:
        the hold is then settled on the last impressions it reported (state "unknown"),
        never left open. ``shown`` hears every new count of impressions.
        """
        deadline = self.clock() + self.follow_timeout_s
        state, done, last = "unknown", 0, -1
        while True:
            if self.closing.is_set():
                raise _Closing
            try:
                progress = self.queue.progress(job_id)
            except PrintServerError as exc:
                _log.warning("job %s progress unreadable: %s", job_id, exc)
            else:
                state, done = progress.state, progress.impressions_completed
                if done != last:
                    last = done
                    shown(done)
                if state in _ENDED:
                    return state, done
            if self.clock() >= deadline:
                _log.warning("job %s still %s after %s s", job_id, state,
                             self.follow_timeout_s)
                return state, done
            self.sleep(self.poll_s)

    def _page_count(self) -> int | None:
        """The printer's counter, or None when unmonitored or unreadable right now."""
        if self.monitor is None:
            return None
        try:
            return self.monitor.page_count()
        except PrinterUnreadable as exc:  # an SNMP hiccup must not stop a release
            _log.warning("page counter unreadable, using the job's impressions: %s", exc)
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
        ending = _ending_problem(state)
        if printed == 0:
            return self._void(quote, hold, f"job {state}, nothing printed", Stage.VOIDED,
                              ending or "job_nothing_printed")
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
            return self._unsettled(quote, hold, printed)
        given_back = hold.amount - settled.amount
        return _update(
            quote, Stage.CHARGED, charged=settled.amount, refunded=given_back,
            balance=_after(hold, settled), impressions_done=printed,
            impressions_total=quote.impressions, held=hold.amount, problem=ending,
            settlement=Settlement.PARTLY_CHARGED if given_back else Settlement.CHARGED,
        )

    def _void(
        self, quote: JobQuote, hold: Authorised, reason: str, stage: Stage, problem: str
    ) -> ReleaseUpdate:
        try:
            settled = self.charges.void(hold.key, reason)
        except BackendError as exc:
            _log.error("void of hold %s refused: %s", hold.key, exc)
            return self._unsettled(quote, hold, 0)
        return _update(
            quote, stage, charged=Decimal("0.00"), refunded=hold.amount,
            balance=_after(hold, settled), held=hold.amount, problem=problem,
            impressions_total=quote.impressions, settlement=Settlement.VOIDED,
        )

    def _unsettled(self, quote: JobQuote, hold: Authorised, printed: int) -> ReleaseUpdate:
        return _update(quote, Stage.FAILED, problem="settlement_refused", held=hold.amount,
                       impressions_done=printed, impressions_total=quote.impressions,
                       settlement=Settlement.UNSETTLED)

    def _internal_error(self, quote: JobQuote) -> ReleaseUpdate:
        """A bug cut the release short: say whether it left the job's hold open."""
        try:
            open_hold = any(h.job_ref == quote.job_ref for h in self.charges.unsettled())
        except Exception:  # the guard must answer even when the journal is the bug
            _log.exception("bug: the journal could not be read after a failed release")
            open_hold = True
        return _update(quote, Stage.FAILED, problem="internal_error",
                       settlement=Settlement.UNSETTLED if open_hold else Settlement.NONE)

    def _insufficient(self, username: str, quote: JobQuote) -> ReleaseUpdate:
        balance, missing = shortfall(self.balance_of, username, quote.amount)
        return _update(quote, Stage.INSUFFICIENT, problem="insufficient_funds",
                       balance=balance, missing=missing)


def shortfall(balance_of: Callable[[str], Balance], username: str,
              amount: Decimal) -> tuple[Balance | None, Decimal | None]:
    """The balance and how much more ``amount`` needs (at least a cent: the hold was
    refused), for the "not enough credit" screens; (None, None) when the backend cannot
    say."""
    try:
        balance = balance_of(username)
    except BackendError:
        return None, None
    return balance, max(amount - balance.available, Decimal("0.01"))


class _Closing(Exception):
    """The kiosk is closing while a job is followed: stop, settle nothing more."""


def _job_id(job_ref: str) -> int | None:
    """The print-server job id in a ledger ``job_ref`` (``JobQuote.job_ref``: cups-N)."""
    prefix, _, number = job_ref.partition("-")
    return int(number) if prefix == "cups" and number.isdigit() else None


def _part(amount: Decimal, printed: int, impressions: int) -> Decimal:
    """``amount`` in proportion of the impressions printed, rounded half-up to its own
    minor unit: how a restart prices a part printed whose pages it can no longer see."""
    if impressions <= 0:
        return amount
    unit = Decimal(1).scaleb(amount.as_tuple().exponent)  # type: ignore[arg-type]
    part = (amount * printed / impressions).quantize(unit, rounding=ROUND_HALF_UP)
    return min(part, amount)


def _ending_problem(state: str) -> str | None:
    """How a job ended, as a key: None when it completed, else what cut it short."""
    if state == "completed":
        return None
    if state in _ENDED:
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
