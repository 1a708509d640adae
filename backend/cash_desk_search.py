"""Finding a user at the cash desk: by name, username or e-mail as the clerk types, or
by the card a keyboard-wedge reader types into the same field.

The query must stay fast over many users (bench/bench_web.py): each searched column has
an index on ``lower(column)`` (migration 0013). One or two characters are matched as a
prefix (a btree range scan with text_pattern_ops on PostgreSQL); three or more as a
substring, which PostgreSQL answers from trigram GIN indexes when pg_trgm exists. Results
are ordered by username, so the list does not jump while typing. That order also lets
PostgreSQL choose per query: for a common name it walks the username index in order and
stops at the 20th match; for a rare one it takes the few rows the trigram indexes give
and sorts them (ordering by lower(username) forced the second plan, which sorts
thousands of rows for a common name: 10 times slower at the median, bench_web.py).

Cards: the kiosk sends ``NormalisationRule().apply(raw)`` (drivers/cards/normalise.py,
the rule of a reader with no ``normalise`` table): separators ``:``, ``-`` and spaces
dropped, hex digits upper-cased and padded to whole bytes. The backend must not import
drivers, so :func:`wedge_card_number` is that default rule written again; a test checks
both agree. The number is looked up as typed (``normalise_card``) and as the kiosk would
send it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from backend.models import Card, User
from backend.security import card_hash, normalise_card

LIMIT = 20
MAX_QUERY = 100
SUBSTRING_FROM = 3  # trigrams need 3 characters
_HEX_SEPARATORS = re.compile(r"[\s:\-]")
_HEX = re.compile(r"[0-9A-Fa-f]+")


@dataclass(frozen=True)
class Found:
    username: str
    display_name: str
    email: str | None
    status: str


def _like_escaped(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def search_users(session: Session, query: str, limit: int = LIMIT) -> list[Found]:
    """Users whose username, display name or e-mail contains ``query`` (from 3
    characters; starts with it below), case-insensitively, at most ``limit``."""
    text = query.strip().lower()[:MAX_QUERY]
    if not text:
        return []
    escaped = _like_escaped(text)
    pattern = f"%{escaped}%" if len(text) >= SUBSTRING_FROM else f"{escaped}%"
    columns = (User.username, User.display_name, User.email)
    # PostgreSQL's LIKE escapes with a backslash already; an explicit ESCAPE would hide
    # the constant prefix from the planner (no index range scan). SQLite has no default.
    escape = None if session.get_bind().dialect.name == "postgresql" else "\\"
    rows = session.execute(
        select(User.username, User.display_name, User.email, User.status)
        .where(or_(*(func.lower(column).like(pattern, escape=escape) for column in columns)))
        .order_by(User.username).limit(limit)).tuples()
    return [Found(*row) for row in rows]


def wedge_card_number(raw: str) -> str | None:
    """What the kiosk's default normalisation makes of a wedge's text, or None when it
    is not hexadecimal (then only the typed form is looked up)."""
    digits = _HEX_SEPARATORS.sub("", raw.strip())
    if not digits or not _HEX.fullmatch(digits):
        return None
    width = (len(digits) + 1) // 2
    return format(int(digits, 16), f"0{2 * width}X")


def user_of_card(session: Session, secret: bytes, raw: str) -> str | None:
    """The username whose card this is, or None."""
    forms = {normalise_card(raw)}
    wedge = wedge_card_number(raw)
    if wedge is not None:
        forms.add(wedge)
    forms.discard("")
    if not forms:
        return None
    hashes = [card_hash(secret, form) for form in sorted(forms)]
    found: str | None = session.scalar(
        select(User.username).join(Card, Card.user_id == User.id)
        .where(Card.card_hash.in_(hashes)).order_by(User.username).limit(1))
    return found
