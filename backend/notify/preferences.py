"""A user's notification preferences: read with the site's defaults, changed and audited.

Shared by /me (backend.web.me_page) and the terminal API (backend.api.notifications) so
that both show the same effective values and refuse the same inputs. A user's choice is
stored only where it differs from nothing: "use the site's threshold" is NULL, so a
later change of the site's default reaches them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy.orm import Session

from backend import ledger
from backend.audit import record
from backend.config import NotificationSettings
from backend.models import User, UserNotificationSettings
from backend.money import fmt, parse_typed_amount
from backend.notify.user_rules import settings_of


@dataclass(frozen=True)
class Preferences:
    """What the user sees: effective values, the site's threshold, whether mail works."""

    low_balance_enabled: bool
    low_balance_threshold: Decimal
    own_threshold: bool  # False: the site's threshold applies
    site_threshold: Decimal
    transactions_enabled: bool
    has_email: bool  # without an address nothing can be sent
    site_enabled: bool  # [notifications] enabled on this site

    def as_json(self) -> dict[str, Any]:
        return {"low_balance": {"enabled": self.low_balance_enabled,
                                "threshold": fmt(self.low_balance_threshold),
                                "own_threshold": self.own_threshold,
                                "site_threshold": fmt(self.site_threshold)},
                "transactions": {"enabled": self.transactions_enabled},
                "email": self.has_email, "notifications_enabled": self.site_enabled}


def read(session: Session, user: User, site: NotificationSettings) -> Preferences:
    """The effective preferences (a user with no row has the site's defaults)."""
    row = session.get(UserNotificationSettings, user.id)
    low, alerts = site.low_balance, site.transactions
    own = row.low_balance_threshold if row is not None else None
    return Preferences(
        low_balance_enabled=(low.enabled if row is None or row.low_balance_enabled is None
                             else row.low_balance_enabled),
        low_balance_threshold=low.threshold_amount if own is None else own,
        own_threshold=own is not None, site_threshold=low.threshold_amount,
        transactions_enabled=(alerts.default if row is None or row.transactions_enabled is None
                              else row.transactions_enabled),
        has_email=bool(user.email), site_enabled=site.enabled)


def change(session: Session, user: User, *, low_balance_enabled: bool,
           low_balance_threshold: Decimal | None, transactions_enabled: bool,
           actor: str, origin: str) -> dict[str, Any]:
    """Save the user's choices (``low_balance_threshold`` None: the site's); the audit
    row lists what changed (nothing changed: no row). Returns the changes.

    Under the user's lock, like the rules: a charge at the same moment may be creating
    the same row (the first movement of a user who never chose)."""
    ledger.lock_user(session, user.id)
    row = settings_of(session, user.id)
    wanted: dict[str, Any] = {"low_balance_enabled": low_balance_enabled,
                              "low_balance_threshold": low_balance_threshold,
                              "transactions_enabled": transactions_enabled}
    changes: dict[str, Any] = {}
    for name, value in wanted.items():
        before = getattr(row, name)
        if before != value:
            changes[name] = {"from": _shown(before), "to": _shown(value)}
            setattr(row, name, value)
    if changes:
        record(session, actor, "user.notifications", user.username, changes, origin=origin)
    session.flush()
    return changes


def _shown(value: object) -> object:
    return fmt(value) if isinstance(value, Decimal) else value


class ThresholdRefused(ValueError):
    """A threshold typed on /me that is not an amount; ``reason``: "negative",
    "decimals" (more than two), "too_large" or "not_amount"."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


_TYPED = re.compile(r"-?[0-9]+([.,][0-9]*)?")


def parse_threshold(raw: str) -> Decimal | None:
    """A threshold as a person types it ("2.50", "2,50"; empty: the site's), or the
    reason it is refused, so the page can say what is wrong with it."""
    text = raw.strip()
    if not text:
        return None
    try:
        return parse_typed_amount(text)
    except ValueError:
        pass
    if _TYPED.fullmatch(text) is None:
        raise ThresholdRefused("not_amount")
    if text.startswith("-"):
        raise ThresholdRefused("negative")
    if len(re.split(r"[.,]", text)[-1]) > 2 and re.search(r"[.,]", text):
        raise ThresholdRefused("decimals")
    raise ThresholdRefused("too_large")
