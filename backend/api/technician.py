"""POST /technician/reports: a technician's action at a kiosk, written to the audit log.

The kiosk journals every technician action (a settings change, an enrolment, a test
page, a reboot...) in its outbox and drains it here, so that a change made while the
backend was away (local PIN) is audited too, once: the report's ``key`` is an
idempotency key like a hold's (a resend answers 200 and writes nothing).

Who acted is checked, not taken on trust: a report ``via`` card or pin names an account
that must exist and hold the ``technician`` role (else 403 ``not_a_technician``, and
nothing is written). A ``local_pin`` report is the kiosk's offline fallback: the backend
cannot know the person, so the row says ``local-technician@terminal:<id>``.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from sqlalchemy.orm import Session

from backend import roles
from backend.api.deps import Context, CurrentTerminal, rate_limited
from backend.api.schemas import TechnicianReportAnswer, TechnicianReportRequest
from backend.api.writes import idempotent_write
from backend.audit import record
from backend.ledger import LedgerError

router = APIRouter(tags=["technician"])
TECHNICIAN_ROLE = "technician"
LOCAL_TECHNICIAN = "local-technician"


def actor_of(report: TechnicianReportRequest, terminal_id: str) -> str:
    if report.via == "local_pin":
        return f"{LOCAL_TECHNICIAN}@terminal:{terminal_id}"
    return f"technician:{report.technician}@terminal:{terminal_id}"


@router.post("/technician/reports", status_code=201, response_model=TechnicianReportAnswer,
             responses={200: {"model": TechnicianReportAnswer,
                              "description": "a report already received (same key): "
                                             "nothing written again"}})
def report(body: TechnicianReportRequest, context: Context,
           terminal: CurrentTerminal) -> JSONResponse:
    rate_limited(context.limits.technician_reports, terminal, "technician reports")

    def no_lock(_session: Session) -> None:
        # No money moves: the idempotency record's unique key settles a race.
        return None

    def effect(session: Session, _locked: None) -> dict[str, Any]:
        if body.via != "local_pin" and not roles.has_role(session, body.technician,
                                                           TECHNICIAN_ROLE):
            raise LedgerError("not_a_technician",
                              f"{body.technician!r} is not an account with the "
                              f"{TECHNICIAN_ROLE} role")
        # ``at``: when the technician acted, not when the kiosk could tell us
        record(session, actor_of(body, terminal.id), f"technician.{body.action}",
               f"terminal:{terminal.id}", body.details, at=body.at)
        return {"ok": True}

    request = body.model_dump(mode="json", exclude={"key"})
    return idempotent_write(context, terminal.id, body.key, "technician_report", request,
                            no_lock, effect, status=201, replay_status=200)
