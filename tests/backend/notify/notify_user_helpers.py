"""Shared by the user-rules tests: a configuration with notifications on, a seeded
database with the rules installed, and money movements as the terminals make them."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from backend import ledger
from backend.config import BackendConfig
from backend.db import Database
from backend.demo import DEMO_TERMINAL_NAME, seed_demo
from backend.migrate import upgrade
from backend.models import AccountKind, Notification, Terminal, User
from backend.notify.hook import install_rules
from backend.notify.templates import RenderedMail, environment, render

SECRET = b"test-secret-key"


def notify_config(db: Database, enabled: bool = True, **notifications: Any) -> BackendConfig:
    return BackendConfig.model_validate({
        "database": {"url": db.engine.url.render_as_string(hide_password=False)},
        "notifications": {"enabled": enabled, "from_address": "print@example.org",
                          "smtp": {"host": "127.0.0.1"}, **notifications}})


def seeded(db: Database, config: BackendConfig) -> Database:
    """The demo's users (alice: 10.00 virtual + 5.00 personal, French; bob: English),
    seeded before the rules are installed so that the seed itself mails nothing."""
    upgrade(db.engine)
    seed_demo(db, SECRET, "EUR")
    install_rules(db, config)
    return db


def user(session: Session, username: str) -> User:
    found = session.scalar(select(User).where(User.username == username))
    assert found is not None
    return found


def terminal_id(session: Session) -> str:
    found = session.scalar(select(Terminal.id).where(Terminal.name == DEMO_TERMINAL_NAME))
    assert found is not None
    return found


def charge(db: Database, username: str, amount: str) -> int:
    """A print: hold then capture at the demo kiosk, in one transaction."""
    with db.write() as session:
        where = terminal_id(session)
        hold = ledger.authorise(session, user(session, username), where, "EUR",
                                Decimal(amount), "report.pdf", None)
        done = ledger.capture(session, hold.id, where, "EUR", Decimal(amount), "virtual_first")
        assert done is not None
        return done.id


def adjust(db: Database, username: str, amount: str) -> None:
    with db.write() as session:
        ledger.adjust(session, user(session, username), "EUR",
                      account_kind=AccountKind.USER_PERSONAL, amount=Decimal(amount),
                      reason="test", actor="admin:test")


def mails(db: Database, kind: str) -> list[Notification]:
    with db.read() as session:
        return list(session.scalars(select(Notification).where(Notification.kind == kind)
                                    .order_by(Notification.id)))


def rendered(row: Notification) -> RenderedMail:
    return render(environment(), row.kind, row.language, row.context, "Europe/Paris")
