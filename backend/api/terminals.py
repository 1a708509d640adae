"""POST /terminals/enrol: spend a one-time enrolment key, get a per-terminal token."""

from __future__ import annotations

from fastapi import APIRouter

from backend.api.deps import Context, problem_from
from backend.api.schemas import EnrolRequest
from backend.ledger import LedgerError
from backend.terminals import enrol

router = APIRouter(tags=["terminals"])


@router.post("/terminals/enrol", status_code=201)
def enrol_terminal(body: EnrolRequest, context: Context) -> dict[str, str]:
    try:
        with context.db.write() as session:
            terminal_id, token = enrol(session, context.secret, body.enrolment_key, body.name,
                                       body.device, body.device_model, body.offline_limit)
    except LedgerError as exc:
        raise problem_from(exc) from exc
    return {"terminal_id": terminal_id, "token": token}
