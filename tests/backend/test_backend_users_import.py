"""Users from a directory CSV: all or nothing, line-numbered errors, cards by keyed hash."""

from __future__ import annotations

from backend_fixtures import SECRET, Backend
from sqlalchemy import func, select

from backend.models import Card, User
from backend.users_import import import_users_csv

GOOD = """username,display_name,email,language,groups,cost_centre,status,cards,overdraft_limit
dave,Dave Dubois,dave@example.org,fr,staff;library,CC100,active,04 aa bb cc,1.50
erin,Erin Evans,,en,,,disabled,,
"""


def _users(backend: Backend) -> int:
    with backend.db.read() as session:
        return int(session.scalar(select(func.count()).select_from(User)) or 0)


def test_import_creates_users_with_cards_groups_and_overdraft(backend: Backend) -> None:
    with backend.db.write() as session:
        report = import_users_csv(session, GOOD, SECRET, actor="admin:test")
    assert report.applied and report.created == ["dave", "erin"]
    session_answer = backend.client.post("/api/v1/sessions", headers=backend.headers(),
                                         json={"card": "04AABBCC"})
    assert session_answer.status_code == 200
    body = session_answer.json()
    assert body["user"] == {"username": "dave", "display_name": "Dave Dubois",
                            "language": "fr", "groups": ["library", "staff"]}
    assert body["balance"]["overdraft_limit"] == "1.50"
    assert body["balance"]["available"] == "1.50"


def test_bad_lines_change_nothing(backend: Backend) -> None:
    before = _users(backend)
    bad = ("username,display_name,language,status,cards,overdraft_limit\n"
           "frank,Frank,de,active,,\n"
           "gina,,en,active,,\n"
           "hugo,Hugo,en,gone,,-1\n"
           "ivan,Ivan,en,active,1001,\n"
           "frank,Frank again,en,active,,\n")
    with backend.db.write() as session:
        report = import_users_csv(session, bad, SECRET, actor="admin:test")
    assert report.errors == [
        "line 2: language: 'de' is not one of en, fr",
        "line 3: display_name: empty",
        "line 4: status: 'gone' is not active or disabled",
        "line 4: overdraft_limit: '-1' must be >= 0",
        "line 5: cards: '1001' belongs to another user",  # Alice's: found in the same pass
        "line 6: username: 'frank' already on line 2",
    ]
    assert _users(backend) == before


def test_every_problem_of_the_file_in_one_pass(backend: Backend) -> None:
    """Issue 11 item 9: a bad header does not hide the lines' problems, and a card that is
    another user's is reported with the other problems, not in a second run."""
    before = _users(backend)
    bad = ("username,display_name,shoe_size,cards\n"
           "ivan,Ivan,42,1001\n"
           "jo hn,John,43,\n")
    with backend.db.write() as session:
        report = import_users_csv(session, bad, SECRET, actor="admin:test")
    assert report.errors == [
        "line 1: unknown column(s): shoe_size (allowed: username, display_name, email, "
        "language, groups, cost_centre, status, cards, overdraft_limit)",
        "line 2: cards: '1001' belongs to another user",
        "line 3: username: 'jo hn' must be 1-100 characters without spaces",
    ]
    assert _users(backend) == before
    with backend.db.write() as session:
        own = import_users_csv(session, "username,display_name,cards\nalice,Alice,1001\n",
                               SECRET, actor="admin:test")
    assert own.errors == [] and own.updated == ["alice"]  # her own card is no clash


def test_dry_run_writes_nothing(backend: Backend) -> None:
    with backend.db.write() as session:
        report = import_users_csv(session, GOOD, SECRET, actor="admin:test", dry_run=True)
    assert report.created == ["dave", "erin"] and not report.applied
    with backend.db.read() as session:
        assert session.scalar(select(func.count()).select_from(Card)) == 3  # the demo cards
