"""A user's held print jobs with a price each: what the kiosk's home screen lists.

The print server holds the jobs (:class:`HoldQueue`, satisfied by drivers.cups's
``CupsHoldQueue`` through :mod:`terminal.wiring`); the document analysis says how many
pages print in colour and on what paper; the :class:`Pricer` (billing's price list) turns
that into money. Everything here runs on the kiosk itself, so a user sees estimates even
when the backend is unreachable: only the price list is fetched ahead of time.

Each job also gets its *alternatives* — the same job switched to mono, to duplex, or
both — priced the same way, so the screen can show the new price and the saving before
the user changes anything. Analysis is slow (a child process per document), so results
are kept per job id: switching a job to mono re-prices it without re-reading the file.
"""

from __future__ import annotations

import logging
import threading
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import datetime
from decimal import Decimal
from pathlib import Path

from analysis import (
    BillableUsage,
    DocumentAnalysis,
    DocumentAnalysisError,
    ImpressionColour,
    Sides,
    billable_usage,
)
from billing import (
    Colour,
    MediaSize,
    PaperJob,
    PeriodVolume,
    PriceList,
    PricingError,
    load_price_list,
    price,
)
from billing import ConfigError as PriceListError
from terminal.ports import (
    BackendError,
    BackendRejected,
    BackendUnavailable,
    HeldPrintJob,
    HoldQueue,
    PriceListCache,
    Pricer,
    PriceUnavailable,
    Pricing,
    PricingUnavailable,
    SideCounts,
    UserPriceLists,
    Volume,
)

_log = logging.getLogger(__name__)


# Why a job list's prices may differ from what the backend would charge (a stable key the
# kiosk translates): offline, for a user whose own list this kiosk has never seen.
OFFLINE_PRICES_FROM_SITE_LIST = "offline_prices_from_site_list"


# analyse(document or None when unreachable, pages the server reported) -> analysis;
# wiring passes the isolated analysis with the configured fallback rule.
Analyse = Callable[[Path | None, int | None], DocumentAnalysis]


@dataclass(frozen=True)
class JobOptions:
    """The two things a user may change before release."""

    colour: bool
    duplex: bool


@dataclass(frozen=True)
class Alternative:
    """The same job with other options: its price and what it saves against the current."""

    options: JobOptions
    amount: Decimal
    saving: Decimal


@dataclass(frozen=True)
class JobQuote:
    """A held job priced for the screen; ``estimated`` when the fallback rule was used."""

    job_id: int
    name: str
    submitted_at: datetime
    copies: int
    options: JobOptions
    impressions: int
    colour_impressions: int
    sheets: int
    amount: Decimal
    currency: str
    alternatives: tuple[Alternative, ...]
    # The session's prices this quote was made with: its release re-prices a partial
    # print with them, whoever has listed jobs at the kiosk since.
    pricer: Pricer = field(compare=False, repr=False)
    estimated: bool = False

    @property
    def job_ref(self) -> str:
        """How the backend's ledger names this job (hold ``job_ref``)."""
        return f"cups-{self.job_id}"


@dataclass(frozen=True)
class JobList:
    """Everything the home screen shows about a user's jobs."""

    username: str
    currency: str
    jobs: tuple[JobQuote, ...]
    # None, or a stable key saying why the prices may differ from the backend's
    notice: str | None = None

    @property
    def total(self) -> Decimal:
        return sum((job.amount for job in self.jobs), Decimal("0"))

    def find(self, job_id: int) -> JobQuote:
        for job in self.jobs:
            if job.job_id == job_id:
                return job
        raise KeyError(f"job {job_id} is not among {self.username}'s held jobs")


class TechnicianSession(Exception):
    """Asked for the jobs of someone in technician mode: a technician session lists
    nothing, releases nothing and is never charged."""

    code = "technician_session"


class JobNotFound(Exception):
    """The job is not (or no longer) held for this user."""

    code = "job_gone"


def usage_for(
    analysis: DocumentAnalysis, options: JobOptions, copies: int, number_up: int
) -> BillableUsage:
    """Impressions and sheets of a whole job with the given options."""
    sides = Sides.TWO_SIDED_LONG_EDGE if options.duplex else Sides.ONE_SIDED
    usage = billable_usage(analysis, copies=copies, number_up=number_up, sides=sides)
    return usage if options.colour else as_mono(usage)


