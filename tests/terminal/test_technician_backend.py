"""Technician mode against a real backend process (demo data, SQLite): the demo
technician's card opens technician mode, a change made at the desk reaches the backend's
audit log through the outbox, the backend check, and enrolment with a real one-time key
after which the restarted core talks with the new token."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from backend_process import BackendProcess
from technician_kiosk import kiosk_file

from backend.demo import DEMO_TERMINAL_TOKEN
from terminal.config_store import write_atomic
from terminal.session import SessionState
from terminal.technician_types import Saved, Technician
from terminal.wiring import Terminal, TerminalFactory

REPO = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.peer


def site(tmp_path: Path, backend: BackendProcess) -> Path:
    path = kiosk_file(tmp_path, **{'url = "http://127.0.0.1:8470"': f'url = "{backend.url}"'})
    write_atomic(tmp_path / "terminal-token", DEMO_TERMINAL_TOKEN + "\n", mode=0o600,
                 keep_previous=False)
    return path


@pytest.fixture
def terminal(tmp_path: Path, backend_process: BackendProcess,
             monkeypatch: pytest.MonkeyPatch) -> Iterator[Terminal]:
    monkeypatch.delenv("PRINTKIOSK_TERMINAL_TOKEN", raising=False)
    built = TerminalFactory(site(tmp_path, backend_process)).build()
    built.card_reader.start(built.session.present_card)
    try:
        yield built
    finally:
        built.close()


def audit(backend: BackendProcess) -> list[tuple[str, str, dict[str, object]]]:
    with sqlite3.connect(backend.data_dir / "backend.sqlite3") as db:
        rows = db.execute("SELECT actor, action, details FROM audit_log WHERE action LIKE "
                          "'technician.%' ORDER BY id").fetchall()
    return [(row[0], row[1], json.loads(row[2])) for row in rows]


def wait_for(condition, seconds: float = 15.0) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def test_tess_badges_changes_a_setting_and_the_audit_log_has_it(
    terminal: Terminal, backend_process: BackendProcess,
) -> None:
    assert terminal.typed_card is not None and terminal.technician is not None
    terminal.typed_card("1009")  # the demo technician's card
    wait_for(lambda: terminal.session.view.state is not SessionState.IDENTIFYING)
    view = terminal.session.view
    assert view.state is SessionState.TECHNICIAN, view
    assert view.technician == Technician("tess", "Tess Technician", "card")
    saved = terminal.technician.save(view.technician, {"printer.name": "Lobby MFP"})
    assert isinstance(saved, Saved)
    assert terminal.technician.drain_now().pending == 0
    [(actor, action, details)] = audit(backend_process)
    assert actor.startswith("technician:tess@terminal:")
    assert action == "technician.settings.change"
    assert details == {"changes": [["printer.name", "Library MFP (2nd floor)", "Lobby MFP"]]}


def test_a_local_pin_change_is_audited_as_the_local_technician(
    terminal: Terminal, backend_process: BackendProcess,
) -> None:
    assert terminal.technician is not None
    local = Technician("local-technician", "Local technician", "local_pin")
    assert terminal.technician.print_test_page(local).code == "printer_unavailable"  # no CUPS
    assert isinstance(terminal.technician.save(local, {"terminal.billing_code": "optional"}),
                      Saved)
    terminal.technician.drain_now()
    [(actor, action, _)] = audit(backend_process)
    assert actor.startswith("local-technician@terminal:") and action.endswith("change")


def test_the_backend_check_against_the_real_backend(terminal: Terminal,
                                                    backend_process: BackendProcess) -> None:
    assert terminal.technician is not None
    check = terminal.technician.check_backend()
    assert check.reachable and check.token_valid is True
    assert check.terminal_name == "demo kiosk"
    assert check.latency_ms is not None and check.latency_ms < 5000
    assert check.clock_skew_s is not None and abs(check.clock_skew_s) < 2.0  # one machine


def test_a_bad_token_is_told_apart_from_an_unreachable_backend(
    tmp_path: Path, backend_process: BackendProcess,
) -> None:
    path = site(tmp_path, backend_process)
    bad = TerminalFactory(path, token_for=lambda config: "not-a-token").build()
    try:
        assert bad.technician is not None
        check = bad.technician.check_backend()
        assert check.reachable and check.token_valid is False
    finally:
        bad.close()
    backend_process.stop()
    down = TerminalFactory(path).build()
    try:
        assert down.technician is not None
        check = down.technician.check_backend()
        assert not check.reachable and check.token_valid is None
    finally:
        down.close()


def test_enrolment_with_a_real_key_writes_a_token_the_restarted_core_uses(
    tmp_path: Path, backend_process: BackendProcess, monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("PRINTKIOSK_TERMINAL_TOKEN", raising=False)
    key = subprocess.run(
        [sys.executable, "-m", "printkiosk", "backend", "enrolment-key", "--config",
         str(backend_process.data_dir / "backend.toml")],
        cwd=REPO, capture_output=True, text=True, timeout=60, check=True,
    ).stdout.splitlines()[2].split()[0]  # the row under the KEY header
    path = site(tmp_path, backend_process)
    token_file = tmp_path / "terminal-token"
    token_file.write_text("")  # a new kiosk: no token yet
    factory = TerminalFactory(path, token_for=lambda config: token_file.read_text().strip())
    terminal = factory.build()
    assert terminal.technician is not None
    tess = Technician("tess", "Tess Technician", "pin")
    result = terminal.technician.enrol(tess, key)
    assert result.code is None and result.terminal_id, result
    assert token_file.stat().st_mode & 0o777 == 0o600
    again = terminal.technician.enrol(tess, key)
    assert again.code == "enrolment_key_used"
    new = factory.restart(terminal)
    assert isinstance(new, Terminal)
    try:
        assert new.technician is not None
        check = new.technician.check_backend()
        assert check.token_valid is True and check.terminal_name == "Library kiosk 1"
        assert new.technician.drain_now().pending == 0  # the enrolment report, new token
        actions = [action for _, action, _ in audit(backend_process)]
        assert actions == ["technician.enrolment"]
    finally:
        new.close()
