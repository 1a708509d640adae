"""``printkiosk backend fleet``: the registry's rules from the command line, refusals
worded with the option at fault, exit 2 and nothing changed."""

from __future__ import annotations

from pathlib import Path

import pytest
from backend_fixtures import write_config
from sqlalchemy import select

from backend.app import prepare_database
from backend.db import Database
from backend.models import AuditEntry, Client, Device, Site
from printkiosk.cli import main


def test_clients_sites_and_devices_from_the_command_line(
        db: Database, database_url: str, tmp_path: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    prepare_database(db, "EUR")
    with db.write() as session:
        session.add(Device(code="LIB-MFP-1", name="LIB-MFP-1"))
    config = str(write_config(tmp_path / "backend.toml", database_url, 8470))

    def fleet(*words: str) -> tuple[int, str, str]:
        code = main(["backend", "fleet", "--config", config, *words])
        out, err = capsys.readouterr()
        return code, out, err

    assert fleet("client-add", "UNI", "--name", "Demo University", "--billing-day", "5")[0] == 0
    code, _, err = fleet("client-add", "UNI", "--name", "Again")
    assert code == 2 and "the code 'UNI' is already used; nothing changed" in err
    code, _, err = fleet("client-add", "ACME", "--name", "Acme", "--billing-day", "31")
    assert code == 2 and "--billing-day 31: a day of the month from 1 to 28" in err
    code, _, err = fleet("site-add", "LIB", "--client", "NOPE", "--name", "Library")
    assert code == 2 and "no client has the code 'NOPE'" in err
    assert fleet("site-add", "LIB", "--client", "UNI", "--name", "Library")[0] == 0
    code, _, err = fleet("place", "LIB-MFP-1", "--site", "NOWHERE")
    assert code == 2 and "no site has the code 'NOWHERE'" in err
    assert fleet("place", "LIB-MFP-1", "--site", "LIB")[0] == 0
    assert fleet("device-edit", "LIB-MFP-1", "--model", "HP M607", "--serial", "CNB1")[0] == 0
    code, out, _ = fleet("devices")
    assert code == 0 and "LIB-MFP-1  LIB   HP M607  CNB1" in out
    code, out, _ = fleet("clients")
    assert code == 0 and "Demo University" in out and " 5 " in out
    assert fleet("bogus")[0] == 2
    with db.read() as session:
        assert [c.code for c in session.scalars(select(Client))] == ["UNI"]
        assert [s.code for s in session.scalars(select(Site))] == ["LIB"]
        actors = set(session.scalars(select(AuditEntry.actor).where(
            AuditEntry.action.like("fleet.%"))))
    assert len(actors) == 1 and next(iter(actors)).startswith("cli:")
