"""The rules of the people administration (``backend.people``), the audit log query and
the import preview, on SQLite and PostgreSQL with the demo data: what is refused, what is
audited with who and from where, and that an adjustment posts once per operation id."""

from __future__ import annotations

import uuid
from datetime import timedelta
from decimal import Decimal

import pytest
from backend_fixtures import SECRET, Backend
from sqlalchemy import func, select

from backend import import_preview, people
from backend.audit import record
from backend.audit_query import AuditFilter, actions, read_page
from backend.db import Database
from backend.models import (
    AccountKind,
    AuditEntry,
    Card,
    Group,
    LedgerTransaction,
    QuotaRule,
    User,
    WebSession,
    utcnow,
)
from backend.security import card_hash
from backend.users_import import import_users_csv
from backend.web.sessions import open_session

ADMIN = "staff:admin"
WHERE = "web:192.0.2.7"


@pytest.fixture
def demo(backend: Backend) -> Database:
    """The migrated database with the demo data (the ``backend`` fixture seeds it)."""
    return backend.db


def _user(session, username: str) -> User:  # type: ignore[no-untyped-def]
    return session.scalars(select(User).where(User.username == username)).one()


def _audit(db: Database, action: str) -> list[AuditEntry]:
    with db.read() as session:
        return list(session.scalars(select(AuditEntry).where(AuditEntry.action == action)
                                    .order_by(AuditEntry.id)))


