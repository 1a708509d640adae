"""The release's page counter over SNMP, against snmpsim serving real printer recordings.

Expected figures are read straight from the recordings (prtMarkerLifeCount.1.1 and
hrPrinterDetectedErrorState), not from the driver the adapter uses.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from drivers.snmp import CommunityAuth, SnmpTarget
from terminal.wiring import SnmpPageCounter
from tests.drivers.snmp.snmpsim_peer import (
    SNMP_CORPUS,
    SNMPSIM,
    Agent,
    corpus_recordings,
    free_udp_port,
    start_snmpsim,
    stop,
)

pytestmark = pytest.mark.peer
LIFE_COUNT = "1.3.6.1.2.1.43.10.2.1.4.1.1"


@pytest.fixture(scope="module")
def agent(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Agent]:
    if not corpus_recordings():
        pytest.skip(f"SNMP corpus {SNMP_CORPUS} is absent")
    if not SNMPSIM.exists():
        pytest.skip("snmpsim is not installed in this environment")
    port = free_udp_port()
    process = start_snmpsim(tmp_path_factory.mktemp("snmpsim"), port)
    try:
        yield Agent("127.0.0.1", port)
    finally:
        stop(process)


def recorded(recording: str, oid: str) -> str:
    path = SNMP_CORPUS / f"{recording}.snmprec"
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.startswith(oid + "|"):
            return line.split("|", 2)[2]
    raise KeyError(oid)


def counter(agent: Agent, recording: str, port: int | None = None) -> SnmpPageCounter:
    return SnmpPageCounter(SnmpTarget(agent.host, port or agent.port,
                                      CommunityAuth(recording), timeout_s=1.0, retries=0))


@pytest.mark.parametrize("recording", ["ricoh_mpc3002", "brother_hl5370dw", "sharp"])
def test_the_page_count_is_the_printers_life_count(agent: Agent, recording: str) -> None:
    monitor = counter(agent, recording)
    assert monitor.page_count() == int(recorded(recording, LIFE_COUNT))
    # low toner (sharp) or nothing: nothing that stops a release
    assert monitor.printer_problem() is None


def test_an_open_door_or_a_jam_refuses_the_release(agent: Agent) -> None:
    # tests/drivers/snmp/data/made_here_alerts.snmprec: life count 4242, doorOpen + jammed
    monitor = counter(agent, "made_here_alerts")
    assert monitor.printer_problem() == "door_open"
    assert monitor.page_count() == 4242


def test_an_unreachable_agent_blocks_nothing_but_gives_no_count(agent: Agent) -> None:
    monitor = counter(agent, "ricoh_mpc3002", port=free_udp_port())
    assert monitor.printer_problem() is None
    with pytest.raises(RuntimeError, match="no page counter"):
        monitor.page_count()
