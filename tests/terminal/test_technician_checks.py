"""The technician's checks: the card reader (cards diverted from the session), the SNMP
probe against snmpsim serving a real recording, a test page through real CUPS (printed,
never held, never charged), the backend, the outbox, the log view and the reboot.

SNMP figures are read from the recording itself (as tests/terminal/test_release_snmp.py
does), not from the driver the probe uses.
"""

from __future__ import annotations

import logging
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from technician_kiosk import TESS, desk, kiosk_file

from terminal.fakes import FakeTechnicianBackend
from terminal.outbox import EntryKind, EntryState
from terminal.ports import BackendRejected
from terminal.session import SessionState
from terminal.technician import DeskDevices, LogRing
from terminal.technician_types import CardCheck, SnmpProbe
from terminal.wiring import Terminal, TerminalFactory
from tests.drivers.snmp.snmpsim_peer import SNMP_CORPUS, Agent

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "tests" / "drivers" / "cups"))
from cups_peers import PeerStack, running_queue  # noqa: E402

QUEUE = "techq"
LIFE_COUNT = "1.3.6.1.2.1.43.10.2.1.4.1.1"


def recorded(recording: str, oid: str) -> str:
    for line in (SNMP_CORPUS / f"{recording}.snmprec").read_text().splitlines():
        if line.startswith(oid + "|"):
            return line.split("|", 2)[2]
    raise KeyError(oid)


def built(path: Path) -> Iterator[Terminal]:
    terminal = TerminalFactory(path, token_for=lambda config: "demo-token").build()
    try:
        yield terminal
    finally:
        terminal.close()


def test_while_watched_cards_go_to_the_check_raw_and_normalised_not_to_the_session(
    tmp_path: Path,
) -> None:
    path = kiosk_file(tmp_path, **{"debounce_s = 2.0": "debounce_s = 0.0\n[card_reader.normalise]"
                                   '\ninput = "dec"\noutput = "hex"\nbytes = 4\n'})
    for terminal in built(path):
        assert terminal.technician is not None and terminal.typed_card is not None
        terminal.card_reader.start(terminal.session.present_card)
        seen: list[CardCheck] = []
        stop = terminal.technician.watch_cards(seen.append)
        terminal.typed_card("3283263748")
        terminal.typed_card("not-a-number")
        assert seen[0] == CardCheck("3283263748", format(3283263748, "08X"))
        assert seen[1].raw == "not-a-number" and seen[1].normalised == "" and seen[1].error
        assert terminal.session.view.state is SessionState.IDLE  # nobody logged in
        stop()
        terminal.typed_card("3283263748")
        assert terminal.session.view.state is not SessionState.IDLE  # the session again
        assert len(seen) == 2


@pytest.mark.peer
def test_the_snmp_probe_shows_the_recorded_counters_supplies_and_alerts(
    tmp_path: Path, snmp_agent: Agent,
) -> None:
    path = kiosk_file(tmp_path, **{
        "enabled = false\nhost = \"192.0.2.10\"\nport = 161":
            f'enabled = true\nhost = "{snmp_agent.host}"\nport = {snmp_agent.port}',
        'community = "public"': 'community = "sharp"'})
    for terminal in built(path):
        assert terminal.technician is not None
        probe = terminal.technician.probe_snmp()
        assert probe.code is None, probe.detail
        assert dict(probe.counters)["total"] == int(recorded("sharp", LIFE_COUNT))
        toner = sorted(s.percent for s in probe.supplies if "Toner" in s.name
                       and s.percent is not None)
        assert toner[:4] == [19, 34, 40, 55]  # MANIFEST: sharp toner C55 M19 Y40 K34
        assert any(s.percent is None and s.state == "unknown" for s in probe.supplies)
        assert "lowToner" in probe.alerts and probe.status


def test_snmp_off_is_an_answer_and_cups_away_still_offers_the_files_queue(
    tmp_path: Path,
) -> None:
    from tests.drivers.snmp.snmpsim_peer import free_udp_port

    path = kiosk_file(tmp_path, **{"cups_port = 631": f"cups_port = {free_udp_port()}"})
    for terminal in built(path):
        assert terminal.technician is not None
        assert terminal.technician.probe_snmp().code == "snmp_disabled"
        assert terminal.technician.choices("printer.queue") == ["library-mfp"]
        page = terminal.technician.print_test_page(TESS)
        assert page.code == "printer_unavailable" and page.detail


@pytest.mark.peer
def test_snmp_probe_of_an_agent_that_does_not_answer(tmp_path: Path) -> None:
    from tests.drivers.snmp.snmpsim_peer import free_udp_port

    path = kiosk_file(tmp_path, **{
        "enabled = false\nhost = \"192.0.2.10\"\nport = 161":
            f'enabled = true\nhost = "127.0.0.1"\nport = {free_udp_port()}\ntimeout_s = 0.3'
            "\nretries = 0"})
    for terminal in built(path):
        assert terminal.technician is not None
        probe = terminal.technician.probe_snmp()
        assert probe.code == "snmp_unreachable" and probe.detail


