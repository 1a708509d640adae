"""Users from a directory CSV: all or nothing, line-numbered errors, cards by keyed hash."""

from __future__ import annotations

from backend_fixtures import SECRET, Backend
from sqlalchemy import func, select

from backend.demo import DEMO_USERS
from backend.models import AuditEntry, Card, User, UserRole
from backend.users_import import import_users_csv

GOOD = """username,display_name,email,language,groups,cost_centre,status,cards,overdraft_limit
dave,Dave Dubois,dave@example.org,fr,staff;library,CC100,active,04 aa bb cc,1.50
erin,Erin Evans,,en,,,disabled,,
"""


def _users(backend: Backend) -> int:
    with backend.db.read() as session:
        return int(session.scalar(select(func.count()).select_from(User)) or 0)


def test_import_creates_users_with_cards_groups_and_overdraft(backend: Backend) -> None:
    report = import_users_csv(backend.db, GOOD, SECRET, actor="admin:test")
    assert report.applied and report.created == ["dave", "erin"]
    session_answer = backend.client.post("/api/v1/sessions", headers=backend.headers(),
                                         json={"card": "04AABBCC"})
    assert session_answer.status_code == 200
    body = session_answer.json()
    assert body["user"] == {"username": "dave", "display_name": "Dave Dubois",
                            "language": "fr", "groups": ["library", "staff"],
                            "roles": []}
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
    report = import_users_csv(backend.db, bad, SECRET, actor="admin:test")
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
    report = import_users_csv(backend.db, bad, SECRET, actor="admin:test")
    assert report.errors == [
        "line 1: unknown column(s): shoe_size (allowed: username, display_name, email, "
        "language, groups, cost_centre, status, cards, overdraft_limit, roles)",
        "line 2: cards: '1001' belongs to another user",
        "line 3: username: 'jo hn' must be 1-100 characters without spaces",
    ]
    assert _users(backend) == before
    own = import_users_csv(backend.db, "username,display_name,cards\nalice,Alice,1001\n",
                           SECRET, actor="admin:test")
    assert own.errors == [] and own.updated == ["alice"]  # her own card is no clash


def test_dry_run_writes_nothing(backend: Backend) -> None:
    report = import_users_csv(backend.db, GOOD, SECRET, actor="admin:test", dry_run=True)
    assert report.created == ["dave", "erin"] and not report.applied
    with backend.db.read() as session:
        # only the demo users' cards
        assert session.scalar(select(func.count()).select_from(Card)) == len(DEMO_USERS)


def _groups_of(backend: Backend, username: str) -> list[str]:
    with backend.db.read() as session:
        user = session.scalar(select(User).where(User.username == username))
        assert user is not None
        return sorted(group.name for group in user.groups)


def test_an_empty_groups_cell_keeps_the_groups_and_a_dash_clears_them(backend: Backend) -> None:
    """Issue 12 item 11a: a directory export with a blank groups cell must not strip the
    user's quota groups; "-" is the explicit way to remove them all."""
    assert import_users_csv(backend.db, GOOD, SECRET, actor="admin:test").applied
    assert _groups_of(backend, "dave") == ["library", "staff"]
    blank = import_users_csv(backend.db, "username,display_name,groups\ndave,Dave D.,\n",
                             SECRET, actor="admin:test")
    assert blank.applied and blank.updated == ["dave"]
    assert _groups_of(backend, "dave") == ["library", "staff"]
    import_users_csv(backend.db, "username,display_name,groups\ndave,Dave D.,-\n", SECRET,
                     actor="admin:test")
    assert _groups_of(backend, "dave") == []
    import_users_csv(backend.db, "username,display_name,groups\ndave,Dave D.,lab\n", SECRET,
                     actor="admin:test")
    assert _groups_of(backend, "dave") == ["lab"]


def _roles_of(backend: Backend, username: str) -> list[str]:
    with backend.db.read() as session:
        return list(session.scalars(select(UserRole.role).join(User).where(
            User.username == username).order_by(UserRole.role)))


