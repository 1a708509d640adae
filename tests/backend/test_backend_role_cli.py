"""Issue 16 (BACK): `printkiosk backend role grant|revoke|list` as a real process, on
SQLite and PostgreSQL: audited as cli:<login>, one clear line for an unknown user or role."""

from __future__ import annotations

import getpass
import os
import subprocess
import sys
from pathlib import Path

from backend_fixtures import SECRET, Backend, write_config
from pg_cluster import free_port
from sqlalchemy import select

from backend.config import SECRET_ENV
from backend.models import AuditEntry


def _cli(backend: Backend, tmp_path: Path, *words: str) -> subprocess.CompletedProcess[str]:
    url = backend.db.engine.url.render_as_string(hide_password=False)
    config = write_config(tmp_path / "cli.toml", url, free_port())
    # the form the operator's guide gives: the options between the words
    argv = [*words[:2], "--config", str(config), *words[2:]]
    return subprocess.run([sys.executable, "-m", "printkiosk", "backend", *argv],
                          capture_output=True, text=True, timeout=60, check=False,
                          env={**os.environ, SECRET_ENV: SECRET.decode()})


def test_grant_list_revoke_audited_as_the_operator(backend: Backend, tmp_path: Path) -> None:
    granted = _cli(backend, tmp_path, "role", "grant", "bob", "technician")
    assert granted.returncode == 0, granted.stderr
    assert granted.stdout.startswith("granted technician to bob")
    again = _cli(backend, tmp_path, "role", "grant", "bob", "technician")
    assert again.returncode == 0 and "already has the role technician" in again.stdout
    listed = _cli(backend, tmp_path, "role", "list")
    assert listed.returncode == 0, listed.stderr
    lines = listed.stdout.splitlines()
    assert lines[0].split() == ["USER", "NAME", "ROLE"]
    assert [line.split()[0] + " " + line.split()[-1] for line in lines[1:3]] == [
        "bob technician", "tess technician"]  # tess: the demo technician
    assert lines[-1] == "2 role grants"
    revoked = _cli(backend, tmp_path, "role", "revoke", "bob", "technician")
    assert revoked.returncode == 0 and revoked.stdout.startswith("revoked technician from bob")
    answer = backend.client.post("/api/v1/sessions", json={"card": "1002"},
                                 headers=backend.headers())
    assert answer.json()["user"]["roles"] == []
    with backend.db.read() as session:
        audited = session.execute(select(AuditEntry.actor, AuditEntry.action).where(
            AuditEntry.subject == "bob", AuditEntry.action.like("user.role_%"))
            .order_by(AuditEntry.id)).all()
    actor = f"cli:{getpass.getuser()}"
    assert [tuple(row) for row in audited] == [(actor, "user.role_grant"),
                                               (actor, "user.role_revoke")]


def test_an_unknown_user_or_role_is_one_line_and_changes_nothing(
        backend: Backend, tmp_path: Path) -> None:
    user = _cli(backend, tmp_path, "role", "grant", "zed", "technician")
    role = _cli(backend, tmp_path, "role", "grant", "bob", "wizard")
    usage = _cli(backend, tmp_path, "role", "grant", "bob")
    assert (user.returncode, role.returncode, usage.returncode) == (2, 2, 2)
    assert user.stderr.strip() == "printkiosk backend role: no user 'zed'; nothing changed"
    assert role.stderr.strip() == ("printkiosk backend role: role 'wizard' is not one of "
                                   "technician, cashier, administrator, auditor; nothing changed")
    assert "role grant USERNAME ROLE" in usage.stderr and "nothing changed" in usage.stderr
    with backend.db.read() as session:
        assert session.scalar(select(AuditEntry.id).where(
            AuditEntry.action.like("user.role_%"), AuditEntry.subject != "tess")) is None
