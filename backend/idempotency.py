"""Idempotent terminal writes: a retry with the same key returns the first answer.

The record is written in the same database transaction as the effect, after the user's
lock is taken, so a retry racing the original waits for it and then finds its record:
no second effect, whatever the timing. The same key with a different body is refused.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from backend.ledger import LedgerError
from backend.models import IdempotencyRecord


def request_fingerprint(operation: str, body: dict[str, Any]) -> str:
    canonical = json.dumps({"op": operation, "body": body}, sort_keys=True, default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


def replay(session: Session, terminal_id: str, key: str, operation: str,
           body: dict[str, Any]) -> tuple[int, dict[str, Any]] | None:
    """The stored (status, response) for this key, or None for a first attempt."""
    found = session.scalar(select(IdempotencyRecord).where(
        IdempotencyRecord.terminal_id == terminal_id, IdempotencyRecord.key == key))
    if found is None:
        return None
    if found.request_hash != request_fingerprint(operation, body):
        raise LedgerError("idempotency_key_reused",
                          f"key {key!r} was already used for a different request")
    return found.status_code, found.response


def remember(session: Session, terminal_id: str, key: str, operation: str,
             body: dict[str, Any], status: int, response: dict[str, Any]) -> None:
    session.add(IdempotencyRecord(
        terminal_id=terminal_id, key=key, operation=operation,
        request_hash=request_fingerprint(operation, body), status_code=status,
        response=response,
    ))
    session.flush()
