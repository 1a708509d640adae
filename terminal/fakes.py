"""In-memory fakes of the terminal's ports, for unit tests of the layers above.

Like python-escpos's ``Dummy``, each fake records what it was asked so a test can check
the conversation, not just the outcome. The real adapters are tested against real peers.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Executor, Future
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any, TypeVar

from analysis import (
    DocumentAnalysis,
    ImpressionColour,
    PageAnalysis,
    PageColour,
    paper_size,
)
from terminal.ports import (
    BackendError,
    BackendRejected,
    BackendUnavailable,
    Balance,
    BillingCode,
    HoldAnswer,
    Identity,
    Print3DFlag,
    Print3DJob,
    Print3DSettlement,
    PrinterRejected,
    PrinterUnreachable,
    PrinterUnreadable,
    PrintServerError,
    PrintStatus,
    Redemption,
    SpoolQueueUnavailable,
    TopUp,
    TopUpOptions,
    TopUpRefusal,
    Volume,
    VoucherCredit,
    VoucherRefusal,
)
from terminal.receipts import Receipt, ReceiptPrinterError
from terminal.technician_types import (
    BackendCheck,
    CardCheck,
    EnrolResult,
    OutboxStatus,
    Saved,
    SaveRefused,
    SettingSpec,
    SettingValue,
    SnmpProbe,
    SupplyLevel,
    Technician,
    TechnicianReport,
    TestPageResult,
)


class FakeBackend:
    """A backend that knows a fixed set of cards and PINs and records every call."""

    def __init__(
        self,
        cards: dict[str, Identity] | None = None,
        pins: dict[tuple[str, str], Identity] | None = None,
        failure: BackendError | None = None,
    ) -> None:
        self.cards = dict(cards or {})
        self.pins = dict(pins or {})
        self.failure = failure
        self.calls: list[tuple[str, ...]] = []
        self.gate: threading.Event | None = None

    def _answer(self, found: Identity | None, code: str) -> Identity:
        if self.gate is not None:
            self.gate.wait(timeout=10)
        if self.failure is not None:
            raise self.failure
        if found is None:
            raise BackendRejected(code)
        return found

    def identify_card(self, card_number: str) -> Identity:
        self.calls.append(("identify_card", card_number))
        return self._answer(self.cards.get(card_number), "card_unknown")

    def identify_pin(self, username: str, pin: str) -> Identity:
        self.calls.append(("identify_pin", username))
        return self._answer(self.pins.get((username, pin)), "pin_invalid")

    def enrol_card(self, card_number: str, username: str, pin: str) -> Identity:
        """Like the backend: a right PIN links the card, so the card identifies next time."""
        self.calls.append(("enrol_card", card_number, username))
        identity = self._answer(self.pins.get((username, pin)), "pin_invalid")
        known = self.cards.get(card_number)
        if known is not None and known.username != username:
            raise BackendRejected("card_already_enrolled", status=409)
        self.cards[card_number] = identity
        return identity


class FakeBillingCodes:
    """The :class:`terminal.ports.BillingCodeDirectory` port over a fixed list of codes.

    ``recent`` maps a username to their recent codes; ``calls`` records every question.
    """

    def __init__(
        self, codes: Sequence[BillingCode], recent: Mapping[str, Sequence[BillingCode]] | None
        = None, failure: BackendError | None = None,
    ) -> None:
        self.codes = list(codes)
        self.recent = {user: list(codes) for user, codes in (recent or {}).items()}
        self.failure = failure
        self.calls: list[tuple[str, str]] = []

    def search_billing_codes(
        self, username: str, prefix: str, limit: int = 20
    ) -> list[BillingCode]:
        self.calls.append(("search", prefix))
        if self.failure is not None:
            raise self.failure
        wanted = prefix.lower()
        found = [c for c in self.codes
                 if c.code.lower().startswith(wanted) or c.name.lower().startswith(wanted)]
        return sorted(found, key=lambda c: c.code)[:limit]

    def recent_billing_codes(self, username: str, limit: int = 5) -> list[BillingCode]:
        self.calls.append(("recent", username))
        if self.failure is not None:
            raise self.failure
        return self.recent.get(username, [])[:limit]


class InlineExecutor(Executor):
    """Runs submitted work at once on the caller's thread: deterministic unit tests."""

    def submit(  # type: ignore[override]
        self, fn: Callable[..., object], /, *args: object, **kwargs: object
    ) -> Future[object]:
        future: Future[object] = Future()
        try:
            future.set_result(fn(*args, **kwargs))
        except Exception as exc:  # recorded on the future like a real executor would
            future.set_exception(exc)
        return future