def test_a_roles_column_sets_keeps_and_clears_roles(backend: Backend) -> None:
    """Issue 16: technicians provisioned from the directory; ";" or spaces separate roles,
    an empty cell keeps them (as for groups), "-" removes them all."""
    report = import_users_csv(backend.db, "username,display_name,roles\n"
                              "dave,Dave,technician; cashier\nerin,Erin,administrator technician\n"
                              "fay,Fay,\n", SECRET, actor="admin:test")
    assert report.applied, report.errors
    assert _roles_of(backend, "dave") == ["cashier", "technician"]
    assert _roles_of(backend, "erin") == ["administrator", "technician"]
    assert _roles_of(backend, "fay") == []
    with backend.db.read() as session:
        audit = session.scalars(select(AuditEntry.details).where(
            AuditEntry.action == "users.import")).one()
    assert audit is not None and audit["roles"] == {"dave": ["cashier", "technician"],
                                                    "erin": ["administrator", "technician"]}
    import_users_csv(backend.db, "username,display_name,roles\ndave,Dave,\nerin,Erin,-\n",
                     SECRET, actor="admin:test")
    assert _roles_of(backend, "dave") == ["cashier", "technician"]
    assert _roles_of(backend, "erin") == []
    import_users_csv(backend.db, "username,display_name,roles\ndave,Dave,administrator\n", SECRET,
                     actor="admin:test")
    assert _roles_of(backend, "dave") == ["administrator"]


def test_an_unknown_role_is_a_line_error_and_nothing_is_written(backend: Backend) -> None:
    report = import_users_csv(backend.db, "username,display_name,roles\n"
                              "dave,Dave,technician\nerin,Erin,technician;root\n"
                              "fay,Fay,technician -\n", SECRET, actor="admin:test")
    assert not report.applied
    assert report.errors == [
        "line 3: roles: 'root' is not one of technician, cashier, administrator, auditor "
        "('-' alone removes every role)",
        "line 4: roles: '-' is not one of technician, cashier, administrator, auditor "
        "('-' alone removes every role)"]
    assert _roles_of(backend, "dave") == []


def test_hostile_cells_are_refused_with_line_and_column(backend: Backend) -> None:
    """Issue 12 item 11a: NUL and control characters, extra values and a cell over 128 KiB
    are line-numbered errors, and nothing of the file is written."""
    before = _users(backend)
    hostile = ("username,display_name,email\n"
               "nul,Nul\x00Name,\n"
               "extra,Extra,extra@example.org,surplus\n"
               "tab,Tab\tName,\n"
               f"huge,Huge,{'x' * (128 * 1024 + 1)}\n"
               "late,Late,\n")
    report = import_users_csv(backend.db, hostile, SECRET, actor="admin:test")
    assert report.errors == [
        "line 2: display_name: contains the control character U+0000 (tabs, line breaks "
        "and NUL are not allowed in a cell)",
        "line 3: 4 values for 3 columns",
        "line 4: display_name: contains the control character U+0009 (tabs, line breaks "
        "and NUL are not allowed in a cell)",
        "line 5: not a readable CSV line: a cell longer than 128 KiB (the lines after it "
        "were not checked)",
    ]
    assert not report.applied and _users(backend) == before


def test_a_file_that_is_not_utf8_names_its_line_and_column(backend: Backend) -> None:
    latin1 = "username,display_name\nzoe,Zoé\nyann,Yann\n".encode("latin-1")
    report = import_users_csv(backend.db, latin1, SECRET, actor="admin:test")
    assert report.errors == ["line 2: column 7: not UTF-8 (byte 0xe9); save the file as "
                             "UTF-8 CSV"]
    bom = "\ufeffusername,display_name\nzoe,Zoé\n".encode()
    assert import_users_csv(backend.db, bom, SECRET, actor="admin:test").created == ["zoe"]
