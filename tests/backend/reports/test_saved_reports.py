"""Saved reports: validated and audited when saved, mailed through the outbox once per
period and recipient however often the scheduler runs, in the report's language, with
the same totals as the report; delivered by the real worker to a real SMTP server."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from generate import generate
from sqlalchemy import func, select

from backend.db import Database
from backend.models import AuditEntry, Notification
from backend.notify import templates
from backend.reports.engine import total
from backend.reports.query import ReportError
from backend.reports.saved import last_period, query_of, record_due, save


def test_last_period_of_each_schedule() -> None:
    now = datetime(2026, 11, 18, 7, 30, tzinfo=UTC)  # a Wednesday
    assert last_period("daily", now) == (datetime(2026, 11, 17, tzinfo=UTC),
                                         datetime(2026, 11, 18, tzinfo=UTC))
    assert last_period("weekly", now) == (datetime(2026, 11, 9, tzinfo=UTC),
                                          datetime(2026, 11, 16, tzinfo=UTC))
    assert last_period("monthly", now) == (datetime(2026, 10, 1, tzinfo=UTC),
                                           datetime(2026, 11, 1, tzinfo=UTC))
    assert last_period("monthly", datetime(2027, 1, 3, tzinfo=UTC))[0] == datetime(
        2026, 12, 1, tzinfo=UTC)


def test_a_monthly_report_is_mailed_once_per_period_and_recipient(history_db: Database) -> None:
    db = history_db
    generate(db, 800, users=10)
    with db.write() as session:
        report = save(session, name="Sites <monthly>", by="site", where=["client=gCLIENT0"],
                      schedule="monthly", recipients="boss@example.org, fin@example.org",
                      language="fr", actor="cli:test")
        report_id = report.id
    november = datetime(2026, 11, 2, 6, tzinfo=UTC)
    assert record_due(db, "EUR", november) == 2
    assert record_due(db, "EUR", november) == 0  # the scheduler again, same period: nothing
    assert record_due(db, "EUR", datetime(2026, 11, 28, tzinfo=UTC)) == 0
    assert record_due(db, "EUR", datetime(2026, 12, 1, 0, 1, tzinfo=UTC)) == 2  # November's
    with db.read() as session:
        mails = list(session.scalars(select(Notification).where(Notification.kind == "report")
                                     .order_by(Notification.id)))
        saved = session.get(type(report), report_id)
        assert saved is not None
        october = total(session, query_of(saved, datetime(2026, 10, 1, tzinfo=UTC),
                                          datetime(2026, 11, 1, tzinfo=UTC)))
        audited = session.scalar(select(func.count()).select_from(AuditEntry).where(
            AuditEntry.action == "report.save", AuditEntry.subject == "Sites <monthly>"))
    assert audited == 1
    assert [m.to_address for m in mails] == ["boss@example.org", "fin@example.org"] * 2
    first = mails[0].context
    assert first["total"]["jobs"] == october.jobs > 0
    assert first["total"]["net"] == str(october.net)
    assert {tuple(row["keys"]) for row in first["rows"]} <= {("gSITE00",), ("gSITE01",)}
    rendered = templates.render(templates.environment(), "report", mails[0].language,
                                first)
    assert "Rapport d'utilisation Sites <monthly>" in rendered.subject
    assert "Sites &lt;monthly&gt;" in rendered.html and "<monthly>" not in rendered.html
    assert "1 octobre 2026" in rendered.text and "31 octobre 2026" in rendered.text
    assert "/admin/reports.csv?by=site&period=range&from=2026-10-01&to=2026-11-01" in (
        rendered.text)


@pytest.mark.parametrize(("changes", "field"), [
    ({"schedule": "hourly"}, "schedule"),
    ({"recipients": "nobody"}, "recipients"),
    ({"by": "colour"}, "by"),
    ({"where": ["site"]}, "where"),
    ({"name": ""}, "name"),
])
def test_a_bad_saved_report_is_refused_by_field(history_db: Database, changes: dict[str, object],
                                                field: str) -> None:
    words: dict[str, object] = {"name": "r", "by": "user", "where": [], "schedule": "daily",
                                "recipients": "a@example.org", "language": "en", **changes}
    with pytest.raises(ReportError) as refused, history_db.write() as session:
        save(session, actor="cli:test", **words)  # type: ignore[arg-type]
    assert refused.value.field == field
    with history_db.read() as session:
        assert session.scalar(select(func.count()).select_from(AuditEntry).where(
            AuditEntry.action == "report.save")) == 0