def as_mono(usage: BillableUsage) -> BillableUsage:
    """The same impressions all billed as mono: what a job forced to greyscale prints."""
    impressions: Counter[tuple[ImpressionColour, str]] = Counter()
    for (_colour, size), count in usage.impressions.items():
        impressions[(ImpressionColour.MONO, size)] += count
    return BillableUsage(dict(impressions), dict(usage.sheets))


@dataclass
class _Analysed:
    job: HeldPrintJob
    analysis: DocumentAnalysis


@dataclass
class JobService:
    """Lists, re-prices, changes and deletes one user's held jobs."""

    queue: HoldQueue
    pricer: Pricing
    analyse: Analyse
    parallel_analyses: int = 2
    # The print server's own analysis (job uuid -> analysis, None when it has none yet),
    # for jobs whose spool file this kiosk cannot read.
    reported: Callable[[str], DocumentAnalysis | None] | None = None
    # whether a username is in technician mode here (the session's is_technician):
    # every call for them is refused with TechnicianSession
    technician: Callable[[str], bool] | None = None
    _cache: dict[int, DocumentAnalysis] = field(default_factory=dict, init=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False)

    def refuse_technician(self, username: str) -> None:
        """Raise :class:`TechnicianSession` when ``username`` is in technician mode."""
        if self.technician is not None and self.technician(username):
            raise TechnicianSession(f"{username} is in technician mode: no jobs, no charge")

    def list_jobs(self, username: str) -> JobList:
        """The user's held jobs, oldest first, priced with a pricer of this listing's own.

        Raises :class:`PricingUnavailable` when there is no price list for the user."""
        self.refuse_technician(username)
        prices = self.pricer.prepare(username)
        held = sorted(self.queue.held_jobs(username), key=lambda job: job.submitted_at)
        if len(held) > 1 and self.parallel_analyses > 1:
            # each analysis is a child process: two at a time halve a first listing
            with ThreadPoolExecutor(self.parallel_analyses, "analysis") as pool:
                analysed = list(pool.map(self._analysed, held))
        else:
            analysed = [self._analysed(job) for job in held]
        quotes = tuple(self._quote(found, prices) for found in analysed)
        with self._lock:  # forget jobs that left the queue: memory stays bounded
            live = {job.job_id for job in held}
            for job_id in [known for known in self._cache if known not in live]:
                del self._cache[job_id]
        return JobList(username, prices.currency, quotes, prices.notice)

    def change_options(self, username: str, job_id: int, options: JobOptions) -> JobList:
        """Apply mono/duplex at the print server, then list again with the new prices."""
        self.refuse_technician(username)
        self._held(username, job_id)
        self.queue.set_options(job_id, colour=options.colour, duplex=options.duplex)
        return self.list_jobs(username)

    def delete(self, username: str, job_id: int) -> JobList:
        self.refuse_technician(username)
        self._held(username, job_id)
        self.queue.cancel(job_id)
        return self.list_jobs(username)

    def analysis_of(self, username: str, job_id: int) -> tuple[HeldPrintJob, DocumentAnalysis]:
        """The job and its (cached) analysis: the release workflow prices partial prints."""
        self.refuse_technician(username)
        found = self._analysed(self._held(username, job_id))
        return found.job, found.analysis

    def _held(self, username: str, job_id: int) -> HeldPrintJob:
        for job in self.queue.held_jobs(username):
            if job.job_id == job_id:
                return job
        raise JobNotFound(f"job {job_id} is not held for {username}")

    def _analysed(self, job: HeldPrintJob) -> _Analysed:
        with self._lock:
            analysis = self._cache.get(job.job_id)
        if analysis is None:
            analysis = self._reported(job) if job.document is None else None
            if analysis is None:
                analysis = self.analyse(job.document, job.pages)
            if job.document is not None or not analysis.estimated:
                # a fallback for an unreachable file is not kept: the print server's
                # report may arrive before the next listing
                with self._lock:
                    self._cache[job.job_id] = analysis
        return _Analysed(job, analysis)

    def _reported(self, job: HeldPrintJob) -> DocumentAnalysis | None:
        if self.reported is None or not job.uuid:
            return None
        try:
            return self.reported(job.uuid)
        except (BackendError, DocumentAnalysisError) as exc:
            _log.info("no reported analysis for job %s: %s", job.job_id, exc)
            return None

    def _quote(self, found: _Analysed, prices: Pricer) -> JobQuote:
        job, analysis = found.job, found.analysis
        current = JobOptions(colour=job.colour, duplex=job.duplex)
        usage = usage_for(analysis, current, job.copies, job.number_up)
        amount = _price(prices, analysis, job, current)
        alternatives = []
        for options in _other_options(current):
            try:
                other = _price(prices, analysis, job, options)
            except PriceUnavailable:
                continue  # not offered rather than guessed
            alternatives.append(Alternative(options, other, amount - other))
        return JobQuote(
            job_id=job.job_id,
            name=job.name,
            submitted_at=job.submitted_at,
            copies=job.copies,
            options=current,
            impressions=usage.total_impressions(),
            colour_impressions=usage.total_impressions(ImpressionColour.COLOUR),
            sheets=usage.total_sheets(),
            amount=amount,
            currency=prices.currency,
            alternatives=tuple(alternatives),
            pricer=prices,
            estimated=analysis.estimated,
        )


