"""SnmpPrinterMonitor beyond the corpus: v1 and v3 authPriv, alerts, unreachable agents,
the blocking wrapper, and what importing the driver must not do."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import time

import pytest

from drivers.snmp import (
    CommunityAuth,
    DeviceStatus,
    LevelState,
    PrinterError,
    PrinterState,
    SnmpPrinterMonitor,
    SnmpTarget,
    SnmpVersion,
    UsmAuth,
    is_usable,
    poll_printer,
)
from tests.drivers.snmp.snmpsim_peer import REPO, Agent, free_udp_port

pytestmark = pytest.mark.peer


def v3(agent: Agent, context: str, timeout_s: float = 5.0, **changes: str) -> SnmpTarget:
    """A v3 authPriv target on the agent. Reads that must succeed get a generous timeout:
    v3 needs an engine-discovery round trip first, and the Python agent answers it slowly
    when both test workers are busy (1 s failed once in a full CI run). Refusals keep 1 s,
    since they wait out the whole timeout."""
    auth = UsmAuth(user=agent.v3_user, auth_key=agent.v3_auth_key, priv_key=agent.v3_priv_key,
                   auth_protocol="SHA", priv_protocol="AES", context_name=context)
    if changes:
        auth = UsmAuth(**{**auth.__dict__, **changes})
    return SnmpTarget(agent.host, agent.port, auth, timeout_s=timeout_s, retries=0)


def test_is_usable_here() -> None:
    assert is_usable()


def test_v3_auth_priv_reads_the_same_as_v2c(snmp_agent: Agent) -> None:
    over_v3 = poll_printer(v3(snmp_agent, "konica_c250i"))
    over_v2c = poll_printer(SnmpTarget(snmp_agent.host, snmp_agent.port,
                                       CommunityAuth("konica_c250i")))
    assert over_v3.reachable, over_v3.reason
    assert over_v3.counters == over_v2c.counters
    assert over_v3.supplies == over_v2c.supplies
    assert over_v3.status == over_v2c.status
    assert over_v3.counters is not None and over_v3.counters.total == 33810


def test_v3_wrong_privacy_key_is_unreachable_with_a_reason(snmp_agent: Agent) -> None:
    result = poll_printer(v3(snmp_agent, "sharp", timeout_s=1.0, priv_key="not-the-right-key"))
    assert not result.reachable
    assert result.reason and f"{snmp_agent.host}:{snmp_agent.port}" in result.reason
    assert result.counters is None and result.supplies == ()


def test_v3_unknown_user_is_unreachable_with_a_reason(snmp_agent: Agent) -> None:
    result = poll_printer(v3(snmp_agent, "sharp", timeout_s=1.0, user="intruder"))
    assert not result.reachable and result.reason


def test_v1_walks_without_getbulk(snmp_agent: Agent) -> None:
    result = poll_printer(SnmpTarget(snmp_agent.host, snmp_agent.port,
                                     CommunityAuth("jetdirect_m880", SnmpVersion.V1)))
    assert result.reachable, result.reason
    assert len(result.supplies) == 15
    assert result.supplies[0].description == "Black Cartridge 827A HP CF300A"


def test_alerts_printer_status_and_colorant(snmp_agent: Agent) -> None:
    """The hand-made recording (no corpus printer has these): alert table, hrPrinterStatus,
    two error octets, a colorant-table colour and a level of -1 ("other")."""
    result = poll_printer(SnmpTarget(snmp_agent.host, snmp_agent.port,
                                     CommunityAuth("made_here_alerts")))
    assert result.reachable and result.status is not None
    (device,) = result.status.devices
    assert device.device_status is DeviceStatus.DOWN
    assert device.printer_state is PrinterState.OTHER
    assert device.errors == (PrinterError.DOOR_OPEN, PrinterError.JAMMED,
                             PrinterError.OVERDUE_PREVENT_MAINT)
    door, tray = result.status.alerts
    assert (door.index, door.severity, door.group, door.code, door.description,
            door.time_ticks) == ("1.1", "critical", "cover", "doorOpen", "Front door open",
                                 12345)
    assert (tray.severity, tray.group, tray.code, tray.location) == (
        "warning", "input", "inputMediaSupplyLow", 2)
    toner, fuser = result.supplies
    assert (toner.colour, toner.unit, toner.percent, toner.state) == (
        "black", "percent", 0, LevelState.MEASURED)
    assert (fuser.state, fuser.level, fuser.max_capacity, fuser.colour) == (
        LevelState.OTHER, None, None, None)
    assert result.identity is not None and result.identity.vendor == "Lexmark"


@pytest.mark.parametrize("version", [SnmpVersion.V1, SnmpVersion.V2C])
def test_a_device_without_printer_mib_is_flagged(snmp_agent: Agent,
                                                 version: SnmpVersion) -> None:
    """A NAS answering SNMP is reachable, names itself, and says it has no Printer-MIB,
    rather than passing for a printer with no counters and no supplies."""
    result = poll_printer(SnmpTarget(snmp_agent.host, snmp_agent.port,
                                     CommunityAuth("made_here_no_printer_mib", version)))
    assert result.reachable, result.reason
    assert result.printer_mib is False
    assert result.identity is not None
    assert result.identity.description == "Commutateur réseau – étage 2 (NAS Ünïcode)"
    assert result.identity.model is None and result.identity.serial is None
    assert result.supplies == ()


@pytest.mark.parametrize("version", [SnmpVersion.V1, SnmpVersion.V2C])
def test_model_of_a_printer_that_is_not_device_1(snmp_agent: Agent,
                                                 version: SnmpVersion) -> None:
    """Device 1 is the network card: the model is the printer device's description."""
    result = poll_printer(SnmpTarget(snmp_agent.host, snmp_agent.port,
                                     CommunityAuth("made_here_printer_second_device", version)))
    assert result.reachable, result.reason
    assert result.identity is not None
    assert result.identity.model == "Example LaserJet 2é"
    assert result.identity.serial == "EX2-000123"
    assert result.printer_mib is True


