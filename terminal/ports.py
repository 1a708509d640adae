"""The roles the terminal core talks to, as Protocols.

The core never imports a driver or an HTTP library's types: an adapter satisfies one of
these structurally, and :mod:`terminal.wiring` is the only place that picks adapters.
That keeps the session logic testable with the in-memory fakes of ``terminal.fakes``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any, NamedTuple, Protocol

from analysis import ImpressionColour
from terminal.receipts import Receipt
from terminal.technician_types import TechnicianReport


@dataclass(frozen=True)
class Balance:
    """What the user may spend, as the backend sees it (amounts in the account currency)."""

    currency: str
    virtual_credit: Decimal
    personal_credit: Decimal
    held: Decimal
    available: Decimal


@dataclass(frozen=True)
class Identity:
    """A user the backend recognised, with the balance at the moment of identification."""

    username: str
    display_name: str
    language: str
    balance: Balance
    # the backend roles of the account (``technician`` opens technician mode, never a
    # user session that could charge); empty for an ordinary user
    roles: tuple[str, ...] = ()


class BackendError(Exception):
    """Base of the errors a :class:`Backend` raises; ``code`` is a stable translatable key."""

    code = "backend_error"


class BackendUnavailable(BackendError):
    """The backend could not be reached or failed (timeouts, connection errors, 5xx)."""

    code = "backend_unavailable"


class BackendRejected(BackendError):
    """The backend answered and said no (4xx); ``code`` is its problem code.

    ``status`` is the HTTP status when there was one: the outbox must tell "this
    request is refused for good" (409 insufficient funds) from "this terminal may not
    talk now" (401, 429), after which the request must be kept and sent again.
    """

    def __init__(self, code: str, detail: str = "", status: int | None = None,
                 problem: Mapping[str, Any] | None = None) -> None:
        super().__init__(f"{code}: {detail}" if detail else code)
        self.code = code
        self.detail = detail
        self.status = status
        # the whole problem document: some refusals carry facts of their own as extra
        # members (a voucher's ``redeemed_at``, a rate limit's ``retry_after_s``)
        self.problem: Mapping[str, Any] = problem or {}

    @property
    def final(self) -> bool:
        """True when sending the same request again can never succeed."""
        return self.status not in RETRYABLE_REFUSALS and self.code not in RETRYABLE_CODES


# Refusals about the terminal or the moment, not about the request: keep and resend.
RETRYABLE_REFUSALS = frozenset({401, 408, 425, 429})
RETRYABLE_CODES = frozenset({"terminal_unauthorized", "terminal_revoked"})


class Backend(Protocol):
    """The accounting backend, as the terminal needs it."""

    def identify_card(self, card_number: str) -> Identity: ...

    def identify_pin(self, username: str, pin: str) -> Identity: ...

    def enrol_card(self, card_number: str, username: str, pin: str) -> Identity:
        """Link an unknown card to the user who proves who they are with username + PIN."""
        ...


@dataclass(frozen=True)
class BillingCode:
    """A code a user may charge a job to: a client, or a project of a client.

    ``client`` and ``client_name`` are None for a client itself (two levels only).
    ``payer`` says who pays a job charged to it: ``"user"`` (the user's own balance, the
    code only recorded) or ``"code"`` (the code's client; the user's balance untouched).
    """

    code: str
    name: str
    client: str | None = None
    client_name: str | None = None
    payer: str = "user"

    @property
    def path(self) -> tuple[str, ...]:
        """The hierarchy from the client down, as names: ("ACME Corp", "Website redesign")."""
        return (self.client_name or self.client or "", self.name) if self.client else (self.name,)


class DemoCard(NamedTuple):
    """A demo user as the demo idle screen lists them: the card to type, and for the
    username + PIN login, the username and PIN (empty when there is none to show)."""

    number: str
    name: str
    username: str = ""
    pin: str = ""


class BillingCodeDirectory(Protocol):
    """The billing codes a user may charge to (the backend's picker endpoints)."""

    def search_billing_codes(
        self, username: str, prefix: str, limit: int = 20
    ) -> list[BillingCode]:
        """Codes whose code or name starts with ``prefix`` (case-insensitive)."""
        ...

    def recent_billing_codes(self, username: str, limit: int = 5) -> list[BillingCode]:
        """The codes the user charged to most recently, newest first."""
        ...


class CardReader(Protocol):
    """A source of card numbers; calls ``on_card`` from its own thread for every read."""

    def start(self, on_card: Callable[[str], None]) -> None: ...

    def stop(self) -> None: ...


class CodeScanner(Protocol):
    """A 2D barcode scanner (a voucher card's QR); calls ``on_code`` from its own thread
    with the text of every scan."""

    def start(self, on_code: Callable[[str], None]) -> None: ...

    def stop(self) -> None: ...


@dataclass(frozen=True)
class HoldAnswer:
    """A hold the backend granted or settled; ``balance`` already shows its effect."""

    hold_id: str
    status: str
    amount: Decimal
    captured: Decimal | None
    released: Decimal | None
    balance: Balance


@dataclass(frozen=True)
class VoucherCredit:
    """A voucher redeemed: what it was worth, what was credited, the balance after."""

    batch: str
    serial: int
    value: Decimal
    currency: str
    expires_on: date
    credited: Decimal
    balance: Balance
    transaction_id: int


@dataclass(frozen=True)
class VoucherRefusal:
    """A redemption refused, as a stable key (``voucher_redeemed``...) and its facts.

    ``redeemed_at``, ``expires_on`` and ``retry_after_s`` are set for the refusals that
    have them (already redeemed, expired, too many attempts), so the kiosk can say when.
    """

    code: str
    redeemed_at: datetime | None = None
    expires_on: date | None = None
    retry_after_s: int | None = None


Redemption = VoucherCredit | VoucherRefusal


@dataclass(frozen=True)
class TopUpOptions:
    """What a top-up may be here: the backend's configured limits and presets."""

    gateway: str
    currency: str
    minimum: Decimal
    maximum: Decimal
    presets: tuple[Decimal, ...]
    expires_after_s: int


@dataclass(frozen=True)
class TopUp:
    """One top-up as the backend last told it: ``qr_payload`` is what the kiosk shows as
    the QR code (the pay URL, or a bank transfer's EPC payload); ``pay_url`` is None when
    there is no page to pay on (a bank transfer); ``balance`` is set once it is paid."""

    topup_id: str
    status: str  # pending | paid | expired | failed | cancelled | refunded | mismatch
    amount: Decimal
    currency: str
    short_code: str
    qr_payload: str
    pay_url: str | None
    expires_at: datetime
    balance: Balance | None = None

    @property
    def pending(self) -> bool:
        return self.status == "pending"


@dataclass(frozen=True)
class TopUpRefusal:
    """A top-up refused or impossible, as a stable key (``topup_amount``,
    ``topup_unavailable``, ``topup_offline``...); the limits when the amount was wrong."""

    code: str
    minimum: Decimal | None = None
    maximum: Decimal | None = None


class Ledger(Protocol):
    """The backend's money-moving calls; every one carries the caller's idempotency key.

    A key is made when the write is *recorded* (in the outbox), never when it is sent,
    so a resend after a crash or a lost answer is the same request and moves money once.
    """

    def balance(self, username: str) -> Balance: ...

    def session_of(self, username: str) -> str | None:
        """The backend session the user's identification opened here, if any: journalled
        with a hold, so a hold sent later still proves the user was at this kiosk (a
        hold without one is accepted only within the terminal's offline limit)."""
        ...

    def hold(
        self, key: str, username: str, amount: Decimal, description: str, job_ref: str,
        billing_code: str | None = None, session: str | None = None,
    ) -> HoldAnswer: ...

    def capture(
        self, key: str, hold_id: str, amount: Decimal, pages: int, colour_pages: int
    ) -> HoldAnswer: ...

    def void(self, key: str, hold_id: str, reason: str) -> HoldAnswer: ...

    def refund(self, key: str, hold_id: str, amount: Decimal | None, reason: str) -> Balance: ...

    def send_events(self, events: Sequence[Mapping[str, object]]) -> int:
        """Store a batch; return how many were new (the rest were resends)."""
        ...

    def redeem_voucher(self, username: str, code: str, key: str) -> Redemption:
        """Redeem ``code`` (as typed or scanned) for the user's session here. A refusal
        of the voucher is an answer, not an error; :class:`BackendUnavailable` when the
        backend cannot say (never queued: a voucher needs the backend's answer)."""
        ...

    def topup_options(self, username: str) -> TopUpOptions:
        """The amounts a top-up may have for the user's session here."""
        ...

    def create_topup(self, username: str, amount: Decimal, key: str) -> TopUp | TopUpRefusal:
        """Start a top-up (pending); a resend with the same key gets the same top-up.
        A refused amount or an unavailable gateway is an answer, not an error."""
        ...

    def wait_topup(self, username: str, topup_id: str, wait_s: float) -> TopUp:
        """The top-up's state, at once when it is no longer pending, else when it
        changes, else after ``wait_s`` (a long-poll: the caller's thread is held)."""
        ...

    def cancel_topup(self, username: str, topup_id: str) -> TopUp:
        """Cancel a pending top-up; one already paid stays paid (the answer says so)."""
        ...


class TechnicianAudit(Protocol):
    """The backend's audit log of technician actions (``POST /technician/reports``)."""

    def report_technician(self, report: TechnicianReport) -> None:
        """Store the report once per ``report.key``; raises BackendUnavailable /
        BackendRejected like the ledger's calls (a 4xx is final)."""
        ...


class Supply(Protocol):
    """One consumable as the printer reports it (toner, drum, waste box, paper tray)."""

    @property
    def name(self) -> str: ...

    @property
    def level_percent(self) -> int | None: ...


class PrinterAlert(Protocol):
    """One active alert of the printer (paper jam, toner low, cover open...)."""

    @property
    def code(self) -> str: ...

    @property
    def severity(self) -> str: ...

    @property
    def description(self) -> str: ...


class EventJournal(Protocol):
    """Where reports are journalled (``terminal.charges.ChargeBook.record_event``)."""

    def record_event(self, kind: str, payload: dict[str, Any]) -> object: ...


class PrinterMonitor(Protocol):
    """The printer's own view of itself (SNMP): counters, supplies and active alerts.

    The SNMP adapter (``terminal.adapters.SnmpPrinter``) returns the driver's figures
    in small types of its own that only need these attributes; every failure to read
    the printer is a :class:`PrinterUnreadable`.
    """

    def counters(self) -> Mapping[str, int]: ...

    def supplies(self) -> Sequence[Supply]: ...

    def alerts(self) -> Sequence[PrinterAlert]: ...

    def serial(self) -> str | None:
        """The printer's serial number if it says (the backend tells a replaced printer
        from a reset counter by it), else None."""
        ...


# -- the print server and the printer, as the release needs them ------------------------


class HeldPrintJob(Protocol):
    """One job waiting in the hold queue, as the print server describes it."""

    @property
    def job_id(self) -> int: ...
    @property
    def name(self) -> str: ...
    @property
    def username(self) -> str: ...
    @property
    def submitted_at(self) -> datetime: ...
    @property
    def copies(self) -> int: ...
    @property
    def colour(self) -> bool: ...
    @property
    def duplex(self) -> bool: ...
    @property
    def number_up(self) -> int: ...
    @property
    def pages(self) -> int | None: ...
    @property
    def document(self) -> Path | None: ...
    @property
    def uuid(self) -> str: ...


class JobProgress(Protocol):
    """Where a released job is: IPP job-state keyword and impressions printed so far."""

    @property
    def state(self) -> str: ...
    @property
    def impressions_completed(self) -> int: ...


class PrintServerError(Exception):
    """The print server failed a request (unreachable, job unknown, refused).

    The hold-queue adapter raises it in place of its driver's errors, chained, so the
    core never catches a driver's exception. ``code`` is a stable key.
    """

    code = "print_server_error"


class PrinterRefused(PrintServerError):
    """The printer cannot take a job now (``code``: ``printer_jammed``...); it stays held."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


class HoldQueue(Protocol):
    """The print server's hold queue, as the terminal needs it (role, not technology).

    ``printer_problem`` answers ``None`` when the printer can take a job, else a stable
    reason key (``printer_stopped``, ``printer_jammed``, ``toner_empty``...) shown to the
    user; the job then stays held. ``release`` raises :class:`PrinterRefused` when the
    printer turns out not to be ready after all (the job stays held). Every other failure
    of the print server is a :class:`PrintServerError`.
    """

    def held_jobs(self, username: str) -> Sequence[HeldPrintJob]: ...

    def set_options(self, job_id: int, *, colour: bool, duplex: bool) -> None: ...

    def release(self, job_id: int) -> None: ...

    def cancel(self, job_id: int) -> None: ...

    def progress(self, job_id: int) -> JobProgress: ...

    def printer_problem(self) -> str | None: ...


class SpoolPurge(Protocol):
    """The part of the print server that forgets stale held jobs, documents included."""

    def purge_older_than(self, max_age: timedelta) -> Sequence[int]:
        """Cancel and purge the waiting jobs older than ``max_age``; return their ids.
        Raises :class:`PrintServerError`."""
        ...


class ReceiptPrinter(Protocol):
    """The kiosk's receipt printer ([receipt] in the kiosk file), when it has one.

    ``print_receipt`` blocks until the printer took the whole receipt (call it off the UI
    thread) and raises :class:`~terminal.receipts.ReceiptPrinterError` when it cannot.
    """

    def print_receipt(self, receipt: Receipt) -> None: ...


class PrinterUnreadable(Exception):
    """The printer's counter could not be read now (SNMP timeout, no counter)."""


class PageCounter(Protocol):
    """The printer itself over SNMP, as the release needs it: its lifetime page counter
    (raises :class:`PrinterUnreadable`) and any problem that blocks printing."""

    def page_count(self) -> int: ...

    def printer_problem(self) -> str | None: ...


# -- the charge book, as the release needs it -------------------------------------------


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
    """A hold journalled but never captured or voided (the kiosk stopped mid-release).

    ``impressions`` is what the job was held for (None in a journal older than that
    field): a restart charges a part printed in proportion to it.
    """

    @property
    def key(self) -> str: ...
    @property
    def amount(self) -> Decimal: ...
    @property
    def job_ref(self) -> str: ...
    @property
    def impressions(self) -> int | None: ...


class Charges(Protocol):
    """Authorise, capture, void through the outbox (``terminal.charges.ChargeBook``).

    ``authorise`` raises :class:`BackendRejected` when refused (``insufficient_funds``,
    or an offline refusal code); ``capture`` and ``void`` raise :class:`BackendError`
    when the backend refuses the settlement for good.
    """

    def unsettled(self) -> Sequence[Unsettled]: ...

    def authorise(
        self, username: str, amount: Decimal, description: str, job_ref: str,
        billing_code: str | None = None, impressions: int | None = None,
    ) -> Authorised: ...

    def capture(
        self, authorisation_key: str, amount: Decimal, pages: int, colour_pages: int
    ) -> Settled: ...

    def void(self, authorisation_key: str, reason: str) -> Settled: ...


# -- the spool agent's print server and backend ------------------------------------------


class SpooledJob(Protocol):
    """A job waiting on the print server, as the hold queue describes it."""

    @property
    def uuid(self) -> str: ...
    @property
    def name(self) -> str: ...
    @property
    def username(self) -> str: ...
    @property
    def queue(self) -> str: ...
    @property
    def pages(self) -> int | None: ...
    @property
    def document(self) -> Path | None: ...


class SpoolQueueUnavailable(Exception):
    """The print server could not be asked for its jobs (down, refused, timed out)."""


class SpoolQueue(Protocol):
    def waiting_jobs(self) -> Sequence[SpooledJob]:
        """Every job held on the watched queues; raise SpoolQueueUnavailable if unknown."""
        ...


class AnalysisReporter(Protocol):
    def report(self, body: Mapping[str, Any]) -> None:
        """Send one report; BackendUnavailable to retry later, BackendRejected if refused."""
        ...

    def close(self) -> None: ...


# -- prices: a session's price list (terminal.jobs's adapters satisfy these) ------------

SideCounts = Mapping[tuple[ImpressionColour, str], int]


class PriceUnavailable(Exception):
    """The price list has no rate for this (e.g. no A3 colour rate): not guessed."""

    code = "price_unavailable"


class PricingUnavailable(PriceUnavailable):
    """No price list at all for this user: the backend cannot say, the kiosk has no
    cached list for them and no local list. Nothing is listed rather than guessed."""

    code = "pricing_unavailable"


class Pricer(Protocol):
    """The prices of one session: a price list and the user's volume, rounded once.

    ``sides`` are the impressions of one copy by (colour, paper size name); per-sheet
    price lists need the copies apart to count sheets. Raises :class:`PriceUnavailable`.
    ``notice`` is None, or a stable key saying why these prices may differ from the
    backend's (``offline_prices_from_site_list``).
    """

    @property
    def currency(self) -> str: ...

    @property
    def notice(self) -> str | None: ...

    def price(self, sides: SideCounts, copies: int, duplex: bool) -> Decimal: ...


class Pricing(Protocol):
    """Where a session's :class:`Pricer` comes from.

    ``prepare`` is asked once per listing of a user's jobs and returns a pricer of that
    user's own: the job list and the release of that list price with it, so another
    user's listing at the same kiosk can never swap the prices under a running release.
    Raises :class:`PricingUnavailable` when the user's jobs cannot be priced at all.
    """

    def prepare(self, username: str) -> Pricer: ...


Volume = tuple[int, int]  # (mono, colour) sides captured this accounting period


class UserPriceLists(Protocol):
    """Where a user's price list comes from: its TOML text and the user's period volume
    (mono, colour sides), or None for the volume when the source does not know it."""

    def user_price_list(self, username: str) -> tuple[str, Volume | None]: ...


class PriceListCache(Protocol):
    """The last list and volume the backend gave for a user (``terminal.offline``'s
    cache entry of that user), so that offline prices are the user's own."""

    def remember_prices(self, username: str, toml: str, volume: Volume | None) -> None: ...

    def find_prices(self, username: str) -> tuple[str, Volume | None] | None: ...


# --- 3D printing -------------------------------------------------------------------------


@dataclass(frozen=True)
class Print3DFlag:
    """Why a 3D job should not go to this printer as it is, as a stable translatable key
    (``printer_model_mismatch``, ``material_not_loaded``, ``figures_disagree``) with the
    two facts the sentence needs: what the group expects and what the file says."""

    code: str
    expected: str
    found: str
    blocks_release: bool


@dataclass(frozen=True)
class Print3DJob:
    """One uploaded 3D job, analysed and priced by the backend for a user and a printer
    group. ``grams``/``minutes`` are the figures the price uses; ``grams_source`` and
    ``time_source`` say whose they are (``ours`` or ``slicer``). ``hold_amount`` is what
    the kiosk holds before release: the price plus the backend's margin on time."""

    job_id: int
    name: str
    username: str
    status: str  # ready | printing | completed | cancelled | failed
    material: str | None
    grams: Decimal
    metres: Decimal
    minutes: int
    grams_source: str
    time_source: str
    price: Decimal
    hold_amount: Decimal
    currency: str
    flags: tuple[Print3DFlag, ...]
    uploaded_at: datetime

    @property
    def releasable(self) -> bool:
        return self.status == "ready" and not any(f.blocks_release for f in self.flags)


@dataclass(frozen=True)
class Print3DSettlement:
    """What the backend charged for a 3D print that ended: the outcome the kiosk saw,
    the policy applied (``full``, ``charge_printed``, ``refund``, ``setup_only``), the
    grams and minutes charged for, the amount, and the balance after."""

    job_id: int
    outcome: str  # completed | cancelled | failed | not_started
    policy: str
    grams: Decimal
    minutes: int
    charged: Decimal
    balance: Balance | None


class Print3DJobs(Protocol):
    """The backend's 3D job store, seen from a 3D kiosk. Listing, claiming and fetching
    are online calls (a 3D job and its file live on the backend); ``settle_print3d`` moves
    money, so the kiosk journals it in its outbox first and sends it from there. Raise
    :class:`BackendUnavailable` when it cannot be reached and :class:`BackendRejected`
    when it refuses."""

    def print3d_jobs(self, username: str, group: str) -> Sequence[Print3DJob]:
        """The user's jobs for ``group`` that are ready or printing, newest first."""
        ...

    def claim_print3d(self, job_id: int, hold_id: str) -> Print3DJob:
        """Mark the job as printing under ``hold_id`` (a hold of this terminal for its
        owner); a resend with the same hold is the same claim."""
        ...

    def download_print3d(self, job_id: int, destination: Path) -> Path:
        """Write the job's text G-code (a bgcode upload is decoded by the backend) to
        ``destination``, atomically; return it."""
        ...

    def settle_print3d(
        self, key: str, hold_id: str, job_id: int, outcome: str,
        file_position: int | None, print_time_s: int | None,
        printer_filament_mm: Decimal | None,
    ) -> Print3DSettlement:
        """Settle a 3D job's hold once its print ended (``completed``, ``cancelled``,
        ``failed``) or never started (``not_started``): the backend measures the filament
        up to ``file_position`` in its own copy of the file, prices it with the time, and
        applies its policy (capture, partial capture, void). Same key, same answer."""
        ...


@dataclass(frozen=True)
class PrintStatus:
    """The 3D printer's state as its server reports it.

    ``state``: ``idle`` (ready, no job), ``printing``, ``paused``, ``completed``,
    ``cancelled``, ``failed`` (the last job ended in an error) or ``offline`` (the server
    answers but the printer is disconnected). ``file_position`` is the byte offset the
    printer has read up to in ``file_name``; ``filament_mm`` is the printer's own count
    of extruded filament when it keeps one (Moonraker), else None. ``events`` are the
    noteworthy events seen since the previous status (``filament_runout``,
    ``filament_change``), oldest first."""

    state: str
    file_name: str | None = None
    file_position: int | None = None
    file_size: int | None = None
    progress: float | None = None  # 0..1
    print_time_s: int | None = None
    time_left_s: int | None = None
    filament_mm: Decimal | None = None
    temperatures: Mapping[str, tuple[float, float | None]] = field(default_factory=dict)
    events: tuple[str, ...] = ()
    message: str = ""


class PrinterUnreachable(Exception):
    """The 3D printer's server (OctoPrint, Moonraker) did not answer; ``str()`` says
    what was tried, for the log. A print in progress may still be running."""


class PrinterRejected(Exception):
    """The 3D printer's server refused a request (busy, file refused, not ready), with a
    stable translatable key in ``code`` and the server's words in ``detail``."""

    def __init__(self, code: str, detail: str = "") -> None:
        super().__init__(f"{code}: {detail}" if detail else code)
        self.code = code
        self.detail = detail


class ThreeDPrinter(Protocol):
    """A 3D printer behind its server (OctoPrint or Moonraker), one job at a time.

    Every call raises :class:`PrinterUnreachable` or :class:`PrinterRejected`."""

    @property
    def kind(self) -> str:
        """``octoprint`` or ``moonraker``: which server, for the log and the screens."""
        ...

    def upload(self, path: Path, name: str) -> None:
        """Store the G-code file on the printer's server as ``name`` (replacing one)."""
        ...

    def start(self, name: str) -> None:
        """Start printing ``name``; refused (``printer_busy``, ``printer_not_ready``)
        unless the printer is idle or has just finished and is ready."""
        ...

    def cancel(self) -> None: ...

    def status(self) -> PrintStatus: ...

    def remove(self, name: str) -> None:
        """Delete ``name`` from the server (a missing file is not an error)."""
        ...
