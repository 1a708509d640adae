"""The common shape of every terminal write: lock, replay-or-act, remember, commit.

See ``backend.idempotency`` for why the replay check comes after the lock. A unique-key
collision (two first attempts with the same key on PostgreSQL racing past the check) rolls
the loser back; its second try then finds the winner's record and replays it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from fastapi.responses import JSONResponse
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from backend.api.deps import problem_from
from backend.context import BackendContext
from backend.idempotency import remember, replay
from backend.ledger import LedgerError

Locked = TypeVar("Locked")


def idempotent_write(
    context: BackendContext,
    terminal_id: str,
    key: str,
    operation: str,
    body: dict[str, Any],
    lock: Callable[[Session], Locked],
    effect: Callable[[Session, Locked], dict[str, Any]],
    status: int = 200,
    replay_status: int | None = None,
) -> JSONResponse:
    """``lock`` takes the lock (and returns what it found, handed to ``effect``).
    ``replay_status``: the status of a replay, when it is not the first answer's (a
    201 Created answered 200 on a resend: nothing was created the second time)."""
    for attempt in (1, 2):
        try:
            with context.db.write() as session:
                locked = lock(session)
                previous = replay(session, terminal_id, key, operation, body)
                if previous is not None:
                    return JSONResponse(previous[1], status_code=replay_status or previous[0])
                response = effect(session, locked)
                remember(session, terminal_id, key, operation, body, status, response)
            return JSONResponse(response, status_code=status)
        except LedgerError as exc:
            raise problem_from(exc) from exc
        except IntegrityError:
            if attempt == 2:
                raise
    raise AssertionError("unreachable")
