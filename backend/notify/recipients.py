"""Who gets the administrators' mails (device problems, failed deliveries).

Every active user holding the ``administrator`` role who has an e-mail address, in that
user's language, plus the site's ``admin_addresses`` (in English: a shared mailbox has
no language of its own), each address once.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from backend.config import NotificationSettings
from backend.models import User, UserRole


def administrators(session: Session,
                   settings: NotificationSettings) -> list[tuple[str, str]]:
    """(address, language) of every administrator to tell, without duplicates."""
    users = session.scalars(
        select(User).join(UserRole, UserRole.user_id == User.id)
        .where(UserRole.role == "administrator", User.status == "active",
               User.email.is_not(None)).order_by(User.id))
    found: dict[str, tuple[str, str]] = {}
    for user in users:
        if user.email:
            found.setdefault(user.email.lower(), (user.email, user.language or "en"))
    for address in settings.admin_addresses:
        found.setdefault(address.lower(), (address, "en"))
    return list(found.values())
