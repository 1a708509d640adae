"""Job analyses from the print server: how a kiosk on another host prices a held job.

POST /job-analyses            the spool agent beside CUPS reports one job's analysis
GET  /job-analyses/{job_uuid} a kiosk reads it by the job's IPP job-uuid

The agent enrols like any terminal and reports with its token; the report is an
idempotent write keyed by the agent's idempotency key (the job uuid), so a restarted
agent that reports a job again gets the first answer back and stores nothing twice.
A second report of the same job under another key is refused (409), never merged:
one job, one analysis.
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC
from typing import Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from sqlalchemy import select
from sqlalchemy.orm import Session

from backend.api.deps import Context, CurrentTerminal
from backend.api.schemas import JobAnalysisRequest
from backend.api.writes import idempotent_write
from backend.ledger import LedgerError
from backend.models import JobAnalysis
from backend.problems import ApiProblem

router = APIRouter(tags=["job analyses"])


def _counts(body: JobAnalysisRequest) -> list[dict[str, Any]]:
    """Pages per (colour, size), merged and sorted: the same job gives the same rows
    whether the agent sent every page or its own counts."""
    tally: Counter[tuple[str, str]] = Counter()
    for page in body.pages or ():
        tally[(page.colour, page.size)] += 1
    for count in body.counts or ():
        tally[(count.colour, count.size)] += count.count
    return [{"colour": colour, "size": size, "count": n}
            for (colour, size), n in sorted(tally.items())]


def _json(row: JobAnalysis) -> dict[str, Any]:
    by_colour: Counter[str] = Counter()
    for count in row.counts:
        by_colour[count["colour"]] += int(count["count"])
    return {
        "job_uuid": row.job_uuid,
        "queue": row.queue,
        "username": row.username,
        "document_name": row.document_name,
        "page_count": row.page_count,
        "colour_pages": by_colour["colour"],
        "mono_pages": by_colour["mono"],
        "blank_pages": by_colour["blank"],
        "counts": row.counts,
        "error": row.error,
        "analysed_at": row.analysed_at.astimezone(UTC).isoformat(),
        "received_at": row.received_at.astimezone(UTC).isoformat(),
        "reported_by": row.terminal_id,
    }


@router.post("/job-analyses", status_code=201)
def report_job_analysis(body: JobAnalysisRequest, context: Context,
                        terminal: CurrentTerminal) -> JSONResponse:
    def no_lock(_session: Session) -> None:
        # No money moves: the unique job_uuid and the idempotency record settle races.
        return None

    def effect(session: Session, _locked: None) -> dict[str, Any]:
        known = session.scalar(select(JobAnalysis).where(JobAnalysis.job_uuid == body.job_uuid))
        if known is not None:
            raise LedgerError("job_analysis_exists",
                              f"job {body.job_uuid} was already reported by terminal "
                              f"{known.terminal_id}")
        counts = _counts(body)
        row = JobAnalysis(
            job_uuid=body.job_uuid, terminal_id=terminal.id, queue=body.queue,
            username=body.username, document_name=body.document_name,
            page_count=sum(c["count"] for c in counts), counts=counts, error=body.error,
            analysed_at=body.analysed_at,
        )
        session.add(row)
        session.flush()
        return _json(row)

    request = body.model_dump(mode="json", exclude={"idempotency_key"})
    return idempotent_write(context, terminal.id, body.idempotency_key, "job_analysis",
                            request, no_lock, effect, status=201)


@router.get("/job-analyses/{job_uuid}")
def read_job_analysis(job_uuid: str, context: Context,
                      _terminal: CurrentTerminal) -> dict[str, Any]:
    with context.db.read() as session:
        row = session.scalar(select(JobAnalysis).where(JobAnalysis.job_uuid == job_uuid))
        if row is None:
            raise ApiProblem(404, "job_analysis_unknown", "Job analysis unknown",
                             f"no analysis was reported for job {job_uuid}")
        return _json(row)