@pytest.fixture(scope="module")
def cups() -> Iterator[PeerStack]:
    with running_queue(QUEUE, "technician-cups-") as stack:
        # the kiosk's queue holds every job until released, as a real kiosk queue does
        stack.lpadmin("-p", QUEUE, "-o", "job-hold-until-default=indefinite")
        yield stack


@pytest.mark.peer
def test_a_test_page_prints_through_cups_as_technician_never_held_never_charged(
    tmp_path: Path, cups: PeerStack,
) -> None:
    import cups as pycups

    path = kiosk_file(tmp_path, **{"cups_port = 631": f"cups_port = {cups.cups_port}",
                                   'queue = "library-mfp"': f'queue = "{QUEUE}"',
                                   'hold_queue = "followme"\n': ""})
    for terminal in built(path):
        assert terminal.technician is not None
        assert QUEUE in terminal.technician.choices("printer.queue")
        result = terminal.technician.print_test_page(TESS)
        assert result.code is None, result.detail
        assert result.queue == QUEUE and result.job_id is not None
        connection = pycups.Connection(host="127.0.0.1", port=cups.cups_port)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            attrs = connection.getJobAttributes(result.job_id)
            if attrs["job-state"] in (7, 8, 9):
                break
            time.sleep(0.2)
        assert attrs["job-state"] == 9, attrs  # completed: printed, not held
        assert attrs["job-originating-user-name"] == "technician"
        completed = connection.getJobs(which_jobs="completed")
        assert result.job_id in completed
        entries = terminal.charges.outbox.pending() if terminal.charges else []
        assert [e.kind for e in entries] == [EntryKind.TECHNICIAN]  # no hold, no capture
        assert entries[0].body["action"] == "test_page"
        assert entries[0].body["details"] == {"queue": QUEUE, "job_id": result.job_id}


def test_the_backend_check_times_the_call_and_measures_the_clock_skew(tmp_path: Path) -> None:
    backend = FakeTechnicianBackend(name="Library kiosk 1", skew_s=30.0)
    mode, _ = desk(kiosk_file(tmp_path), backend)
    check = mode.check_backend()
    assert check.reachable and check.token_valid and check.terminal_name == "Library kiosk 1"
    assert check.latency_ms is not None and check.latency_ms >= 0
    assert check.clock_skew_s is not None and abs(check.clock_skew_s - 30.0) < 1.0
    backend.refuse = BackendRejected("terminal_unauthorized", status=401)
    refused = mode.check_backend()
    assert refused.reachable and refused.token_valid is False
    backend.refuse, backend.down = None, True
    down = mode.check_backend()
    assert not down.reachable and down.token_valid is None and down.detail


def test_outbox_status_and_drain_now_send_the_technician_reports_once(tmp_path: Path) -> None:
    backend = FakeTechnicianBackend()
    mode, charges = desk(kiosk_file(tmp_path), backend)
    charges.use_technician_audit(backend)
    backend.down = True
    mode.save(TESS, {"terminal.name": "Lobby kiosk"})
    assert mode.outbox_status().pending == 1
    status = mode.drain_now()
    assert status.pending == 1 and status.oldest_at is not None
    assert status.last_drain_at is not None and status.last_error == "fake backend down"
    backend.down = False
    status = mode.drain_now()
    assert status.pending == 0 and status.last_error is None
    [report] = backend.reports.values()
    assert (report.technician, report.via, report.action) == ("tess", "card", "settings.change")
    assert report.details == {"changes": [["terminal.name", "Library kiosk 1", "Lobby kiosk"]]}
    assert report.at is not None and report.at <= datetime.now(UTC)
    assert mode.drain_now().pending == 0 and len(backend.reports) == 1


def test_a_refused_report_is_kept_as_refused_and_the_entries_behind_it_are_sent(
    tmp_path: Path,
) -> None:
    backend = FakeTechnicianBackend()
    _mode, charges = desk(kiosk_file(tmp_path), backend)
    charges.use_technician_audit(backend)
    backend.refuse = BackendRejected("not_a_technician", status=403)
    first = charges.record_technician({"technician": "bob", "via": "pin", "action": "reboot",
                                       "details": {}, "at": None})
    event = charges.record_event("counters", {"counters": {"total": 1}})
    charges.drain()
    assert charges.outbox.get(first.key).state is EntryState.REFUSED  # type: ignore[union-attr]
    assert charges.outbox.get(event.key).state is EntryState.SENT  # type: ignore[union-attr]
    backend.refuse = BackendRejected("rate_limited", status=429)  # not final: waits
    kept = charges.record_technician({"technician": "tess", "via": "card",
                                      "action": "reboot", "details": {}, "at": None})
    charges.drain()
    assert charges.outbox.get(kept.key).state is EntryState.PENDING  # type: ignore[union-attr]