def test_model_and_serial_over_v1(snmp_agent: Agent) -> None:
    """Over v1 too (the made-here recording above, whose probes run past the end of its
    MIB, takes v1's fallback GET instead)."""
    result = poll_printer(SnmpTarget(snmp_agent.host, snmp_agent.port,
                                     CommunityAuth("jetdirect_m130nw", SnmpVersion.V1)))
    assert result.identity is not None
    assert (result.identity.model, result.identity.serial) == (
        "HP LaserJet MFP M130nw", "VNCRC48198")


def test_unreachable_has_no_printer_mib_verdict() -> None:
    result = poll_printer(SnmpTarget("127.0.0.1", free_udp_port(), timeout_s=0.2, retries=0))
    assert not result.reachable and result.printer_mib is None


def test_silent_port_gives_unreachable_after_the_timeout() -> None:
    port = free_udp_port()
    result = poll_printer(SnmpTarget("127.0.0.1", port, CommunityAuth(), timeout_s=0.2,
                                     retries=1))
    assert not result.reachable
    assert result.reason == f"127.0.0.1:{port}: no response within 0.2 s (sent 2 times)"
    assert result.counters is None and result.status is None


def test_name_that_does_not_resolve_gives_unreachable() -> None:
    result = poll_printer(SnmpTarget("printer.invalid", 161, CommunityAuth(), timeout_s=0.2,
                                     retries=0))
    assert not result.reachable
    assert result.reason and result.reason.startswith("printer.invalid:161: ")


def test_a_monitor_polls_again_after_being_unreachable(snmp_agent: Agent) -> None:
    """No exception loop and no poisoned state: the same monitor keeps working."""
    async def scenario() -> tuple[bool, bool, bool]:
        silent = SnmpTarget("127.0.0.1", free_udp_port(), CommunityAuth("sharp"),
                            timeout_s=0.2, retries=0)
        async with SnmpPrinterMonitor(silent) as monitor:
            first = await monitor.poll()
            second = await monitor.poll()
            monitor.target = SnmpTarget(snmp_agent.host, snmp_agent.port, CommunityAuth("sharp"))
            third = await monitor.poll()
        return first.reachable, second.reachable, third.reachable

    assert asyncio.run(scenario()) == (False, False, True)


def test_blocking_wrapper_refuses_to_run_inside_an_event_loop(snmp_agent: Agent) -> None:
    async def inside() -> None:
        poll_printer(SnmpTarget(snmp_agent.host, snmp_agent.port, CommunityAuth("sharp")))

    with pytest.raises(RuntimeError, match="await SnmpPrinterMonitor"):
        asyncio.run(inside())


@pytest.mark.parametrize(("auth", "message"), [
    (UsmAuth("u", "authkey123", "privkey123", auth_protocol="SHA1024"), "auth protocol"),
    (UsmAuth("u", "authkey123", "privkey123", priv_protocol="ROT13"), "privacy protocol"),
    (UsmAuth("u", "short", "privkey123"), "at least 8 characters"),
    (CommunityAuth("public", SnmpVersion.V3), "needs a user"),
])
def test_bad_credentials_are_refused_when_built(auth: CommunityAuth | UsmAuth,
                                                message: str) -> None:
    with pytest.raises(ValueError, match=message):
        SnmpPrinterMonitor(SnmpTarget("127.0.0.1", 161, auth))


def test_importing_the_driver_opens_no_socket_and_loads_no_pysnmp() -> None:
    probe = (
        "import sys\n"
        "def refuse(event, args):\n"
        "    if event in ('socket.__new__', 'socket.connect', 'socket.bind'):\n"
        "        raise AssertionError(f'{event} during import')\n"
        "sys.addaudithook(refuse)\n"
        "import drivers.snmp\n"
        "from drivers.snmp import SnmpPrinterMonitor, SnmpTarget\n"
        "SnmpPrinterMonitor(SnmpTarget('192.0.2.1'))\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('pysnmp', 'pyasn1')))\n"
    )
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", probe], cwd=REPO, capture_output=True,
                          text=True, check=True)
    assert done.stdout.strip() == "[]", (done.stdout, done.stderr, time.perf_counter() - started)
