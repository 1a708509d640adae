"""The report query: one SELECT ... GROUP BY over the job log, on SQLite and PostgreSQL.

The job log is the captured holds (one row per print, copy, scan or 3D job, with the
pages, sheets and amount really charged); refunds are the ``refund`` ledger transactions
of each hold (summed per hold in a subquery, so a job refunded twice still counts once);
3D jobs add grams and minutes through ``print3d_jobs.hold_id``. A job is reported in
the period it was settled (``holds.settled_at``), and so are its refunds, so a report of
a closed month never changes when a late refund is made.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    BigInteger,
    ColumnElement,
    Integer,
    Numeric,
    Select,
    String,
    and_,
    case,
    cast,
    exists,
    func,
    literal,
    select,
    text,
    type_coerce,
)
from sqlalchemy.orm import Session, aliased

from backend.models import (
    Account,
    AccountKind,
    BillingCode,
    Card,
    Client,
    CostCentre,
    Device,
    Group,
    Hold,
    LedgerEntry,
    LedgerTransaction,
    Print3DJob,
    Site,
    Terminal,
    User,
    UserGroup,
)
from backend.money import from_storage
from backend.reports.query import FAN_OUT, ReportQuery

NONE = "(none)"
MEASURES: tuple[str, ...] = (
    "jobs", "pages_mono", "pages_colour", "pages", "sheets", "duplex_sheets_saved",
    "charged", "refunded", "net", "grams", "print_hours",
)


@dataclass(frozen=True)
class ReportRow:
    """One line of a report: the grouping labels (in the order asked) and the measures.
    ``sheets`` and ``duplex_sheets_saved`` count only the jobs whose sheets are known."""

    keys: tuple[str, ...]
    jobs: int
    pages_mono: int
    pages_colour: int
    sheets: int
    duplex_sheets_saved: int
    charged: Decimal
    refunded: Decimal
    grams: Decimal
    print_minutes: int

    @property
    def pages(self) -> int:
        return self.pages_mono + self.pages_colour

    @property
    def net(self) -> Decimal:
        return self.charged - self.refunded

    @property
    def print_hours(self) -> Decimal:
        return (Decimal(self.print_minutes) / 60).quantize(Decimal("0.01"))

    def measure(self, name: str) -> Any:
        return getattr(self, name)


def columns(query: ReportQuery) -> list[str]:
    """The header: one column per grouping (``user`` adds the display name)."""
    names: list[str] = []
    for grouping in query.by:
        names.append(grouping)
        if grouping == "user":
            names.append("name")
    return names + list(MEASURES)


def cells(row: ReportRow) -> list[str]:
    """A row as text cells, in :func:`columns` order."""
    return [*row.keys, *(str(row.measure(name)) for name in MEASURES)]


class _Plan:
    """The joins and label expressions one query needs, each added once."""

    def __init__(self, query: ReportQuery, dialect: str) -> None:
        self.query = query
        self.dialect = dialect
        self.user = aliased(User)
        self.cost_centre = aliased(CostCentre)
        self.group = aliased(Group)
        self.user_group = aliased(UserGroup)
        self.card = aliased(Card)
        self.terminal = aliased(Terminal)
        self.device = aliased(Device)
        self.site = aliased(Site)
        self.client = aliased(Client)
        self.code = aliased(BillingCode)
        self.code_parent = aliased(BillingCode)
        self.job3d = aliased(Print3DJob)
        self.joins: list[str] = []

    def need(self, *names: str) -> None:
        for name in names:
            if name not in self.joins:
                self.joins.append(name)

    def label(self, grouping: str) -> list[ColumnElement[Any]]:
        """The label expression(s) of a grouping, noting the joins they need."""
        none = literal(NONE)
        if grouping == "user":
            self.need("user")
            return [self.user.username.expression, self.user.display_name.expression]
        if grouping == "cost_centre":
            self.need("user", "cost_centre")
            return [func.coalesce(self.cost_centre.code, none)]
        if grouping == "group":
            self.need("user", "group")
            return [func.coalesce(self.group.name, none)]
        if grouping == "card":
            self.need("user", "card")
            return [func.coalesce(self.card.label,
                                  case((self.card.id.is_(None), none),
                                       else_=literal("#") + cast(self.card.id, String)))]
        if grouping == "device":
            self.need("terminal")
            return [func.coalesce(self.terminal.device, none)]
        if grouping == "model":
            self.need("terminal", "device")
            return [func.coalesce(self.device.model, self.terminal.device_model, none)]
        if grouping == "site":
            self.need("terminal", "device", "site")
            return [func.coalesce(self.site.code, none)]
        if grouping == "client":
            self.need("terminal", "device", "site", "client")
            return [func.coalesce(self.client.code, none)]
        if grouping == "billing_code":
            self.need("code")
            return [func.coalesce(self.code.code, none)]
        if grouping == "billing_client":
            self.need("code")
            return [func.coalesce(self.code_parent.code, self.code.code, none)]
        if grouping == "function":
            return [case((self.job3d.id.is_not(None), literal("3d")),
                         else_=func.coalesce(Hold.details["function"].as_string(),
                                             literal("print")))]
        if grouping == "period":
            return [self.period_label()]
        if grouping == "job":
            return [Hold.id.expression]
        raise AssertionError(grouping)  # parse_by admits nothing else

    def period_label(self) -> ColumnElement[Any]:
        period, settled = self.query.period, Hold.settled_at
        if period == "range":
            return literal(f"{self.query.start.date()}/{self.query.end.date()}")
        if self.dialect == "postgresql":
            utc = func.timezone("UTC", settled)
            if period == "week":
                utc = func.date_trunc("week", utc)
            return func.to_char(utc, "YYYY-MM" if period == "month" else "YYYY-MM-DD")
        if period == "week":  # the Monday on or before the day
            return func.date(settled, "-6 days", "weekday 1")
        return func.strftime("%Y-%m" if period == "month" else "%Y-%m-%d", settled)

    def fan_out_filter(self, grouping: str, values: tuple[str, ...]) -> ColumnElement[bool]:
        """A filter on groups or cards the query is not grouped by: EXISTS, so a user in
        two matching groups still counts once."""
        if grouping == "group":
            return exists(select(UserGroup.user_id)
                          .join(Group, Group.id == UserGroup.group_id)
                          .where(UserGroup.user_id == Hold.user_id, Group.name.in_(values)))
        card_label = func.coalesce(Card.label, literal("#") + cast(Card.id, String))
        return exists(select(Card.id).where(Card.user_id == Hold.user_id,
                                            card_label.in_(values)))

    def apply_joins(self, stmt: Select[Any]) -> Select[Any]:
        order = ("user", "cost_centre", "group", "card", "terminal", "device", "site",
                 "client", "code")
        for name in order:
            if name not in self.joins:
                continue
            if name == "user":
                stmt = stmt.join(self.user, self.user.id == Hold.user_id)
            elif name == "cost_centre":
                stmt = stmt.outerjoin(self.cost_centre,
                                      self.cost_centre.id == self.user.cost_centre_id)
            elif name == "group":
                stmt = stmt.outerjoin(self.user_group,
                                      self.user_group.user_id == Hold.user_id)
                stmt = stmt.outerjoin(self.group, self.group.id == self.user_group.group_id)
            elif name == "card":
                stmt = stmt.outerjoin(self.card, self.card.user_id == Hold.user_id)
            elif name == "terminal":
                stmt = stmt.join(self.terminal, self.terminal.id == Hold.terminal_id)
            elif name == "device":
                stmt = stmt.outerjoin(self.device, self.device.code == self.terminal.device)
            elif name == "site":
                stmt = stmt.outerjoin(self.site, self.site.id == self.device.site_id)
            elif name == "client":
                stmt = stmt.outerjoin(self.client, self.client.id == self.site.client_id)
            elif name == "code":
                stmt = stmt.outerjoin(self.code, self.code.id == Hold.billing_code_id)
                stmt = stmt.outerjoin(self.code_parent,
                                      self.code_parent.id == self.code.parent_id)
        return stmt


def refunds_by_hold(start: datetime) -> Any:
    """hold id -> refunded amount (raw storage units): what left revenue in the refunds
    of jobs settled from ``start`` on. A refund comes after its job's charge, so refunds
    made before ``start`` cannot belong to the report and are skipped by the index on
    (kind, created_at). The revenue entry is read per refund (a correlated subquery on
    the entries' transaction index): the planner otherwise walks every revenue entry."""
    revenue_part = (
        select(func.sum(type_coerce(LedgerEntry.amount, BigInteger)))
        .join(Account, Account.id == LedgerEntry.account_id)
        .where(LedgerEntry.transaction_id == LedgerTransaction.id,
               Account.kind == AccountKind.REVENUE)
        .scalar_subquery()
    )
    return (
        select(LedgerTransaction.hold_id.label("hold_id"),
               (-func.sum(revenue_part)).label("amount"))
        .where(LedgerTransaction.kind == "refund", LedgerTransaction.created_at >= start,
               LedgerTransaction.hold_id.is_not(None))
        .group_by(LedgerTransaction.hold_id)
        .subquery("refunds")
    )


def statement(query: ReportQuery, dialect: str) -> Select[Any]:
    """The SELECT of a report: labels, then the measures, grouped by the labels."""
    plan = _Plan(query, dialect)
    labels: list[ColumnElement[Any]] = []
    for grouping in query.by:
        labels.extend(plan.label(grouping))
    filters: list[ColumnElement[bool]] = [
        Hold.status == "captured", Hold.settled_at >= query.start, Hold.settled_at < query.end,
    ]
    for grouping, values in query.where.items():
        if grouping in FAN_OUT and grouping not in query.by:
            filters.append(plan.fan_out_filter(grouping, values))
        else:
            filters.append(plan.label(grouping)[0].in_(values))
    refunds = refunds_by_hold(query.start)
    sheets = Hold.details["sheets"].as_integer()
    mono = func.coalesce(Hold.mono_sides, 0)
    colour = func.coalesce(Hold.colour_sides, 0)
    measures = [
        func.count(Hold.id),
        func.sum(mono),
        func.sum(colour),
        func.sum(sheets),
        func.sum(case((sheets.is_not(None), mono + colour - sheets))),
        func.sum(type_coerce(Hold.captured_amount, BigInteger)),
        func.sum(refunds.c.amount),
        func.sum(cast(plan.job3d.charged_grams, Numeric(14, 3))),
        func.sum(cast(plan.job3d.charged_minutes, Integer)),
    ]
    stmt = (select(*labels, *measures).select_from(Hold)
            .outerjoin(plan.job3d, plan.job3d.hold_id == Hold.id)
            .outerjoin(refunds, refunds.c.hold_id == Hold.id))
    stmt = plan.apply_joins(stmt).where(and_(*filters))
    if labels:
        stmt = stmt.group_by(*labels).order_by(*labels)
    return stmt


def _grams(raw: Any) -> Decimal:
    # SQLite sums a NUMERIC cast as a float: back through str, to the gram's thousandth.
    return Decimal(str(raw or 0)).quantize(Decimal("0.001"))


def _row(raw: Any, width: int) -> ReportRow:
    keys = tuple(NONE if value is None else str(value) for value in raw[:width])
    (jobs, mono, colour, sheets, saved, charged, refunded, grams, minutes) = raw[width:]
    return ReportRow(keys, int(jobs or 0), int(mono or 0), int(colour or 0), int(sheets or 0),
                     int(saved or 0), from_storage(charged), from_storage(refunded),
                     _grams(grams), int(minutes or 0))


def iter_rows(session: Session, query: ReportQuery, batch: int = 2000) -> Iterator[ReportRow]:
    """The report's rows, fetched ``batch`` at a time (a server-side cursor on
    PostgreSQL), so a one-row-per-job export never holds the whole result."""
    dialect = session.get_bind().dialect.name
    stmt = statement(query, dialect)
    width = len(columns(query)) - len(MEASURES)
    if dialect == "postgresql":
        # A server-side cursor is planned for its first 10 % of rows by default (nested
        # loops); a report reads them all, so plan for all (hash joins): 14x faster.
        session.execute(text("SET LOCAL cursor_tuple_fraction = 1.0"))
    result = session.execute(stmt.execution_options(yield_per=batch))
    for raw in result:
        yield _row(raw, width)


def run(session: Session, query: ReportQuery) -> list[ReportRow]:
    return list(iter_rows(session, query))


def total(session: Session, query: ReportQuery) -> ReportRow:
    """The ungrouped row (same filters): the true total, each job once, even when a
    grouping by group or card counts a job in several rows."""
    ungrouped = ReportQuery((), query.start, query.end, query.period, query.where)
    return run(session, ungrouped)[0]