class ManualClock:
    """A monotonic clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


_T = TypeVar("_T")


@dataclass
class _FakeHold:
    hold_id: str
    username: str
    amount: Decimal
    job_ref: str
    status: str = "open"
    captured: Decimal | None = None
    billing_code: str | None = None


class FakeLedger:
    """The :class:`terminal.ports.Ledger` port in memory, idempotent like the real one.

    ``down`` makes every call fail as unreachable; ``lose_answers`` applies the effect
    and then fails, like an answer lost on the way back; ``refuse_all`` answers every
    call with that refusal. ``calls`` records (method, idempotency key);
    ``hold_sessions`` the user session each hold carried.
    """

    def __init__(self, available: Mapping[str, Decimal] | None = None) -> None:
        self.available = dict(available or {})
        self.holds: dict[str, _FakeHold] = {}
        self.events: dict[str, Mapping[str, object]] = {}
        self.calls: list[tuple[str, str]] = []
        self.down = False
        self.lose_answers = False
        self.refuse_all: BackendRejected | None = None
        self._answers: dict[str, object] = {}
        # username -> the session its identification opened; hold key -> session sent
        self.sessions: dict[str, str] = {}
        self.hold_sessions: dict[str, str | None] = {}
        # voucher body -> its value (EUR); body -> (who, when) once redeemed
        self.vouchers: dict[str, Decimal] = {}
        self.redeemed: dict[str, tuple[str, datetime]] = {}
        # top-ups: the options answered, id -> the top-up; waits records each long-poll
        # as (monotonic start, wait_s); ``topup_refusal`` refuses every creation
        self.topup_options_answer = TopUpOptions(
            "demo", "EUR", Decimal("1.00"), Decimal("100.00"),
            (Decimal("2.00"), Decimal("5.00"), Decimal("10.00"), Decimal("20.00")), 600)
        self.topups: dict[str, TopUp] = {}
        self.topup_owner: dict[str, str] = {}
        self.topup_refusal: TopUpRefusal | None = None
        self.waits: list[tuple[float, float]] = []
        self._topup_changed = threading.Condition()

    def charged(self) -> dict[str, Decimal]:
        """Captured amount per job reference: what the ledger holds."""
        return {h.job_ref: h.captured for h in self.holds.values() if h.captured is not None}

    def balance(self, username: str) -> Balance:
        self._gate("balance", "")
        return self._balance(username)

    def session_of(self, username: str) -> str | None:
        return self.sessions.get(username)

    def hold(
        self, key: str, username: str, amount: Decimal, description: str, job_ref: str,
        billing_code: str | None = None, session: str | None = None,
    ) -> HoldAnswer:
        self.hold_sessions[key] = session

        def effect() -> HoldAnswer:
            if username not in self.available:
                raise BackendRejected("user_unknown", status=404)
            if amount > self.available[username]:
                raise BackendRejected("insufficient_funds", status=409)
            hold = _FakeHold(f"h{len(self.holds) + 1}", username, amount, job_ref,
                             billing_code=billing_code)
            self.holds[hold.hold_id] = hold
            self.available[username] -= amount
            return self._answer(hold)

        return self._idempotent("hold", key, effect)

    def capture(
        self, key: str, hold_id: str, amount: Decimal, pages: int, colour_pages: int
    ) -> HoldAnswer:
        def effect() -> HoldAnswer:
            hold = self._open_hold(hold_id)
            if amount > hold.amount:
                raise BackendRejected("capture_exceeds_hold", status=409)
            hold.status, hold.captured = "captured", amount
            self.available[hold.username] += hold.amount - amount
            return self._answer(hold)

        return self._idempotent("capture", key, effect)

    def void(self, key: str, hold_id: str, reason: str) -> HoldAnswer:
        def effect() -> HoldAnswer:
            hold = self._open_hold(hold_id)
            hold.status, hold.captured = "voided", Decimal("0.00")
            self.available[hold.username] += hold.amount
            return self._answer(hold)

        return self._idempotent("void", key, effect)

    def refund(self, key: str, hold_id: str, amount: Decimal | None, reason: str) -> Balance:
        def effect() -> Balance:
            hold = self.holds.get(hold_id)
            if hold is None or hold.captured is None:
                raise BackendRejected("transaction_unknown", status=404)
            back = hold.captured if amount is None else amount
            hold.captured -= back
            self.available[hold.username] += back
            return self._balance(hold.username)

        return self._idempotent("refund", key, effect)

    def send_events(self, events: Sequence[Mapping[str, object]]) -> int:
        self._gate("events", ",".join(str(event["idempotency_key"]) for event in events))
        new = [event for event in events if str(event["idempotency_key"]) not in self.events]
        for event in new:
            self.events[str(event["idempotency_key"])] = event
        if self.lose_answers:
            raise BackendUnavailable("answer lost")
        return len(new)

    def redeem_voucher(self, username: str, code: str, key: str) -> Redemption:
        """Like the backend: an unknown code is refused, a redeemed one says when, and a
        resend with the same key gets the first answer (one credit)."""
        def effect() -> Redemption:
            body = code.replace("-", "").upper()[-14:]
            if body not in self.vouchers:
                return VoucherRefusal("voucher_unknown")
            if body in self.redeemed:
                return VoucherRefusal("voucher_redeemed", redeemed_at=self.redeemed[body][1])
            value = self.vouchers[body]
            self.redeemed[body] = (username, datetime.now(UTC))
            self.available[username] = self.available.get(username, Decimal("0")) + value
            return VoucherCredit("DEMO", len(self.redeemed), value, "EUR",
                                 (datetime.now(UTC) + timedelta(days=365)).date(), value,
                                 self._balance(username), len(self.redeemed))

        return self._idempotent("redeem_voucher", key, effect)

    def topup_options(self, username: str) -> TopUpOptions:
        self._gate("topup_options", "")
        return self.topup_options_answer

    def create_topup(self, username: str, amount: Decimal, key: str) -> TopUp | TopUpRefusal:
        """Like the backend: limits checked, one top-up per key."""
        def effect() -> TopUp | TopUpRefusal:
            limits = self.topup_options_answer
            if self.topup_refusal is not None:
                return self.topup_refusal
            if not limits.minimum <= amount <= limits.maximum:
                return TopUpRefusal("topup_amount", limits.minimum, limits.maximum)
            number = len(self.topups) + 1
            token = f"tok{number:04d}"
            topup = TopUp(f"t{number}", "pending", amount, limits.currency, f"DEMO{number:02d}",
                          f"http://pay.invalid/pay/{token}", f"http://pay.invalid/pay/{token}",
                          datetime.now(UTC) + timedelta(seconds=limits.expires_after_s))
            with self._topup_changed:
                self.topups[topup.topup_id] = topup
                self.topup_owner[topup.topup_id] = username
            return topup

        return self._idempotent("create_topup", key, effect)

    def wait_topup(self, username: str, topup_id: str, wait_s: float) -> TopUp:
        self._gate("wait_topup", topup_id)
        self.waits.append((time.monotonic(), wait_s))
        with self._topup_changed:
            self._topup_changed.wait_for(lambda: not self.topups[topup_id].pending, wait_s)
            return self.topups[topup_id]

    def cancel_topup(self, username: str, topup_id: str) -> TopUp:
        self._gate("cancel_topup", topup_id)
        return self.settle_topup(topup_id, "cancelled")

    def settle_topup(self, topup_id: str, status: str) -> TopUp:
        """What the gateway's page does: "paid" credits the owner once; any other end
        (expired, failed, cancelled) only if still pending. Wakes every long-poll."""
        with self._topup_changed:
            topup = self.topups[topup_id]
            if topup.pending:
                balance = None
                if status == "paid":
                    owner = self.topup_owner[topup_id]
                    self.available[owner] = self.available.get(owner, Decimal("0")) \
                        + topup.amount
                    balance = self._balance(owner)
                topup = replace(topup, status=status, balance=balance)
                self.topups[topup_id] = topup
                self._topup_changed.notify_all()
            return topup

    def _gate(self, method: str, key: str) -> None:
        self.calls.append((method, key))
        if self.down:
            raise BackendUnavailable("fake backend down")
        if self.refuse_all is not None:
            raise self.refuse_all

    def _idempotent(self, method: str, key: str, effect: Callable[[], _T]) -> _T:
        self._gate(method, key)
        if key not in self._answers:
            self._answers[key] = effect()
        if self.lose_answers:
            raise BackendUnavailable("answer lost")
        return self._answers[key]  # type: ignore[return-value]

    def _open_hold(self, hold_id: str) -> _FakeHold:
        hold = self.holds.get(hold_id)
        if hold is None:
            raise BackendRejected("hold_unknown", status=404)
        if hold.status != "open":
            raise BackendRejected("hold_settled", status=409)
        return hold

    def _balance(self, username: str) -> Balance:
        held = sum((h.amount for h in self.holds.values()
                    if h.username == username and h.status == "open"), Decimal("0"))
        available = self.available[username]
        return Balance("EUR", available + held, Decimal("0"), held, available)

    def _answer(self, hold: _FakeHold) -> HoldAnswer:
        released = None if hold.captured is None else hold.amount - hold.captured
        return HoldAnswer(hold.hold_id, hold.status, hold.amount, hold.captured, released,
                          self._balance(hold.username))


@dataclass(frozen=True)
class FakeSupply:
    name: str
    level_percent: int | None


@dataclass(frozen=True)
class FakeAlert:
    code: str
    severity: str
    description: str = ""


@dataclass
class FakePrinterMonitor:
    """A printer whose counters, supplies and alerts the test sets; ``failing`` raises."""

    counter_values: dict[str, int] = field(default_factory=lambda: {"total": 0})
    supply_levels: list[FakeSupply] = field(default_factory=list)
    active_alerts: list[FakeAlert] = field(default_factory=list)
    failing: bool = False
    reads: int = 0
    serial_number: str | None = None

    def counters(self) -> Mapping[str, int]:
        self._read()
        return dict(self.counter_values)

    def serial(self) -> str | None:
        self._read()
        return self.serial_number

    def supplies(self) -> Sequence[FakeSupply]:
        self._read()
        return list(self.supply_levels)

    def alerts(self) -> Sequence[FakeAlert]:
        self._read()
        return list(self.active_alerts)

    def _read(self) -> None:
        self.reads += 1
        if self.failing:
            raise PrinterUnreadable("printer does not answer")


@dataclass
class FakeReceiptPrinter:
    """A receipt printer that keeps every receipt it was given; with ``failure`` set it
    raises that instead (an unplugged printer, as the adapter would report it)."""

    printed: list[Receipt] = field(default_factory=list)
    failure: str | None = None

    def print_receipt(self, receipt: Receipt) -> None:
        if self.failure is not None:
            raise ReceiptPrinterError(self.failure)
        self.printed.append(receipt)


# -- the job and release ports ----------------------------------------------------------

A4 = paper_size(595, 842)
T0 = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)


def document(*colours: str) -> DocumentAnalysis:
    """An analysis with one page per letter: c colour, m mono, b blank."""
    kinds = {"c": PageColour.COLOUR, "m": PageColour.MONO, "b": PageColour.BLANK}
    pages = [PageAnalysis(n, kinds[c], A4) for n, c in enumerate(colours, start=1)]
    return DocumentAnalysis(Path("/spool/d1"), "pdf", pages)


@dataclass(frozen=True)
class FakeHeldJob:
    job_id: int
    name: str
    username: str = "alice"
    submitted_at: datetime = T0
    copies: int = 1
    colour: bool = True
    duplex: bool = False
    number_up: int = 1
    pages: int | None = None
    document: Path | None = None
    uuid: str = ""


@dataclass(frozen=True)
class FakeProgress:
    state: str
    impressions_completed: int


class FakeHoldQueue:
    """The :class:`terminal.ports.HoldQueue` port: held jobs per user; ``script[job_id]``
    is the progress seen after release (the last step repeats); ``problem`` is the
    printer's; ``fail_release``/``fail_cancel`` make those fail as a print server does."""

    def __init__(self, jobs: Sequence[FakeHeldJob]) -> None:
        self.jobs = {job.job_id: job for job in jobs}
        self.script: dict[int, list[FakeProgress]] = {}
        self.problem: str | None = None
        self.calls: list[tuple[object, ...]] = []
        self.fail_release = False
        self.fail_cancel = False

    def held_jobs(self, username: str) -> list[FakeHeldJob]:
        self.calls.append(("held_jobs", username))
        return [job for job in self.jobs.values() if job.username == username]

    def set_options(self, job_id: int, *, colour: bool, duplex: bool) -> None:
        self.calls.append(("set_options", job_id, colour, duplex))
        self.jobs[job_id] = replace(self.jobs[job_id], colour=colour, duplex=duplex)

    def release(self, job_id: int) -> None:
        self.calls.append(("release", job_id))
        if self.fail_release:
            raise PrintServerError("the print server said no")
        del self.jobs[job_id]

    def cancel(self, job_id: int) -> None:
        self.calls.append(("cancel", job_id))
        if self.fail_cancel:
            raise PrintServerError(f"job {job_id}: the print server refused the cancel")
        self.jobs.pop(job_id, None)

    def progress(self, job_id: int) -> FakeProgress:
        self.calls.append(("progress", job_id))
        steps = self.script.setdefault(job_id, [FakeProgress("completed", 0)])
        return steps.pop(0) if len(steps) > 1 else steps[0]

    def printer_problem(self) -> str | None:
        self.calls.append(("printer_problem",))
        return self.problem