def test_find_users_searches_names_and_mails_filters_and_pages(demo: Database) -> None:
    with demo.write() as session:
        _user(session, "bob").email = "Robert@Example.org"
        _user(session, "carol").status = "disabled"
    with demo.read() as session:
        assert [u.username for u in people.find_users(session, "MARTIN").users] == ["alice"]
        assert [u.username for u in people.find_users(session, "robert@").users] == ["bob"]
        assert people.find_users(session, "%").total == 0  # a wildcard is a character
        assert [u.username for u in people.find_users(session, status="disabled").users] == [
            "carol"]
        staff = session.scalars(select(Group).where(Group.name == "staff")).one()
        members = [u.username for u in people.find_users(session, group_id=staff.id).users]
        everyone = people.find_users(session, per_page=2, page=99)
    assert members == ["carol"]
    assert (everyone.page, everyone.pages, len(everyone.users)) == (
        everyone.pages, -(-everyone.total // 2), everyone.total - 2 * (everyone.pages - 1))


def test_a_card_is_normalised_hashed_never_stored_or_audited_in_clear(demo: Database) -> None:
    with demo.write() as session:
        card = people.add_card(session, SECRET, _user(session, "bob"), " 04 ab cd ", "spare",
                               actor=ADMIN, origin=WHERE)
        assert card.card_hash == card_hash(SECRET, "04ABCD")
    with demo.write() as session, pytest.raises(people.Refused) as own:
        people.add_card(session, SECRET, _user(session, "bob"), "04abcd", "",
                        actor=ADMIN, origin=WHERE)
    with demo.write() as session, pytest.raises(people.Refused) as taken:
        people.add_card(session, SECRET, _user(session, "bob"), "1001", "",
                        actor=ADMIN, origin=WHERE)
    with demo.write() as session, pytest.raises(people.Refused) as empty:
        people.add_card(session, SECRET, _user(session, "bob"), "   ", "",
                        actor=ADMIN, origin=WHERE)
    assert (own.value.code, taken.value.code, empty.value.code) == (
        "card_own", "card_taken", "card_empty")
    [added] = _audit(demo, "user.card_add")
    assert (added.actor, added.origin, added.subject) == (ADMIN, WHERE, "bob")
    assert "04ABCD" not in str(added.details) and "04abcd" not in str(added.details)
    with demo.write() as session, pytest.raises(people.Refused) as other:
        people.remove_card(session, _user(session, "alice"), card.id, actor=ADMIN, origin=WHERE)
    assert other.value.code == "card_unknown"
    with demo.write() as session:
        people.remove_card(session, _user(session, "bob"), card.id, actor=ADMIN, origin=WHERE)
        assert session.get(Card, card.id) is None
    assert [row.origin for row in _audit(demo, "user.card_remove")] == [WHERE]


def test_an_adjustment_posts_once_per_operation_and_needs_a_reason(demo: Database) -> None:
    operation = uuid.uuid4().hex

    def post(amount: str, reason: str, op: str = operation) -> tuple[LedgerTransaction, bool]:
        with demo.write() as session:
            return people.adjust_once(session, _user(session, "bob"), "EUR", operation=op,
                                      account_kind=AccountKind.USER_PERSONAL,
                                      amount=Decimal(amount), reason=reason, actor=ADMIN,
                                      origin=WHERE)

    for amount, reason, code in (("1.00", "  ", "reason_required"), ("0", "x", "amount_zero"),
                                 ("1.00", "x", "operation_invalid")):
        with pytest.raises(people.Refused) as refused:
            post(amount, reason, operation if code != "operation_invalid" else "not-an-id")
        assert refused.value.code == code
    first, posted = post("3.50", "jam on tray 2")
    again, posted_again = post("3.50", "jam on tray 2")
    assert (posted, posted_again, again.id) == (True, False, first.id)
    with demo.read() as session:
        count = session.scalar(select(func.count()).select_from(LedgerTransaction).where(
            LedgerTransaction.kind == "adjustment"))
    assert count == 1
    assert [(row.actor, row.origin, row.details["reason"])
            for row in _audit(demo, "ledger.adjust")] == [(ADMIN, WHERE, "jam on tray 2")]
    with pytest.raises(people.Refused) as negative, demo.write() as session:
        people.adjust_once(session, _user(session, "bob"), "EUR",
                           operation=uuid.uuid4().hex,
                           account_kind=AccountKind.USER_VIRTUAL, amount=Decimal("-99"),
                           reason="too much", actor=ADMIN, origin=WHERE)
    assert (negative.value.field, negative.value.code) == ("amount", "virtual_credit_negative")


def test_roles_are_audited_and_an_administrator_keeps_their_own(demo: Database) -> None:
    with demo.write() as session:
        bob = _user(session, "bob")
        assert people.change_role(session, bob, "administrator", True, actor_user="alice",
                                  origin=WHERE)
    with demo.write() as session, pytest.raises(people.Refused) as own:
        people.change_role(session, _user(session, "bob"), "administrator", False,
                           actor_user="bob", origin=WHERE)
    with demo.write() as session, pytest.raises(people.Refused) as unknown:
        people.change_role(session, _user(session, "bob"), "wizard", True, actor_user="alice",
                           origin=WHERE)
    assert (own.value.code, unknown.value.code) == ("role_own_administrator", "role_unknown")
    with demo.write() as session:
        assert people.change_role(session, _user(session, "bob"), "administrator", False,
                                  actor_user="alice", origin=WHERE)
        assert _user(session, "bob").roles == []
    assert [(row.action, row.actor, row.origin) for row in _audit(
        demo, "user.role_grant") + _audit(demo, "user.role_revoke") if row.actor != "demo"] == [
        ("user.role_grant", "staff:alice", WHERE), ("user.role_revoke", "staff:alice", WHERE)]


def _profile(user: User, **changes: object) -> people.Profile:
    values = {"display_name": user.display_name, "email": user.email or "",
              "language": user.language, "cost_centre_id": user.cost_centre_id,
              "group_ids": tuple(sorted(g.id for g in user.groups)),
              "overdraft_limit": user.overdraft_limit, "status": user.status, **changes}
    return people.Profile(**values)  # type: ignore[arg-type]


def test_a_profile_change_audits_what_changed_and_disabling_ends_sessions(
        demo: Database) -> None:
    with demo.read() as session:
        bob_id, email = _user(session, "bob").id, _user(session, "bob").email or ""
    open_session(demo, SECRET, bob_id, "me", "web:192.0.2.1", "test")
    with demo.read() as session:
        problems = people.check_profile(session, _profile(
            _user(session, "bob"), display_name=" ", email="nope", language="de",
            status="gone", overdraft_limit=Decimal("-1"), group_ids=(999,)))
    assert sorted(p.field for p in problems) == [
        "display_name", "email", "groups", "language", "overdraft_limit", "status"]
    with demo.write() as session:
        bob = _user(session, "bob")
        changed = people.update_profile(session, bob, _profile(bob, status="disabled",
                                                               email="robert@example.org"),
                                        actor=ADMIN, origin=WHERE)
    assert changed == {"email": [email, "robert@example.org"],
                       "status": ["active", "disabled"]}
    with demo.read() as session:
        assert session.scalar(select(func.count()).select_from(WebSession).where(
            WebSession.user_id == bob_id, WebSession.ended_at.is_(None))) == 0
    [row] = _audit(demo, "user.update")
    assert (row.details, row.origin) == (changed, WHERE)


def test_a_password_reset_ends_the_web_sessions_and_a_pin_is_4_to_8_digits(
        demo: Database) -> None:
    with demo.read() as session:
        bob_id = _user(session, "bob").id
    open_session(demo, SECRET, bob_id, "me", "web:192.0.2.1", "test")
    with pytest.raises(people.Refused):
        people.hash_new_password(SECRET, "short")
    digest = people.hash_new_password(SECRET, "a long enough password")
    with demo.write() as session:
        assert people.set_password(session, _user(session, "bob"), digest, actor=ADMIN,
                                   origin=WHERE) == 1
    for bad in ("123", "123456789", "12a4", "１２３４"):
        assert people.pin_problem(bad) is not None, bad
    with demo.write() as session:
        people.set_pin(session, _user(session, "bob"), None, actor=ADMIN, origin=WHERE)
        assert _user(session, "bob").pin_hash is None
    assert [row.details for row in _audit(demo, "user.password_reset")] == [
        {"sessions_ended": 1}]
    assert len(_audit(demo, "user.pin_clear")) == 1


def test_a_group_or_cost_centre_is_deleted_only_when_unused(demo: Database) -> None:
    with demo.write() as session:
        spare = people.create_group(session, "spare", actor=ADMIN, origin=WHERE)
        staff = session.scalars(select(Group).where(Group.name == "staff")).one()
        centre = people.create_cost_centre(session, "CC9", "Physics", actor=ADMIN, origin=WHERE)
        spare_id, staff_id, centre_id = spare.id, staff.id, centre.id
        _user(session, "bob").cost_centre_id = centre_id
    for name, code in (("staff", "name_taken"), ("", "name_length")):
        with demo.write() as session, pytest.raises(people.Refused) as refused:
            people.create_group(session, name, actor=ADMIN, origin=WHERE)
        assert refused.value.code == code
    with demo.write() as session, pytest.raises(people.Refused) as members:
        people.delete_group(session, staff_id, actor=ADMIN, origin=WHERE)
    assert members.value.code == "group_has_members"
    with demo.write() as session:
        session.add(QuotaRule(group_id=spare_id, amount=Decimal("5"),
                              carry_over_cap=Decimal("5")))
    with demo.write() as session, pytest.raises(people.Refused) as used:
        people.delete_group(session, spare_id, actor=ADMIN, origin=WHERE)
    assert used.value.code == "group_in_use"
    with demo.write() as session, pytest.raises(people.Refused) as centre_members:
        people.delete_cost_centre(session, centre_id, actor=ADMIN, origin=WHERE)
    assert centre_members.value.values == {"count": "1"}
    with demo.write() as session:
        session.execute(QuotaRule.__table__.delete().where(QuotaRule.group_id == spare_id))
        people.rename_group(session, spare_id, "spare room", actor=ADMIN, origin=WHERE)
        people.delete_group(session, spare_id, actor=ADMIN, origin=WHERE)
        _user(session, "bob").cost_centre_id = None
        session.flush()
        people.delete_cost_centre(session, centre_id, actor=ADMIN, origin=WHERE)
    assert [row.subject for row in _audit(demo, "group.delete")] == ["spare room"]
    assert [row.details for row in _audit(demo, "group.rename")] == [{"from": "spare"}]


def test_the_audit_query_filters_orders_and_pages(demo: Database) -> None:
    now = utcnow()
    with demo.write() as session:
        for minutes, actor, action in ((30, "staff:a", "x.one"), (20, "staff:b", "x.two"),
                                       (10, "staff:a", "x.two")):
            record(session, actor, action, f"s{minutes}", at=now - timedelta(minutes=minutes),
                   origin=WHERE)
    with demo.read() as session:
        by_actor = read_page(session, AuditFilter(actor="staff:a"))
        both = read_page(session, AuditFilter(actor="staff:a", action="x.two"))
        window = read_page(session, AuditFilter(since=now - timedelta(minutes=25),
                                                until=now - timedelta(minutes=15)))
        paged = read_page(session, AuditFilter(action="x.two"), page=2, per_page=1)
        present = actions(session)
    assert [e.subject for e in by_actor.entries] == ["s10", "s30"]  # newest first
    assert [e.subject for e in both.entries] == ["s10"]
    assert [e.subject for e in window.entries] == ["s20"]
    assert (paged.page, paged.pages, [e.subject for e in paged.entries]) == (2, 2, ["s20"])
    assert {"x.one", "x.two"} <= set(present)


def test_the_preview_shows_each_line_and_the_upload_is_kept_until_applied(
        demo: Database) -> None:
    data = (b"username,display_name,language\nzoe,Zoe,fr\nbob,Bob,de\n"
            b"alice,Alice Martin,fr\n,Nobody,en\n")
    report = import_users_csv(demo, data, SECRET, actor=ADMIN, dry_run=True)
    lines = import_preview.preview(data, report.errors, "username",
                                   {"zoe": "create", "alice": "update"})
    assert [(line.line, line.key, line.action) for line in lines] == [
        (2, "zoe", "create"), (3, "bob", "error"), (4, "alice", "update"), (5, "", "error")]
    assert [(p.column, p.message) for p in lines[1].problems] == [
        ("language", "'de' is not one of en, fr")]
    assert lines[3].problems[0].column == "username"
    with demo.write() as session:
        digest = import_preview.keep(session, "users", data, "admin")
        assert import_preview.keep(session, "users", data, "admin") == digest
    with demo.read() as session:
        assert import_preview.kept(session, "users", digest) == data
        assert import_preview.kept(session, "billing_codes", digest) is None
    with demo.write() as session:
        import_preview.forget(session, "users", digest)
    with demo.read() as session:
        assert import_preview.kept(session, "users", digest) is None
