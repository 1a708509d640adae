"""Signed-in browsers, as rows of ``web_sessions`` (see ``backend.models.WebSession``).

The cookie holds a random token; the row's id is its keyed hash. A session is refused
once signed out, after its idle timeout, or when its account is disabled or has lost the
role its area needs, whichever backend process served the previous request. The CSRF
token of a session is derived from its token under the secret (HMAC): nothing more to
store, and a page rendered by one process is accepted by another.
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from backend.db import Database
from backend.models import STAFF_ROLES, User, WebSession, utcnow
from backend.security import keyed_hash, new_token

AREAS = ("staff", "me")
COOKIES = {"staff": "pk_staff", "me": "pk_me"}
# last_seen_at is written at most this often: a page load is then not always a write.
TOUCH_EVERY = timedelta(seconds=30)


@dataclass(frozen=True)
class WebIdentity:
    """Who is signed in, as the pages need it."""

    session_id: str
    user_id: int
    username: str
    display_name: str
    language: str
    roles: tuple[str, ...]
    area: str
    csrf: str

    def has(self, *roles: str) -> bool:
        return any(role in self.roles for role in roles)


def session_id(secret: bytes, token: str) -> str:
    return keyed_hash(secret, token, "web-session")


def csrf_for(secret: bytes, token: str) -> str:
    return keyed_hash(secret, token, "csrf")


def csrf_matches(expected: str, given: str | None) -> bool:
    return given is not None and hmac.compare_digest(expected.encode(), given.encode())


def open_session(db: Database, secret: bytes, user_id: int, area: str, origin: str,
                 user_agent: str) -> str:
    """A new session for the user; returns the cookie's token."""
    assert area in AREAS
    token = new_token()
    with db.write() as session:
        session.add(WebSession(id=session_id(secret, token), user_id=user_id, area=area,
                               origin=origin[:100], user_agent=user_agent[:300]))
    return token


def load_session(db: Database, secret: bytes, token: str | None, area: str,
                 idle: timedelta, now: datetime | None = None) -> WebIdentity | None:
    """The live session of ``token`` in ``area``, or None (and then it is ended)."""
    if not token or len(token) > 100:
        return None
    now = now or utcnow()
    sid = session_id(secret, token)
    with db.read() as session:
        found = session.get(WebSession, sid)
        user = session.get(User, found.user_id) if found is not None else None
        if found is None or user is None or found.area != area or found.ended_at is not None:
            return None
        roles = tuple(user.roles)
        live = (now - found.last_seen_at <= idle and user.status == "active"
                and (area == "me" or any(role in STAFF_ROLES for role in roles)))
        identity = WebIdentity(session_id=sid, user_id=user.id, username=user.username,
                               display_name=user.display_name, language=user.language,
                               roles=roles, area=area, csrf=csrf_for(secret, token))
        stale = now - found.last_seen_at > TOUCH_EVERY
    if not live:
        with db.write() as session:
            _end(session, sid, now)
        return None
    if stale:
        with db.write() as session:
            session.execute(update(WebSession).where(WebSession.id == sid)
                            .values(last_seen_at=now))
    return identity


def end_session(db: Database, secret: bytes, token: str) -> None:
    with db.write() as session:
        _end(session, session_id(secret, token), utcnow())


def end_user_sessions(session: Session, user_id: int, area: str | None = None) -> int:
    """End every open session of the user (a password change, a disabled account);
    returns how many were open."""
    query = update(WebSession).where(WebSession.user_id == user_id,
                                     WebSession.ended_at.is_(None))
    if area is not None:
        query = query.where(WebSession.area == area)
    done = session.execute(query.values(ended_at=utcnow()))
    return int(done.rowcount)  # type: ignore[attr-defined]


def open_sessions(session: Session, user_id: int) -> list[WebSession]:
    return list(session.scalars(select(WebSession).where(
        WebSession.user_id == user_id, WebSession.ended_at.is_(None))))


def _end(session: Session, sid: str, now: datetime) -> None:
    session.execute(update(WebSession).where(WebSession.id == sid,
                                             WebSession.ended_at.is_(None))
                    .values(ended_at=now))
