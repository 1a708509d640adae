"""What the demo gives technician mode (issue 16): the kiosk file it runs from, with
the token beside it, kept across runs; the SNMP agent serving the demo's own printer
recording; the annex queue to re-point the kiosk to."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from backend.demo import DEMO_TERMINAL_TOKEN
from drivers.snmp import CommunityAuth, SnmpTarget, SnmpVersion, poll_printer
from printkiosk.commands import demo_snmp
from printkiosk.commands.demo import (
    DEMO_ANNEX_QUEUE,
    DEMO_JOBS,
    DEMO_LOCAL_PIN,
    demo_kiosk_config,
    write_demo_kiosk_file,
)
from printkiosk.commands.demo_snmp import DEMO_PAGES, start_demo_snmp, start_demo_snmp_or_none
from terminal.technician_pin import LocalPin
from terminal.wiring import check_kiosk_file, load_checked_config, terminal_token


def test_the_demo_kiosk_file_is_the_shipped_one_with_the_demo_changes_and_a_0600_token(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("PRINTKIOSK_TERMINAL_TOKEN", raising=False)
    path = write_demo_kiosk_file(8470, tmp_path, None)
    text = path.read_text(encoding="utf-8")
    assert "Validate with: printkiosk doctor" in text  # the shipped comments are kept
    config, problems = check_kiosk_file(path)
    assert problems == [] and config is not None
    # what the in-memory demo config says, the file says (but the token's file)
    shipped = demo_kiosk_config(8470, tmp_path, None)
    assert config.model_dump(exclude={"backend", "technician"}) == \
        shipped.model_dump(exclude={"backend", "technician"})
    assert config.backend.url == "http://127.0.0.1:8470"
    token = tmp_path / "terminal-token"
    assert config.backend.token_file == str(token)
    assert stat.S_IMODE(token.stat().st_mode) == 0o600
    assert terminal_token(load_checked_config(path)) == DEMO_TERMINAL_TOKEN
    # the local technician PIN of the demo, hashed in a 0600 file the kiosk file names
    assert config.technician.local_pin_file is not None
    pin_file = Path(config.technician.local_pin_file)
    assert stat.S_IMODE(pin_file.stat().st_mode) == 0o600
    assert DEMO_LOCAL_PIN not in pin_file.read_text(encoding="utf-8")
    local = LocalPin(pin_file, tmp_path / "state")
    assert local.check(DEMO_LOCAL_PIN) is None
    refusal = local.check("0000")
    assert refusal is not None and refusal.code == "pin_invalid"


def test_a_technicians_change_survives_a_rerun_and_this_runs_ports_are_refreshed(
    tmp_path: Path,
) -> None:
    path = write_demo_kiosk_file(8470, tmp_path, None)
    edited = path.read_text(encoding="utf-8").replace(
        'name = "Library kiosk 1"', 'name = "Annex kiosk"')
    path.write_text(edited, encoding="utf-8")
    (tmp_path / "terminal-token").write_text("token-from-an-enrolment\n", encoding="utf-8")
    write_demo_kiosk_file(9999, tmp_path, None)
    config = load_checked_config(path)
    assert config.terminal.name == "Annex kiosk"
    assert config.backend.url == "http://127.0.0.1:9999"
    assert (tmp_path / "terminal-token").read_text(encoding="utf-8") == \
        "token-from-an-enrolment\n"


def test_the_annex_queue_holds_a_job_of_alice_for_a_re_pointed_kiosk() -> None:
    annex = [job for job in DEMO_JOBS if job.queue == DEMO_ANNEX_QUEUE]
    assert [(job.user, job.title) for job in annex] == [("alice", "Annex handout")]


@pytest.mark.peer
def test_the_demo_snmp_agent_serves_counters_four_toners_and_one_alert(
    tmp_path: Path,
) -> None:
    if not demo_snmp.SNMPSIM.exists():
        pytest.skip("snmpsim is not installed in this environment")
    agent = start_demo_snmp(tmp_path)
    try:
        result = poll_printer(SnmpTarget("127.0.0.1", port=agent.port, auth=CommunityAuth(
            agent.community, SnmpVersion.V2C)))
    finally:
        agent.close()
    assert result.reachable, result.reason
    assert result.counters is not None and result.counters.total == DEMO_PAGES
    levels = {supply.description: supply.percent for supply in result.supplies}
    assert levels == {"Black toner": 82, "Cyan toner": 45, "Magenta toner": 8,
                      "Yellow toner": 64}
    assert result.status is not None
    assert [alert.description for alert in result.status.alerts] == ["Magenta toner low"]
    assert agent.process.poll() is not None  # stopped


def test_without_snmpsim_the_demo_says_so_in_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setattr(demo_snmp, "SNMPSIM", tmp_path / "no-snmpsim")
    assert start_demo_snmp_or_none(tmp_path) is None
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and "snmpsim is not installed" in lines[0], lines
