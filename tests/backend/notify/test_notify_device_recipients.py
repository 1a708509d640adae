"""Who gets the administrators' mails: active administrators with an e-mail in their
language, then the site's admin_addresses in English, each address once."""

from __future__ import annotations

from backend_fixtures import SECRET
from sqlalchemy import select, update

from backend import roles
from backend.config import NotificationSettings
from backend.db import Database
from backend.demo import seed_demo
from backend.migrate import upgrade
from backend.models import User
from backend.notify.recipients import administrators


def test_administrators_are_role_holders_with_an_email_and_the_shared_addresses(
        db: Database) -> None:
    upgrade(db.engine)
    seed_demo(db, SECRET)
    with db.write() as session:
        for username in ("alice", "bob", "carol"):
            roles.grant(session, username, "administrator", actor="test")
        # carol left: disabled; bob has no e-mail address; tess is no administrator.
        session.execute(update(User).where(User.username == "carol").values(status="disabled"))
        session.execute(update(User).where(User.username == "bob").values(email=None))
    settings = NotificationSettings(admin_addresses=["ops@example.org", "ALICE@example.org",
                                                     "ops@example.org"])
    with db.read() as session:
        assert administrators(session, settings) == [("alice@example.org", "fr"),
                                                     ("ops@example.org", "en")]
        assert session.scalar(select(User.email).where(User.username == "tess"))
        assert administrators(session, NotificationSettings()) == [("alice@example.org", "fr")]
