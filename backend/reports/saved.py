"""Saved reports mailed on a schedule through the notification outbox (kind ``report``).

The scheduler's task (:func:`record_due`) looks at each active saved report, takes the
last complete period of its schedule (yesterday, last week from Monday, last month) and
records one mail per recipient with the dedupe key ``report:<id>:<period start>:<address>``:
run it every minute in every backend process and each period is still mailed once. The
mail carries the totals and the first rows; the whole CSV is a link to the admin page's
download (sign-in required), not an attachment, so no report leaves the site unguarded.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

from sqlalchemy import select
from sqlalchemy.orm import Session

from backend.audit import record as audit
from backend.db import Database
from backend.models import Notification, SavedReport
from backend.notify import outbox
from backend.reports.engine import ReportRow, columns, run, total
from backend.reports.query import ReportError, ReportQuery, parse_by, parse_where

SCHEDULES = ("daily", "weekly", "monthly")
ROWS_IN_MAIL = 15


def last_period(schedule: str, now: datetime) -> tuple[datetime, datetime]:
    """The last complete day, week (Monday to Monday) or month before ``now`` (UTC)."""
    today = now.astimezone(UTC).date()
    if schedule == "daily":
        end = today
        start = end - timedelta(days=1)
    elif schedule == "weekly":
        end = today - timedelta(days=today.weekday())
        start = end - timedelta(days=7)
    else:
        end = today.replace(day=1)
        start = (end - timedelta(days=1)).replace(day=1)
    return _utc(start), _utc(end)


def _utc(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


def save(session: Session, *, name: str, by: str, where: list[str], schedule: str,
         recipients: str, language: str, actor: str) -> SavedReport:
    """A new saved report, checked like a report request, and audited."""
    if not name.strip() or len(name) > 100:
        raise ReportError("name", "give a name of 1 to 100 characters")
    if schedule not in SCHEDULES:
        raise ReportError("schedule", f"{schedule!r} is not one of {', '.join(SCHEDULES)}")
    addresses = [a.strip() for a in recipients.split(",") if a.strip()]
    if not addresses or any("@" not in a or " " in a for a in addresses):
        raise ReportError("recipients", f"{recipients!r}: give e-mail addresses separated "
                                        "by commas")
    if language not in ("en", "fr"):
        raise ReportError("language", f"{language!r} is not en or fr")
    groupings = parse_by(by)
    filters = parse_where(where)
    if session.scalar(select(SavedReport.id).where(SavedReport.name == name)) is not None:
        raise ReportError("name", f"a saved report is already called {name!r}")
    query = {"by": list(groupings), "where": {k: list(v) for k, v in filters.items()}}
    report = SavedReport(name=name, query=query, schedule=schedule,
                         recipients=",".join(addresses), language=language, created_by=actor)
    session.add(report)
    session.flush()
    audit(session, actor, "report.save", name,
          {"query": query, "schedule": schedule, "recipients": addresses})
    return report


def query_of(report: SavedReport, start: datetime, end: datetime) -> ReportQuery:
    where = {key: tuple(values) for key, values in report.query.get("where", {}).items()}
    return ReportQuery(tuple(report.query["by"]), start, end, "range", where)


def _cells(row: ReportRow) -> dict[str, Any]:
    return {"keys": list(row.keys), "jobs": row.jobs, "pages": row.pages,
            "charged": str(row.charged), "refunded": str(row.refunded), "net": str(row.net)}


def record_due(db: Database, currency: str, now: datetime | None = None) -> int:
    """Record the mails of every saved report's last complete period; how many new.
    ``currency``: the ledger's, for the amounts in the mail."""
    now = now or datetime.now(UTC)
    recorded = 0
    with db.write() as session:
        for report in session.scalars(select(SavedReport).where(SavedReport.active)
                                      .order_by(SavedReport.id)):
            start, end = last_period(report.schedule, now)
            keys = {address: f"report:{report.id}:{start.date().isoformat()}:{address}"[:200]
                    for address in report.recipients.split(",")}
            if set(session.scalars(select(Notification.dedupe_key).where(
                    Notification.dedupe_key.in_(list(keys.values()))))) == set(keys.values()):
                continue  # this period is mailed: no need to run the report again
            query = query_of(report, start, end)
            rows = run(session, query)
            whole = total(session, query)
            words = query.words()
            link = "/admin/reports.csv?" + urlencode(
                [("by", name) for name in query.by]
                + [(key, words[key]) for key in ("period", "from", "to", "where")
                   if key in words])
            context = {"name": report.name, "from": start.date().isoformat(),
                       "to": (end - timedelta(days=1)).date().isoformat(),
                       "header": columns(query)[:len(rows[0].keys)] if rows else [],
                       "rows": [_cells(row) for row in rows[:ROWS_IN_MAIL]],
                       "more": max(0, len(rows) - ROWS_IN_MAIL), "total": _cells(whole),
                       "csv_path": link, "currency": currency}
            for address, key in keys.items():
                if outbox.record(session, kind="report", to_address=address,
                                 language=report.language, context=context,
                                 dedupe_key=key) is not None:
                    recorded += 1
    return recorded