def _price(prices: Pricer, analysis: DocumentAnalysis, job: HeldPrintJob,
           options: JobOptions) -> Decimal:
    per_copy = usage_for(analysis, options, 1, job.number_up)
    return prices.price(per_copy.impressions, job.copies, options.duplex)


def _other_options(current: JobOptions) -> list[JobOptions]:
    """Every other combination of colour and duplex (the screen shows the saving of each)."""
    combos = [JobOptions(colour, duplex) for colour in (True, False) for duplex in (False, True)]
    return [options for options in combos if options != current]


def printed_usage(
    analysis: DocumentAnalysis,
    options: JobOptions,
    copies: int,
    number_up: int,
    impressions_printed: int,
) -> BillableUsage:
    """Usage of the first ``impressions_printed`` sides of a job (a jam or a cancel).

    Copies print one after the other, each the document's sides in order, so the printed
    part is some whole copies plus the first sides of the next one.
    """
    per_copy = usage_for(analysis, options, 1, number_up).total_impressions()
    if per_copy == 0 or impressions_printed <= 0:
        return BillableUsage({}, {})
    whole, rest = divmod(min(impressions_printed, per_copy * copies), per_copy)
    parts = []
    if whole:
        parts.append(usage_for(analysis, options, whole, number_up))
    if rest:
        partial = replace(analysis, pages=list(analysis.pages[: rest * number_up]))
        parts.append(usage_for(partial, options, 1, number_up))
    impressions: Counter[tuple[ImpressionColour, str]] = Counter()
    sheets: Counter[str] = Counter()
    for part in parts:
        impressions.update(part.impressions)
        sheets.update(part.sheets)
    return BillableUsage(dict(impressions), dict(sheets))


class BillingPricer:
    """The :class:`Pricer` port over one of billing's price lists.

    With the user's volume so far this period (from the backend) it prices exactly as the
    backend does, included pages and tiers too. Without it (the configured local list,
    offline) it prices as if the included pages were used up and the first paid tier
    applied: the most the job can cost, which is what a hold must cover. A page of a size
    the list has no name for ("custom") is priced as A4.

    Alone (a kiosk priced by its local list only) it is also the :class:`Pricing` of
    every session: the same list for everyone, so :meth:`prepare` returns itself.
    """

    def __init__(self, price_list: PriceList, volume: PeriodVolume | None = None,
                 notice: str | None = None) -> None:
        self._list = price_list
        if volume is None:
            included = price_list.volume.included
            volume = PeriodVolume(mono=included.get(Colour.MONO, 0),
                                  colour=included.get(Colour.COLOUR, 0))
        self._volume = volume
        self._notice = notice

    @property
    def currency(self) -> str:
        return self._list.currency

    @property
    def notice(self) -> str | None:
        return self._notice

    def with_notice(self, notice: str) -> BillingPricer:
        """The same prices, saying why they may differ from the backend's."""
        return BillingPricer(self._list, self._volume, notice)

    def prepare(self, username: str) -> BillingPricer:
        return self  # one list for everyone, immutable: safe to share between sessions

    def price(self, sides: SideCounts, copies: int, duplex: bool) -> Decimal:
        counts: dict[tuple[Colour, MediaSize], int] = {}
        for (colour, size_name), count in sides.items():
            key = (Colour(colour.value), _media_size(size_name))
            counts[key] = counts.get(key, 0) + count
        job = PaperJob(sides=counts, duplex=duplex, copies=copies)
        try:
            return price(job, self._list, self._volume).total.amount
        except PricingError as exc:
            raise PriceUnavailable(str(exc)) from exc