class FakePricer:
    """0.05 a mono and 0.20 a colour side, plus 0.01 of paper a sheet (``unit`` and
    ``sheet`` may be changed: a free mono list is ``unit[MONO] = sheet = 0``)."""

    currency = "EUR"
    notice = None

    def __init__(self) -> None:
        self.unit = {ImpressionColour.MONO: Decimal("0.05"),
                     ImpressionColour.COLOUR: Decimal("0.20")}
        self.sheet = Decimal("0.01")
        self.prepared: list[str] = []

    def prepare(self, username: str) -> FakePricer:
        self.prepared.append(username)
        return self

    def price(
        self, sides: Mapping[tuple[ImpressionColour, str], int], copies: int, duplex: bool
    ) -> Decimal:
        per_size: dict[str, int] = {}
        total = Decimal("0")
        for (colour, size), n in sides.items():
            total += self.unit[colour] * n * copies
            per_size[size] = per_size.get(size, 0) + n
        sheets = sum((n + 1) // 2 if duplex else n for n in per_size.values()) * copies
        total += self.sheet * sheets
        return total.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def balance(available: str, held: str = "0.00") -> Balance:
    return Balance("EUR", Decimal(available), Decimal("0.00"), Decimal(held),
                   Decimal(available) - Decimal(held))


@dataclass(frozen=True)
class FakeAuthorisation:
    key: str
    amount: Decimal
    balance: Balance | None
    job_ref: str = ""
    impressions: int | None = None


@dataclass(frozen=True)
class FakeSettlement:
    amount: Decimal
    balance: Balance | None


class FakeCharges:
    """The :class:`terminal.ports.Charges` port: grants what ``available`` allows and
    records every call.

    With ``offline`` set, settlements come back unconfirmed (no balance), as the real
    book answers while the backend is away and the step waits in the outbox;
    ``refuse_settlements`` refuses every capture and void as the backend may.
    """

    def __init__(self, available: str = "10.00") -> None:
        self.available = Decimal(available)
        self.holds: dict[str, Decimal] = {}
        self.refs: dict[str, str] = {}
        self.calls: list[tuple[object, ...]] = []
        self.billing_codes: list[str | None] = []  # the code each authorise carried
        self.impressions: dict[str, int | None] = {}
        self.offline = False
        self.refuse_settlements: BackendRejected | None = None
        self.refuse_jobs: dict[str, BackendError] = {}  # job_ref -> the hold's refusal

    def balance(self, username: str) -> Balance:
        held = sum(self.holds.values(), Decimal("0"))
        return Balance("EUR", self.available, Decimal("0.00"), held, self.available - held)

    def authorise(
        self, username: str, amount: Decimal, description: str, job_ref: str,
        billing_code: str | None = None, impressions: int | None = None,
    ) -> FakeAuthorisation:
        self.calls.append(("authorise", username, amount, job_ref))
        self.billing_codes.append(billing_code)
        if job_ref in self.refuse_jobs:
            raise self.refuse_jobs[job_ref]
        if amount > self.balance(username).available:
            raise BackendRejected("insufficient_funds")
        key = f"hold-{len(self.calls)}"
        self.holds[key] = amount
        self.refs[key] = job_ref
        self.impressions[key] = impressions
        return FakeAuthorisation(key, amount, self.balance(username), job_ref, impressions)

    def unsettled(self) -> list[FakeAuthorisation]:
        return [FakeAuthorisation(key, amount, None, self.refs[key], self.impressions[key])
                for key, amount in self.holds.items()]

    def capture(
        self, authorisation_key: str, amount: Decimal, pages: int, colour_pages: int
    ) -> FakeSettlement:
        self.calls.append(("capture", authorisation_key, amount, pages, colour_pages))
        if self.refuse_settlements is not None:
            raise self.refuse_settlements
        self.holds.pop(authorisation_key)
        self.available -= amount
        return FakeSettlement(amount, None if self.offline else self.balance("alice"))

    def void(self, authorisation_key: str, reason: str) -> FakeSettlement:
        self.calls.append(("void", authorisation_key, reason))
        if self.refuse_settlements is not None:
            raise self.refuse_settlements
        self.holds.pop(authorisation_key)
        return FakeSettlement(Decimal("0"), None if self.offline else self.balance("alice"))


class FakePageCounter:
    """The :class:`terminal.ports.PageCounter` port; before each read the counter moves
    by the next of ``increments``; ``problem`` is the printer's."""

    def __init__(self, start: int = 1000, increments: Sequence[int] = ()) -> None:
        self.counter = start
        self.increments = list(increments)
        self.problem: str | None = None
        self.reads: list[int] = []

    def page_count(self) -> int:
        if self.increments:
            self.counter += self.increments.pop(0)
        self.reads.append(self.counter)
        return self.counter

    def printer_problem(self) -> str | None:
        return self.problem


def later(minutes: int) -> datetime:
    return T0 + timedelta(minutes=minutes)


class FileHoldQueue:
    """The :class:`terminal.ports.HoldQueue` port over a folder: a job's fate outlives a
    killed process, as a print server's does (the kill loop restarts the kiosk on it).

    Jobs ``1..count`` belong to ``username``, one copy of ``pages(job_id)`` mono pages.
    Releasing writes ``released-<id>`` atomically; the job then prints for
    ``print_s(job_id)`` seconds (wall clock, from that file's time) and completes, or,
    when ``jams(job_id)``, stops after one impression until cancelled (``canceled-<id>``).
    """

    def __init__(
        self, folder: Path, username: str, count: int, pages: Callable[[int], int],
        jams: Callable[[int], bool], print_s: Callable[[int], float] = lambda _job: 0.03,
    ) -> None:
        self.folder = folder
        self.username = username
        self.count = count
        self.pages = pages
        self.jams = jams
        self.print_s = print_s
        folder.mkdir(parents=True, exist_ok=True)

    def released(self) -> set[int]:
        """The jobs released so far, by any process."""
        return {int(p.name.removeprefix("released-")) for p in self.folder.glob("released-*")}

    def held_jobs(self, username: str) -> list[FakeHeldJob]:
        if username != self.username:
            return []
        gone = self.released()
        return [FakeHeldJob(job_id, f"job {job_id}", username, later(job_id), colour=False,
                            pages=self.pages(job_id))
                for job_id in range(1, self.count + 1)
                if job_id not in gone and not self._marked("canceled", job_id)]

    def set_options(self, job_id: int, *, colour: bool, duplex: bool) -> None:
        return None  # every job is mono one-sided here

    def release(self, job_id: int) -> None:
        self._mark("released", job_id)

    def cancel(self, job_id: int) -> None:
        self._mark("canceled", job_id)

    def progress(self, job_id: int) -> FakeProgress:
        released = self.folder / f"released-{job_id}"
        canceled = self._marked("canceled", job_id)
        if not released.exists():
            return FakeProgress("canceled" if canceled else "pending-held", 0)
        if time.time() - released.stat().st_mtime < self.print_s(job_id):
            return FakeProgress("processing", 0)
        if self.jams(job_id):
            return FakeProgress("canceled" if canceled else "processing-stopped", 1)
        return FakeProgress("completed", self.pages(job_id))

    def printer_problem(self) -> str | None:
        return None

    def _marked(self, what: str, job_id: int) -> bool:
        return (self.folder / f"{what}-{job_id}").exists()

    def _mark(self, what: str, job_id: int) -> None:
        temporary = self.folder / f".{what}-{job_id}.tmp"
        temporary.write_text("", encoding="utf-8")
        temporary.replace(self.folder / f"{what}-{job_id}")


# -- the spool agent's ports ----------------------------------------------------------------


@dataclass(frozen=True)
class FakeSpooledJob:
    """A job waiting on the print server (``terminal.spool_agent.SpooledJob``)."""

    uuid: str
    name: str = "report.pdf"
    username: str = "alice"
    queue: str = "followme"
    pages: int | None = None
    document: Path | None = Path("/spool/d00001-001")


@dataclass
class FakeSpoolQueue:
    """The spool agent's ``SpoolQueue`` port; ``down`` makes it unreachable."""

    jobs: list[FakeSpooledJob] = field(default_factory=list)
    down: bool = False

    def waiting_jobs(self) -> list[FakeSpooledJob]:
        if self.down:
            raise SpoolQueueUnavailable("cupsd not answering")
        return list(self.jobs)


@dataclass
class FakeReporter:
    """The spool agent's ``AnalysisReporter`` port: records every report it accepted;
    ``failure`` is raised instead while set."""

    accepted: list[dict[str, Any]] = field(default_factory=list)
    failure: Exception | None = None
    closed: bool = False

    def report(self, body: Mapping[str, Any]) -> None:
        if self.failure is not None:
            raise self.failure
        self.accepted.append(dict(body))

    def close(self) -> None:
        self.closed = True


# -- prices and reports ---------------------------------------------------------------------


class FakePriceLists:
    """The backend's ``GET /price-list`` (:class:`terminal.ports.UserPriceLists`): each
    user's list text and period volume, ``default`` for anyone else; ``down`` makes it
    unreachable. ``asked`` records who was asked for."""

    def __init__(
        self, lists: Mapping[str, tuple[str, Volume | None]] | None = None,
        default: tuple[str, Volume | None] | None = None,
    ) -> None:
        self.lists = dict(lists or {})
        self.default = default
        self.down = False
        self.asked: list[str] = []

    def user_price_list(self, username: str) -> tuple[str, Volume | None]:
        self.asked.append(username)
        if self.down:
            raise BackendUnavailable("down")
        found = self.lists.get(username, self.default)
        if found is None:
            raise BackendRejected("user_unknown", status=404)
        return found


class FakeEventJournal:
    """Records the events a reporter journals (:class:`terminal.ports.EventJournal`)."""

    def __init__(self) -> None:
        self.events: list[tuple[str, dict[str, Any]]] = []

    def record_event(self, kind: str, payload: dict[str, Any]) -> None:
        self.events.append((kind, payload))


# -- 3D printing ---------------------------------------------------------------------------


def print3d_job(job_id: int = 1, name: str = "bracket.gcode", username: str = "alice",
                grams: str = "20.00", price: str = "2.00", hold: str = "2.50",
                flags: Sequence[Print3DFlag] = (), status: str = "ready") -> Print3DJob:
    """A 3D job as the backend lists it (figures as the fake prices them)."""
    return Print3DJob(job_id, name, username, status, "PLA", Decimal(grams), Decimal("6.71"),
                      42, "ours", "slicer", Decimal(price), Decimal(hold), "EUR", tuple(flags),
                      datetime(2026, 12, 1, 9, 0, tzinfo=UTC))


class FakePrint3DJobs:
    """The :class:`terminal.ports.Print3DJobs` port in memory, on a :class:`FakeLedger`.

    ``files`` are the jobs' G-code bytes. Claims check the hold like the backend (this
    terminal's, the job's owner's, open, ``job_ref`` "print3d:{id}"). A settlement
    measures grams in proportion of the file position (the real backend re-reads its
    file; this is the fake's rule), charges ``per_gram`` for them at most the hold, and
    applies ``cancel_policy``/``failure_policy``; one answer per key. ``down`` makes
    every call unreachable; ``calls`` records (method, job id, key or hold).
    """

    def __init__(self, ledger: FakeLedger, jobs: Sequence[Print3DJob],
                 files: Mapping[int, bytes], per_gram: str = "0.10",
                 cancel_policy: str = "charge_printed", failure_policy: str = "refund") -> None:
        self.ledger = ledger
        self.jobs = {job.job_id: job for job in jobs}
        self.files = dict(files)
        self.per_gram = Decimal(per_gram)
        self.cancel_policy = cancel_policy
        self.failure_policy = failure_policy
        self.down = False
        self.calls: list[tuple[str, int, str]] = []
        self.settlements: dict[str, Print3DSettlement] = {}
        self.claimed_by: dict[int, str] = {}

    def _gate(self, method: str, job_id: int, key: str) -> None:
        self.calls.append((method, job_id, key))
        if self.down:
            raise BackendUnavailable("fake backend down")

    def print3d_jobs(self, username: str, group: str) -> list[Print3DJob]:
        self._gate("list", 0, username)
        return [job for job in reversed(self.jobs.values())
                if job.username == username and job.status in ("ready", "printing")]

    def claim_print3d(self, job_id: int, hold_id: str) -> Print3DJob:
        self._gate("claim", job_id, hold_id)
        job = self.jobs[job_id]
        hold = self.ledger.holds.get(hold_id)
        if hold is None or hold.status != "open" or hold.job_ref != f"print3d:{job_id}" \
                or hold.username != job.username:
            raise BackendRejected("print3d_hold_mismatch", status=409)
        if job.status != "ready" and self.claimed_by.get(job_id) != hold_id:
            raise BackendRejected("print3d_not_ready", status=409)
        self.claimed_by[job_id] = hold_id
        self.jobs[job_id] = replace(job, status="printing")
        return self.jobs[job_id]

    def download_print3d(self, job_id: int, destination: Path) -> Path:
        self._gate("download", job_id, "")
        if self.claimed_by.get(job_id) is None:
            raise BackendRejected("print3d_not_claimed", status=409)
        destination.write_bytes(self.files[job_id])
        return destination

    def settle_print3d(
        self, key: str, hold_id: str, job_id: int, outcome: str,
        file_position: int | None, print_time_s: int | None,
        printer_filament_mm: Decimal | None,
    ) -> Print3DSettlement:
        self._gate("settle", job_id, key)
        if key in self.settlements:
            return self.settlements[key]
        job = self.jobs[job_id]
        size = len(self.files[job_id])
        position = size if outcome == "completed" else min(file_position or 0, size)
        grams = (job.grams * position / size).quantize(Decimal("0.01"), ROUND_HALF_UP)
        policy = {"completed": "full", "cancelled": self.cancel_policy,
                  "failed": self.failure_policy, "not_started": "refund"}[outcome]
        hold = self.ledger.holds[hold_id]
        amount = min((grams * self.per_gram).quantize(Decimal("0.01"), ROUND_HALF_UP),
                     hold.amount)
        if policy == "refund" or amount == 0:
            answer = self.ledger.void(f"{key}-void", hold_id, outcome)
            charged = Decimal("0.00")
        else:
            answer = self.ledger.capture(f"{key}-capture", hold_id, amount, 0, 0)
            charged = amount
        self.jobs[job_id] = replace(job, status="ready" if outcome == "not_started"
                                    else outcome)
        settlement = Print3DSettlement(job_id, outcome, policy,
                                       grams if charged else Decimal("0.00"),
                                       (print_time_s or 0) // 60, charged, answer.balance)
        self.settlements[key] = settlement
        return settlement


class FakeThreeDPrinter:
    """The :class:`terminal.ports.ThreeDPrinter` port: a printer that prints ``step``
    bytes of the started file per :meth:`status` call (``advance`` moves it by hand).

    ``unreachable`` makes every call fail as a silent server; ``power_cycle()`` forgets
    the job (the printer restarted); ``refuse_start`` refuses the start with that code;
    without ``reports_time_left`` it never says the time left (OctoPrint before its own
    analysis of the file).
    ``calls`` records (method, argument)."""

    kind = "octoprint"

    def __init__(self, step: int = 0, seconds_per_step: int = 6,
                 reports_time_left: bool = True) -> None:
        self.step = step
        self.seconds_per_step = seconds_per_step
        self.reports_time_left = reports_time_left
        self.files: dict[str, bytes] = {}
        self.state = "idle"
        self.current: str | None = None
        self.position = 0
        self.print_time_s = 0
        self.unreachable = False
        self.refuse_start: str | None = None
        self.events: list[str] = []
        self.calls: list[tuple[str, str]] = []

    def _gate(self, method: str, argument: str = "") -> None:
        self.calls.append((method, argument))
        if self.unreachable:
            raise PrinterUnreachable("fake printer not answering")

    def upload(self, path: Path, name: str) -> None:
        self._gate("upload", name)
        self.files[name] = path.read_bytes()

    def start(self, name: str) -> None:
        self._gate("start", name)
        if self.refuse_start is not None:
            raise PrinterRejected(self.refuse_start)
        if self.state in ("printing", "paused"):
            raise PrinterRejected("printer_busy")
        if name not in self.files:
            raise PrinterRejected("file_unknown", name)
        self.state, self.current, self.position, self.print_time_s = "printing", name, 0, 0

    def cancel(self) -> None:
        self._gate("cancel")
        if self.state in ("printing", "paused"):
            self.state = "cancelled"

    def advance(self, count: int) -> None:
        if self.state == "printing" and self.current is not None:
            size = len(self.files[self.current])
            self.position = min(size, self.position + count)
            self.print_time_s += self.seconds_per_step
            if self.position >= size:
                self.state = "completed"

    def power_cycle(self) -> None:
        """The printer restarted: no job, nothing selected."""
        self.state, self.current, self.position, self.print_time_s = "idle", None, 0, 0

    def status(self) -> PrintStatus:
        self._gate("status")
        if self.step:
            self.advance(self.step)
        size = len(self.files[self.current]) if self.current is not None else None
        events, self.events = tuple(self.events), []
        return PrintStatus(
            self.state, self.current, self.position if self.current else None, size,
            None if not size else self.position / size, self.print_time_s if self.current
            else None, None if not size or not self.reports_time_left
            else (size - self.position) // max(self.step, 1) * self.seconds_per_step,
            temperatures={"tool0": (210.0, 210.0), "bed": (60.0, 60.0)}, events=events)

    def remove(self, name: str) -> None:
        self._gate("remove", name)
        if name == self.current:
            if self.state in ("printing", "paused"):
                raise PrinterRejected("printer_busy", "the file is printing")
            self.current, self.position = None, 0
        self.files.pop(name, None)


@dataclass(frozen=True)
class FakeTerminalStatus:
    id: str
    name: str
    state: str
    server_time: datetime


class FakeTechnicianBackend:
    """The backend calls of the technician desk (terminal.technician.TechnicianBackend):
    ``reports`` keeps each report once per key, like the backend's idempotent audit;
    ``down`` / ``refuse`` make every call fail; ``skew_s`` sets the backend's clock
    ahead of ours; ``keys`` are the enrolment keys still valid (each works once)."""

    def __init__(self, name: str = "Kiosk", skew_s: float = 0.0,
                 keys: Sequence[str] = ()) -> None:
        self.name = name
        self.skew_s = skew_s
        self.keys = set(keys)
        self.used: set[str] = set()
        self.reports: dict[str, TechnicianReport] = {}
        self.calls: list[str] = []
        self.down = False
        self.refuse: BackendRejected | None = None

    def _gate(self, method: str) -> None:
        self.calls.append(method)
        if self.down:
            raise BackendUnavailable("fake backend down")
        if self.refuse is not None:
            raise self.refuse

    def terminal_status(self) -> FakeTerminalStatus:
        self._gate("terminal_status")
        return FakeTerminalStatus("t-1", self.name, "active",
                                  datetime.now(UTC) + timedelta(seconds=self.skew_s))

    def enrol_terminal(self, enrolment_key: str, name: str) -> tuple[str, str]:
        self._gate("enrol_terminal")
        if enrolment_key in self.used:
            raise BackendRejected("enrolment_key_used", status=409)
        if enrolment_key not in self.keys:
            raise BackendRejected("enrolment_key_invalid", status=403)
        self.keys.discard(enrolment_key)
        self.used.add(enrolment_key)
        return "t-2", f"token-for-{name}"

    def report_technician(self, report: TechnicianReport) -> None:
        self._gate("report_technician")
        self.reports.setdefault(report.key, report)


# -- the technician desk ----------------------------------------------------------------

FAKE_TECHNICIAN_SETTINGS = (
    SettingSpec("printer.queue", "Printer queue", "printer", "choice", dynamic=True),
    SettingSpec("printer.kind", "Kiosk kind", "printer", "choice", choices=("mfp", "3d")),
    SettingSpec("printer.cups_port", "CUPS port", "printer", "number",
                minimum=1, maximum=65535, step=1),
    SettingSpec("printer.snmp.enabled", "SNMP enabled", "snmp", "toggle"),
    SettingSpec("printer.snmp.host", "SNMP host", "snmp", "text"),
    SettingSpec("printer.snmp.community", "SNMP community", "snmp", "secret"),
    SettingSpec("terminal.name", "Terminal name", "terminal", "text"),
    SettingSpec("terminal.idle_timeout_s", "Idle timeout (s)", "terminal", "number",
                minimum=10, maximum=3600, step=10),
)


@dataclass
class FakeTechnicianDesk:
    """A technician desk over a dict of settings, for the kiosk's screens: ``save`` keeps
    the previous values for ``restore_previous`` and refuses what ``refuse`` names (key ->
    problem); every call is recorded in ``calls``; ``present`` plays a badged card to the
    watcher, as a reader check would."""

    values: dict[str, str] = field(default_factory=lambda: {
        "printer.queue": "kiosk", "printer.kind": "mfp", "printer.snmp.enabled": "true",
        "printer.snmp.host": "127.0.0.1", "printer.snmp.community": "set",
        "terminal.name": "Library kiosk 1", "terminal.idle_timeout_s": "60"})
    queues: list[str] = field(default_factory=lambda: ["kiosk", "annex-mfp"])
    refuse: dict[str, str] = field(default_factory=dict)
    probe: SnmpProbe = field(default_factory=lambda: SnmpProbe(
        "127.0.0.1", status="idle", counters=(("total", 1234), ("colour", 321)),
        supplies=(SupplyLevel("Black toner", 80), SupplyLevel("Cyan toner", 12, "low")),
        alerts=("Cyan toner low",)))
    logs: list[str] = field(default_factory=lambda: [f"line {n}" for n in range(250)])
    enrolment_keys: set[str] = field(default_factory=set)
    previous: dict[str, str] | None = None
    calls: list[tuple[str, object]] = field(default_factory=list)
    _watcher: Callable[[CardCheck], None] | None = None

    def settings(self) -> list[SettingValue]:
        self.calls.append(("settings", None))
        return [SettingValue(spec, self.values.get(spec.key, ""))
                for spec in FAKE_TECHNICIAN_SETTINGS]

    def choices(self, key: str) -> list[str]:
        self.calls.append(("choices", key))
        return list(self.queues) if key == "printer.queue" else []

    def save(self, technician: Technician, changes: Mapping[str, str]) -> Saved | SaveRefused:
        self.calls.append(("save", dict(changes)))
        problems = tuple(self.refuse[key] for key in changes if key in self.refuse)
        if problems:
            return SaveRefused(problems)
        self.previous = dict(self.values)
        done = tuple((key, self.values.get(key, ""), new) for key, new in changes.items())
        self.values.update(changes)
        return Saved(done)

    def can_restore(self) -> bool:
        return self.previous is not None

    def restore_previous(self, technician: Technician) -> Saved | SaveRefused:
        self.calls.append(("restore_previous", technician.username))
        if self.previous is None:
            return SaveRefused(("no previous version of the kiosk file",))
        earlier, self.previous = self.previous, dict(self.values)
        done = tuple((key, self.values.get(key, ""), value) for key, value in earlier.items()
                     if self.values.get(key) != value)
        self.values = earlier
        return Saved(done)

    def enrol(self, technician: Technician, enrolment_key: str) -> EnrolResult:
        self.calls.append(("enrol", enrolment_key))
        if enrolment_key not in self.enrolment_keys:
            return EnrolResult("enrolment_key_invalid")
        self.enrolment_keys.discard(enrolment_key)
        return EnrolResult(terminal_id="t-1")

    def watch_cards(self, on_card: Callable[[CardCheck], None]) -> Callable[[], None]:
        self.calls.append(("watch_cards", None))
        self._watcher = on_card

        def stop() -> None:
            self._watcher = None
        return stop

    def present(self, raw: str) -> None:
        """A card badged during the reader check: its number with the leading zeros cut."""
        if self._watcher is not None:
            self._watcher(CardCheck(raw, raw.lstrip("0") or "0"))

    def derive_normalisation(self, pairs: Sequence[tuple[str, str]]) -> dict[str, str] | str:
        self.calls.append(("derive_normalisation", list(pairs)))
        if all(raw.lstrip("0") == printed for raw, printed in pairs):
            return {"card_reader.strip_leading_zeros": "true"}
        return "no rule maps every card to its printed number"

    def probe_snmp(self) -> SnmpProbe:
        self.calls.append(("probe_snmp", None))
        return self.probe

    def print_test_page(self, technician: Technician) -> TestPageResult:
        self.calls.append(("print_test_page", technician.username))
        return TestPageResult(job_id=7, queue=self.values["printer.queue"])

    def check_backend(self) -> BackendCheck:
        self.calls.append(("check_backend", None))
        return BackendCheck("http://127.0.0.1:8470", True, latency_ms=3.2, clock_skew_s=0.4,
                            token_valid=True, terminal_name="Library kiosk 1")

    def outbox_status(self) -> OutboxStatus:
        self.calls.append(("outbox_status", None))
        return OutboxStatus(2, oldest_at=T0)

    def drain_now(self) -> OutboxStatus:
        self.calls.append(("drain_now", None))
        return OutboxStatus(0, last_drain_at=T0)

    def log_lines(self, limit: int = 200) -> list[str]:
        return self.logs[-limit:]

    def reboot(self, technician: Technician) -> str | None:
        self.calls.append(("reboot", technician.username))
        return "reboot_unavailable"
