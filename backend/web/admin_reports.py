"""``/admin/reports``: the usage report form (groupings, period, dates, filters), its
table with the ungrouped total, and the same report as CSV (streamed) and as a PNG or SVG
chart. Administrators and auditors: a report reads and changes nothing, so the form is a
GET (bookmarkable, no CSRF token needed) and nothing is audited."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response, StreamingResponse

from backend.reports.chart import render as render_chart
from backend.reports.csv_export import report_csv
from backend.reports.engine import MEASURES, ReportRow, columns, run, total
from backend.reports.query import GROUPINGS, PERIODS, ReportError, ReportQuery, parse_query
from backend.web.auth import context_of, staff
from backend.web.sessions import WebIdentity
from backend.web.templating import render

router = APIRouter(include_in_schema=False)
Reader = Annotated[WebIdentity, Depends(staff("administrator", "auditor"))]
# Rows shown on the page; the CSV has them all.
SHOWN = 500
CHART_TYPES = {"png": "image/png", "svg": "image/svg+xml"}


def _default_range(today: date) -> tuple[str, str]:
    """The last three months up to the end of this one."""
    month = today.year * 12 + today.month - 1
    first = date((month - 2) // 12, (month - 2) % 12 + 1, 1)
    after = date((month + 1) // 12, (month + 1) % 12 + 1, 1)
    return first.isoformat(), after.isoformat()


def _words(request: Request) -> dict[str, str]:
    params = request.query_params
    start, end = _default_range(datetime.now(UTC).date())
    by = ",".join(params.getlist("by")) or "user"
    return {"by": by, "period": params.get("period", "month"),
            "from": params.get("from", start), "to": params.get("to", end),
            "where": params.get("where", ""), "measure": params.get("measure", "pages")}


def _query(words: dict[str, str]) -> ReportQuery:
    query = parse_query(words["by"], words["period"], words["from"], words["to"],
                        [words["where"]] if words["where"].strip() else [])
    if words["measure"] not in MEASURES:
        raise ReportError("measure", f"{words['measure']!r} is not one of {', '.join(MEASURES)}")
    return query


def _link(path: str, words: dict[str, str]) -> str:
    pairs = [("by", name) for name in words["by"].split(",")]
    pairs += [(key, words[key]) for key in ("period", "from", "to", "where", "measure")
              if words[key]]
    return f"{path}?{urlencode(pairs)}"


@router.get("/admin/reports", response_class=HTMLResponse)
def reports_page(request: Request, identity: Reader) -> HTMLResponse:
    words = _words(request)
    rows: list[ReportRow] = []
    whole: ReportRow | None = None
    error: ReportError | None = None
    header: list[str] = []
    try:
        query = _query(words)
    except ReportError as exc:
        error = exc
    else:
        header = columns(query)
        with context_of(request).db.read() as session:
            rows = run(session, query)
            whole = total(session, query)
    return render(request, "admin/reports.html", identity,
                  status_code=400 if error else 200, words=words, error=error,
                  groupings=GROUPINGS, periods=PERIODS, measures=MEASURES,
                  chosen=set(words["by"].split(",")), header=header,
                  keys=len(header) - len(MEASURES), rows=rows[:SHOWN], count=len(rows),
                  shown=SHOWN, whole=whole,
                  csv_link=_link("/admin/reports.csv", words),
                  png_link=_link("/admin/reports.png", words),
                  svg_link=_link("/admin/reports.svg", words))


@router.get("/admin/reports.csv")
def report_csv_download(request: Request, identity: Reader) -> Response:
    words = _words(request)
    try:
        query = _query(words)
    except ReportError as exc:
        return Response(str(exc), status_code=400, media_type="text/plain")
    db = context_of(request).db

    def lines() -> Iterator[bytes]:
        with db.read() as session:
            for line in report_csv(session, query):
                yield line.encode("utf-8")

    name = f"report-{'-'.join(query.by)}-{words['from']}-{words['to']}.csv"
    return StreamingResponse(lines(), media_type="text/csv; charset=utf-8",
                             headers={"Content-Disposition": f'attachment; filename="{name}"'})


@router.get("/admin/reports.{kind}")
def report_chart(kind: str, request: Request, identity: Reader) -> Response:
    if kind not in CHART_TYPES:
        return Response("no such chart format", status_code=404, media_type="text/plain")
    words = _words(request)
    try:
        query = _query(words)
    except ReportError as exc:
        return Response(str(exc), status_code=400, media_type="text/plain")
    with context_of(request).db.read() as session:
        rows = run(session, query)
    title = f"{words['measure']} / {', '.join(query.by)}, {words['from']} - {words['to']}"
    return Response(render_chart(rows, query.by, words["measure"], kind, title),
                    media_type=CHART_TYPES[kind])
