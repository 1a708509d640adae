"""The kiosk's SNMP printer port (release page counter, device reports) against snmpsim
serving real printer recordings.

Expected figures are read straight from the recordings (prtMarkerLifeCount.1.1 and
hrPrinterDetectedErrorState), not from the driver the adapter uses.
"""

from __future__ import annotations

import pytest

from drivers.snmp import CommunityAuth, SnmpTarget
from terminal.adapters import SnmpPrinter
from terminal.fakes import FakeEventJournal
from terminal.ports import PrinterUnreadable
from terminal.reporting import Reporter, ReportSchedule
from tests.drivers.snmp.snmpsim_peer import (
    SNMP_CORPUS,
    Agent,
    free_udp_port,
)

pytestmark = pytest.mark.peer
LIFE_COUNT = "1.3.6.1.2.1.43.10.2.1.4.1.1"
SERIAL = "1.3.6.1.2.1.43.5.1.1.17.1"


def recorded(recording: str, oid: str) -> str:
    path = SNMP_CORPUS / f"{recording}.snmprec"
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.startswith(oid + "|"):
            return line.split("|", 2)[2]
    raise KeyError(oid)


def counter(snmp_agent: Agent, recording: str, port: int | None = None) -> SnmpPrinter:
    return SnmpPrinter(SnmpTarget(snmp_agent.host, port or snmp_agent.port,
                                      CommunityAuth(recording), timeout_s=1.0, retries=0))


@pytest.mark.parametrize("recording", ["ricoh_mpc3002", "brother_hl5370dw", "sharp"])
def test_the_page_count_is_the_printers_life_count(snmp_agent: Agent, recording: str) -> None:
    monitor = counter(snmp_agent, recording)
    assert monitor.page_count() == int(recorded(recording, LIFE_COUNT))
    # low toner (sharp) or nothing: nothing that stops a release
    assert monitor.printer_problem() is None


def test_an_open_door_or_a_jam_refuses_the_release(snmp_agent: Agent) -> None:
    # tests/drivers/snmp/data/made_here_alerts.snmprec: life count 4242, doorOpen + jammed
    monitor = counter(snmp_agent, "made_here_alerts")
    assert monitor.printer_problem() == "door_open"
    assert monitor.page_count() == 4242


def test_an_unreachable_agent_blocks_nothing_but_gives_no_count(snmp_agent: Agent) -> None:
    monitor = counter(snmp_agent, "ricoh_mpc3002", port=free_udp_port())
    assert monitor.printer_problem() is None
    with pytest.raises(PrinterUnreadable, match="no page counter"):
        monitor.page_count()


def test_device_reports_carry_the_recorded_counters_supplies_and_alerts(snmp_agent: Agent) -> None:
    journal = FakeEventJournal()
    reporter = Reporter(journal, counter(snmp_agent, "sharp"), lambda: True, ReportSchedule())
    reporter.tick()
    kinds = [kind for kind, _ in journal.events]
    assert kinds == ["alert", "counters", "supplies"]
    payloads = dict(journal.events)
    assert payloads["counters"]["counters"]["total"] == int(recorded("sharp", LIFE_COUNT))
    assert payloads["counters"]["serial"] == recorded("sharp", SERIAL)  # prtGeneralSerialNumber
    levels = {s["name"]: s["level_percent"] for s in payloads["supplies"]["supplies"]}
    # MANIFEST: sharp toner C55 M19 Y40 K34; the fusing unit's level is unknown (-2)
    assert sorted(v for k, v in levels.items() if "Toner" in k and v is not None)[:4] == [
        19, 34, 40, 55,
    ]
    assert any(v is None for v in levels.values())
    # hrPrinterDetectedErrorState 0x2000: lowToner, reported once as raised
    assert [a["code"] for a in payloads["alert"]["raised"]] == ["lowToner"]
    reporter.tick()
    assert len(journal.events) == 3, "an unchanged alert set is not reported again"


def test_an_unreachable_printer_reports_nothing_and_does_not_raise(snmp_agent: Agent) -> None:
    journal = FakeEventJournal()
    monitor = counter(snmp_agent, "sharp", port=free_udp_port())
    Reporter(journal, monitor, lambda: False, ReportSchedule()).tick()
    assert journal.events == []