def test_the_log_view_keeps_the_last_200_lines() -> None:
    ring = LogRing()
    log = logging.getLogger("test.technician.ring")
    log.addHandler(ring)
    log.setLevel(logging.INFO)
    try:
        for number in range(250):
            log.info("line %d", number)
    finally:
        log.removeHandler(ring)
    lines = ring.lines()
    assert len(lines) == 200 and lines[0].endswith("line 50") and lines[-1].endswith("line 249")
    assert ring.lines(3)[0].endswith("line 247")


def test_reboot_runs_the_configured_command_or_is_not_offered(tmp_path: Path) -> None:
    marker = tmp_path / "rebooted"
    path = kiosk_file(tmp_path, **{"[display]": "[technician]\nreboot_command = "
                                   f'["/bin/sh", "-c", "echo yes > {marker}"]\n\n[display]'})
    ran: list[list[str]] = []
    mode, charges = desk(path, devices=DeskDevices(
        snmp_probe=lambda: SnmpProbe(""), run=lambda argv: ran.append(argv)))
    assert mode.reboot(TESS) is None
    assert ran == [["/bin/sh", "-c", f"echo yes > {marker}"]]
    assert [e.body["action"] for e in charges.outbox.pending()] == ["reboot"]
    real, _ = desk(path)
    assert real.reboot(TESS) is None
    deadline = time.monotonic() + 10
    while not marker.exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert marker.read_text() == "yes\n"
    other = tmp_path / "other"
    other.mkdir()
    none = kiosk_file(other, **{"[display]": "[technician]\nreboot_command = []\n\n[display]"})
    unavailable, _ = desk(none)
    assert unavailable.reboot(TESS) == "reboot_unavailable"


def test_enrolment_writes_the_token_0600_and_a_used_key_is_refused(tmp_path: Path) -> None:
    backend = FakeTechnicianBackend(name="Library kiosk 1", keys=["ONE-TIME-KEY"])
    path = kiosk_file(tmp_path)
    mode, charges = desk(path, backend)
    token = tmp_path / "terminal-token"
    result = mode.enrol(TESS, "ONE-TIME-KEY")
    assert result.code is None and result.terminal_id == "t-2"
    assert token.read_text() == "token-for-Library kiosk 1\n"
    assert token.stat().st_mode & 0o777 == 0o600
    assert not (tmp_path / "terminal-token.previous").exists()  # the old token is gone
    again = mode.enrol(TESS, "ONE-TIME-KEY")
    assert again.code == "enrolment_key_used"
    assert token.read_text() == "token-for-Library kiosk 1\n"
    backend.down = True
    assert mode.enrol(TESS, "OTHER").code == "backend_unavailable"
    assert [e.body["action"] for e in charges.outbox.pending()] == ["enrolment"]


def test_the_ring_installed_at_start_keeps_info_and_warnings_still_reach_stderr() -> None:
    import subprocess

    script = ("import logging\nfrom terminal.technician import install_log_ring\n"
              "ring = install_log_ring()\nassert install_log_ring() is ring\n"
              "log = logging.getLogger('kiosk.test')\nlog.info('hello info')\n"
              "log.warning('a warning')\nprint('|'.join(ring.lines()))\n")
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          timeout=60, check=True, env={"PYTHONPATH": str(REPO)})
    assert "hello info" in done.stdout and "a warning" in done.stdout
    assert "a warning" in done.stderr and "hello info" not in done.stderr


def test_a_technician_report_waits_behind_older_entries_in_journal_order(tmp_path: Path) -> None:
    from decimal import Decimal

    from terminal.charges import ChargeBook
    from terminal.fakes import FakeLedger
    from terminal.offline import OfflinePolicy
    from terminal.outbox import Outbox

    ledger, audit = FakeLedger(), FakeTechnicianBackend()
    charges = ChargeBook(Outbox(tmp_path / "outbox.sqlite"), ledger,
                         OfflinePolicy(True, Decimal("5.00")))
    charges.use_technician_audit(audit)
    ledger.down = True
    event = charges.record_event("counters", {"counters": {"total": 7}})
    report = charges.record_technician({"technician": "tess", "via": "card",
                                        "action": "test_page", "details": {}, "at": None})
    charges.drain()
    assert audit.reports == {}  # the older event could not go: nothing after it goes
    assert [e.key for e in charges.outbox.pending()] == [event.key, report.key]
    ledger.down = False
    charges.drain()
    assert charges.outbox.pending() == [] and list(audit.reports) == [report.key]
    assert list(ledger.events) == [event.key]
