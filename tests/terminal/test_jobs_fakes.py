"""In-memory fakes of the job and release ports, recording what they were asked.

Shared by test_jobs.py and test_release.py (unit tests of the layer above the ports);
the real adapters are tested against cupsd, the backend and the SNMP agent.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

from analysis import (
    DocumentAnalysis,
    ImpressionColour,
    PageAnalysis,
    PageColour,
    paper_size,
)
from terminal.ports import BackendRejected, Balance

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
    """Held jobs per user; ``script[job_id]`` is the progress seen after release."""

    def __init__(self, jobs: Sequence[FakeHeldJob]) -> None:
        self.jobs = {job.job_id: job for job in jobs}
        self.script: dict[int, list[FakeProgress]] = {}
        self.problem: str | None = None
        self.calls: list[tuple[object, ...]] = []
        self.fail_release = False

    def held_jobs(self, username: str) -> list[FakeHeldJob]:
        self.calls.append(("held_jobs", username))
        return [job for job in self.jobs.values() if job.username == username]

    def set_options(self, job_id: int, *, colour: bool, duplex: bool) -> None:
        self.calls.append(("set_options", job_id, colour, duplex))
        self.jobs[job_id] = replace(self.jobs[job_id], colour=colour, duplex=duplex)

    def release(self, job_id: int) -> None:
        self.calls.append(("release", job_id))
        if self.fail_release:
            raise RuntimeError("the print server said no")
        del self.jobs[job_id]

    def cancel(self, job_id: int) -> None:
        self.calls.append(("cancel", job_id))
        self.jobs.pop(job_id, None)

    def progress(self, job_id: int) -> FakeProgress:
        steps = self.script.setdefault(job_id, [FakeProgress("completed", 0)])
        return steps.pop(0) if len(steps) > 1 else steps[0]

    def printer_problem(self) -> str | None:
        self.calls.append(("printer_problem",))
        return self.problem


class FakePricer:
    """0.05 a mono and 0.20 a colour side, plus 0.01 of paper a sheet."""

    currency = "EUR"
    notice = None

    def __init__(self) -> None:
        self.unit = {ImpressionColour.MONO: Decimal("0.05"),
                     ImpressionColour.COLOUR: Decimal("0.20")}
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
        total += Decimal("0.01") * sheets
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


@dataclass(frozen=True)
class FakeSettlement:
    amount: Decimal
    balance: Balance | None


class FakeCharges:
    """The charge book: grants what ``available`` allows and records every call.

    With ``offline`` set, settlements come back unconfirmed (no balance), as the real
    book answers while the backend is away and the step waits in the outbox.
    """

    def __init__(self, available: str = "10.00") -> None:
        self.available = Decimal(available)
        self.holds: dict[str, Decimal] = {}
        self.refs: dict[str, str] = {}
        self.calls: list[tuple[object, ...]] = []
        self.billing_codes: list[str | None] = []  # the code each authorise carried
        self.offline = False

    def balance(self, username: str) -> Balance:
        held = sum(self.holds.values(), Decimal("0"))
        return Balance("EUR", self.available, Decimal("0.00"), held, self.available - held)

    def authorise(
        self, username: str, amount: Decimal, description: str, job_ref: str,
        billing_code: str | None = None,
    ) -> FakeAuthorisation:
        self.calls.append(("authorise", username, amount, job_ref))
        self.billing_codes.append(billing_code)
        if amount > self.balance(username).available:
            raise BackendRejected("insufficient_funds")
        key = f"hold-{len(self.calls)}"
        self.holds[key] = amount
        self.refs[key] = job_ref
        return FakeAuthorisation(key, amount, self.balance(username), job_ref)

    def unsettled(self) -> list[FakeAuthorisation]:
        return [FakeAuthorisation(key, amount, None, self.refs[key])
                for key, amount in self.holds.items()]

    def capture(
        self, authorisation_key: str, amount: Decimal, pages: int, colour_pages: int
    ) -> FakeSettlement:
        self.calls.append(("capture", authorisation_key, amount, pages, colour_pages))
        self.holds.pop(authorisation_key)
        self.available -= amount
        return FakeSettlement(amount, None if self.offline else self.balance("alice"))

    def void(self, authorisation_key: str, reason: str) -> FakeSettlement:
        self.calls.append(("void", authorisation_key, reason))
        self.holds.pop(authorisation_key)
        return FakeSettlement(Decimal("0"), None if self.offline else self.balance("alice"))


class FakeMonitor:
    """A page counter; before each read it moves by the next of ``increments``."""

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