@dataclass(frozen=True)
class SessionPricer:
    """One user's prices for one listing: their own list and volume, and the site's list
    for a paper size their list has no rate for. Immutable, so a release that outlives
    the listing prices with exactly what the user was shown."""

    own: BillingPricer
    site: BillingPricer | None

    @property
    def currency(self) -> str:
        return self.own.currency

    @property
    def notice(self) -> str | None:
        return self.own.notice

    def price(self, sides: SideCounts, copies: int, duplex: bool) -> Decimal:
        try:
            return self.own.price(sides, copies, duplex)
        except PriceUnavailable:
            if self.site is None or self.site is self.own:
                raise
            # the user's list has no rate for this paper: the site's list prices it
            return self.site.price(sides, copies, duplex)


class UserPricer:
    """Prices for each session, with the list the backend chose for that user.

    The backend applies precedence (a staff member's list, a device model's list) and
    knows how many included pages the user has left; pricing the kiosk's estimates and
    captures with that list and volume makes the kiosk's figures the backend's to the
    cent. Each answer is kept in the offline cache: while the backend is away, a user is
    priced with their own list and volume as last seen. Only a user whose list this kiosk
    never saw is priced with the configured local list (the worst case), and the job list
    says so (``offline_prices_from_site_list``). With no local list either, the jobs
    cannot be priced: :class:`PricingUnavailable`, logged.
    """

    def __init__(self, source: UserPriceLists, fallback: BillingPricer | None,
                 cache: PriceListCache | None = None) -> None:
        self._source = source
        self._fallback = fallback
        self._cache = cache

    def prepare(self, username: str) -> SessionPricer:
        try:
            text, volume = self._source.user_price_list(username)
        except BackendUnavailable as exc:
            cached = self._cache.find_prices(username) if self._cache is not None else None
            if cached is not None:
                own = self._parse(username, *cached, origin="as last seen")
                if own is not None:
                    return SessionPricer(own, self._fallback)
            return self._site(username, OFFLINE_PRICES_FROM_SITE_LIST, exc)
        except BackendRejected as exc:  # the backend answered: it has no list for them
            return self._site(username, None, exc)
        own = self._parse(username, text, volume, origin="from the backend")
        if own is None:
            return self._site(username, None, "the backend's list is unreadable")
        if self._cache is not None:
            self._cache.remember_prices(username, text, volume)
        return SessionPricer(own, self._fallback)

    def _parse(self, username: str, text: str, volume: Volume | None,
               origin: str) -> BillingPricer | None:
        try:
            price_list = load_price_list(text, f"price list of {username} {origin}")
        except PriceListError as exc:
            _log.warning("price list of %s %s is unreadable: %s", username, origin, exc)
            return None
        return BillingPricer(price_list, PeriodVolume(*volume) if volume is not None else None)

    def _site(self, username: str, notice: str | None, why: object) -> SessionPricer:
        if self._fallback is None:
            _log.warning("cannot price the jobs of %s: no list from the backend (%s), none "
                         "cached for them and no [pricing] price_list on this kiosk",
                         username, why)
            raise PricingUnavailable(f"no price list for {username}: {why}")
        _log.info("pricing %s with the local list: %s", username, why)
        site = self._fallback if notice is None else self._fallback.with_notice(notice)
        return SessionPricer(site, None)


def _media_size(name: str) -> MediaSize:
    try:
        return MediaSize(name)
    except ValueError:
        return MediaSize.A4
