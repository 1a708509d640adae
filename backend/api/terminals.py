"""POST /terminals/enrol: spend a one-time enrolment key, get a per-terminal token;
GET /terminals/me: who the calling token is, and the backend's clock.

``/terminals/me`` is the technician's backend check at the kiosk: the time it takes is
the latency, ``server_time`` against the kiosk's clock the skew, and a 401 says the
token is unknown or revoked (``terminal_unauthorized``, ``terminal_revoked``).
"""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi import APIRouter

from backend.api.deps import Context, CurrentTerminal, problem_from
from backend.api.schemas import EnrolRequest, TerminalStatus
from backend.ledger import LedgerError
from backend.models import Terminal
from backend.terminals import effective_state, enrol

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


@router.get("/terminals/me")
def terminal_me(context: Context, terminal: CurrentTerminal) -> TerminalStatus:
    # Read again: authenticating this call may just have marked it connected.
    with context.db.read() as session:
        current = session.get_one(Terminal, terminal.id)
        state = effective_state(current)
        name = current.name
    return TerminalStatus.model_validate({"id": terminal.id, "name": name, "state": state,
                                          "server_time": datetime.now(UTC)})
