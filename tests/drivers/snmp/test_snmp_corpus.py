"""Every printer recording of the corpus, served by snmpsim, polled by SnmpPrinterMonitor.

The expected values are the facts MANIFEST.md states for each recording, plus a
cross-check against LibreNMS's own expected poll results (``*.librenms-expected.json``)
wherever both tools claim to report the same thing.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest

from drivers.snmp import (
    CommunityAuth,
    CounterKind,
    CounterUnit,
    DeviceStatus,
    LevelState,
    PollResult,
    PrinterError,
    SnmpPrinterMonitor,
    SnmpTarget,
    SupplyType,
)
from tests.drivers.snmp.snmpsim_peer import SNMP_CORPUS, Agent, corpus_recordings

pytestmark = pytest.mark.peer


async def _poll_all(agent: Agent, names: list[str]) -> dict[str, PollResult]:
    monitors = [SnmpPrinterMonitor(SnmpTarget(agent.host, agent.port, CommunityAuth(name),
                                              timeout_s=5, retries=1)) for name in names]
    try:
        results = await asyncio.gather(*(monitor.poll() for monitor in monitors))
    finally:
        for monitor in monitors:
            monitor.close()
    return dict(zip(names, results, strict=True))


@pytest.fixture(scope="module")
def polls(snmp_agent: Agent) -> dict[str, PollResult]:
    """One poll of every recording, all at once (the monitors share nothing)."""
    return asyncio.run(_poll_all(snmp_agent, corpus_recordings()))


def percents(result: PollResult) -> dict[str, int | None]:
    return {supply.index: supply.percent for supply in result.supplies}


def supply(result: PollResult, index: str) -> Any:
    return next(s for s in result.supplies if s.index == index)


def test_every_recording_answers(polls: dict[str, PollResult]) -> None:
    assert len(polls) == 13
    for name, result in polls.items():
        assert result.reachable, (name, result.reason)
        assert result.supplies, name


# name -> (life count, unit, power-on count) from MANIFEST.md; None: no prtMarkerLifeCount
LIFE_COUNTS: dict[str, tuple[int, CounterUnit | None, int] | None] = {
    "jetdirect_m130nw": (15232, CounterUnit.IMPRESSIONS, 237),
    "jetdirect_m880": None,
    "ricoh_mpc3002": (271871, CounterUnit.SHEETS, 138),
    "konica_c250i": (33810, None, 46),
    "sharp": (121104, CounterUnit.IMPRESSIONS, 9562),
    "brother_hl5370dw": (7792, CounterUnit.IMPRESSIONS, 33),
    "canonprinter_tm": (21588, CounterUnit.SHEETS, 54),
    "dell-laser_s5830dn": None,
    "okilan_9450g": None,
    "xerox": None,
    "epson": None,
    "samsungprinter_m4080fx": (22934, CounterUnit.IMPRESSIONS, 473),
    "utax": (427, CounterUnit.IMPRESSIONS, 11),
}


@pytest.mark.parametrize("name", sorted(LIFE_COUNTS))
def test_life_count_and_unit(polls: dict[str, PollResult], name: str) -> None:
    counters = polls[name].counters
    assert counters is not None
    expected = LIFE_COUNTS[name]
    if expected is None:
        assert counters.life_counts == ()
        assert counters.total is None
        return
    value, unit, power_on = expected
    (life,) = counters.life_counts
    assert (life.marker, life.value, life.unit, life.since_power_on) == ("1.1", value, unit,
                                                                        power_on)
    assert counters.total == value


VENDOR_COUNTS: dict[str, dict[CounterKind, int]] = {
    "jetdirect_m130nw": {CounterKind.TOTAL: 15232, CounterKind.TOTAL_MONO: 15232,
                         CounterKind.DUPLEX: 0, CounterKind.JAMS: 12,
                         CounterKind.SCAN_TOTAL: 1190},
    "konica_c250i": {CounterKind.COPY_MONO: 3672, CounterKind.COPY_COLOUR: 544,
                     CounterKind.PRINT_MONO: 22876, CounterKind.PRINT_COLOUR: 6711,
                     CounterKind.DUPLEX: 7357, CounterKind.SCAN_TOTAL: 5653},
    "sharp": {CounterKind.TOTAL_MONO: 91164, CounterKind.TOTAL_COLOUR: 29940,
              CounterKind.PRINT_TOTAL: 82214, CounterKind.PRINT_MONO: 53631,
              CounterKind.PRINT_COLOUR: 28583, CounterKind.COPY_TOTAL: 38804,
              CounterKind.COPY_MONO: 37485, CounterKind.COPY_COLOUR: 1319,
              CounterKind.SCAN_MONO: 6170, CounterKind.SCAN_COLOUR: 7364,
              CounterKind.SCAN_SEND: 13534, CounterKind.DUPLEX: 41020},
}


@pytest.mark.parametrize("name", sorted(VENDOR_COUNTS))
def test_vendor_counters(polls: dict[str, PollResult], name: str) -> None:
    counters = polls[name].counters
    assert counters is not None
    assert {c.kind: c.value for c in counters.vendor} == VENDOR_COUNTS[name]
    assert counters.get(next(iter(VENDOR_COUNTS[name]))) is not None


def test_sharp_mono_plus_colour_is_the_life_count(polls: dict[str, PollResult]) -> None:
    counters = polls["sharp"].counters
    assert counters is not None
    mono, colour = counters.get(CounterKind.TOTAL_MONO), counters.get(CounterKind.TOTAL_COLOUR)
    assert mono is not None and colour is not None
    assert mono + colour == counters.total


def test_no_vendor_counters_where_recordings_carry_none(polls: dict[str, PollResult]) -> None:
    for name, result in polls.items():
        if name not in VENDOR_COUNTS:
            assert result.counters is not None and result.counters.vendor == (), name


VENDORS = {"jetdirect_m130nw": "HP", "jetdirect_m880": "HP", "ricoh_mpc3002": "Ricoh",
           "konica_c250i": "Konica Minolta", "sharp": "Sharp", "brother_hl5370dw": "Brother",
           "canonprinter_tm": "Canon", "dell-laser_s5830dn": "Dell", "okilan_9450g": "OKI",
           "xerox": "Xerox", "epson": "Epson", "samsungprinter_m4080fx": "Samsung",
           "utax": "Kyocera"}


def test_vendor_recognised_from_sys_object_id(polls: dict[str, PollResult]) -> None:
    assert {name: r.identity.vendor if r.identity else None for name, r in polls.items()} \
        == VENDORS


# Percentages MANIFEST.md states (level / max capacity), by supply index.
PERCENTS: dict[str, dict[str, int | None]] = {
    "jetdirect_m130nw": {"1.1": 28, "1.5": 71},
    "jetdirect_m880": {"1.1": 92, "1.2": 16, "1.3": 100, "1.4": 70, "1.5": 53, "1.6": 58,
                       "1.7": 58, "1.8": 58, "1.9": 89, "1.10": 84, "1.11": 99, "1.12": 97,
                       "1.13": None, "1.14": None, "1.15": None},
    "ricoh_mpc3002": {"1.1": 40, "1.2": 100, "1.3": 20, "1.4": 50, "1.5": 50},
    "konica_c250i": {"1.1": 76, "1.2": 78, "1.3": 77, "1.4": 86, "1.13": None},
    "brother_hl5370dw": {"1.1": None, "1.2": None, "1.3": 69},
    "canonprinter_tm": {"1.1": 80, "1.2": 100, "1.3": 60, "1.4": 80, "1.5": 70, "1.6": 90},
    "dell-laser_s5830dn": {"1.1": 49, "1.2": 72, "1.3": 83, "1.4": 89},
    "okilan_9450g": {"1.1": 59, "1.2": 69, "1.3": 69, "1.4": 69, "1.5": 95, "1.6": 96,
                     "1.7": 96, "1.8": 96, "1.9": 98, "1.10": 99},
    "xerox": {"1.1": 20, "1.2": 66, "1.3": 72, "1.4": 60, "1.5": 50, "1.6": 92, "1.7": 93,
              "1.8": 93, "1.9": 90, "1.10": 5, "1.11": 65, "1.12": 86},
    "epson": {"1.1": 1, "1.2": 1, "1.3": 1, "1.4": 1},
    "utax": {"1.1": 89, "1.2": None},
}


@pytest.mark.parametrize("name", sorted(PERCENTS))
def test_supply_percentages(polls: dict[str, PollResult], name: str) -> None:
    assert percents(polls[name]) == PERCENTS[name]


def test_sharp_supplies_with_unknown_capacity_have_no_percentage(
        polls: dict[str, PollResult]) -> None:
    sharp = polls["sharp"]
    assert len(sharp.supplies) == 14
    assert [percents(sharp)[i] for i in ("1.1", "1.2", "1.3", "1.4")] == [55, 19, 40, 34]
    waste, fuser = supply(sharp, "1.5"), supply(sharp, "1.14")
    assert (waste.type, waste.state, waste.level, waste.percent) == (
        SupplyType.WASTE_TONER, LevelState.CAPACITY_UNKNOWN, 100, None)
    assert (fuser.state, fuser.level, fuser.max_capacity) == (LevelState.UNKNOWN, None, None)


def test_special_levels_are_states_not_numbers(polls: dict[str, PollResult]) -> None:
    for name, index in [("konica_c250i", "1.13"), ("utax", "1.2"), ("brother_hl5370dw", "1.2"),
                        ("jetdirect_m880", "1.13")]:
        some = supply(polls[name], index)
        assert (some.state, some.level, some.percent) == (LevelState.SOME_REMAINING, None,
                                                          None), name
    empty_unknown_max = supply(polls["brother_hl5370dw"], "1.1")
    assert (empty_unknown_max.state, empty_unknown_max.level) == (LevelState.CAPACITY_UNKNOWN, 0)


def test_hp_m880_hex_dump_descriptions_are_decoded(polls: dict[str, PollResult]) -> None:
    descriptions = {s.index: s.description for s in polls["jetdirect_m880"].supplies}
    assert descriptions["1.1"] == "Black Cartridge 827A HP CF300A"
    assert descriptions["1.3"] == "Magenta Cartridge 827A HP CF303A"
    assert descriptions["1.10"] == "Fuser Kit HP 110V-C1N54A, 220V-C1N58A"
    assert descriptions["1.15"] == "Stapler 3 HP CC383A"
    assert all("\n" not in d and "\x00" not in d for d in descriptions.values())


def test_supply_types_and_colours(polls: dict[str, PollResult]) -> None:
    m880 = polls["jetdirect_m880"]
    assert [(s.type, s.colour) for s in m880.supplies[:5]] == [
        (SupplyType.TONER_CARTRIDGE, "black"), (SupplyType.TONER_CARTRIDGE, "cyan"),
        (SupplyType.TONER_CARTRIDGE, "magenta"), (SupplyType.TONER_CARTRIDGE, "yellow"),
        (SupplyType.OPC, "black")]
    assert supply(m880, "1.13").type is SupplyType.STAPLES
    assert supply(polls["canonprinter_tm"], "1.1").colour == "matte black"
    assert supply(polls["konica_c250i"], "1.1").colour == "cyan"
    assert supply(polls["utax"], "1.1").colour is None  # "PK-3010S" names no colour
    assert supply(polls["ricoh_mpc3002"], "1.2").type is SupplyType.WASTE_TONER
    xerox = polls["xerox"]
    assert supply(xerox, "1.1").type is None  # the recording has no prtMarkerSuppliesType
    assert supply(xerox, "1.1").description.startswith("Black Toner, PN 006R01509")
    assert supply(polls["dell-laser_s5830dn"], "1.1").max_capacity == 45000


# name -> (hrDeviceStatus of the printer, error bits) from MANIFEST.md
STATUS: dict[str, tuple[DeviceStatus, tuple[PrinterError, ...], str]] = {
    "jetdirect_m130nw": (DeviceStatus.RUNNING, (), "00"),
    "konica_c250i": (DeviceStatus.WARNING, (PrinterError.SERVICE_REQUESTED,), "0100"),
    "sharp": (DeviceStatus.WARNING, (PrinterError.LOW_TONER,), "2000"),
    "samsungprinter_m4080fx": (DeviceStatus.WARNING, (PrinterError.LOW_PAPER,), "8000"),
    "epson": (DeviceStatus.WARNING, (), ""),
    "ricoh_mpc3002": (DeviceStatus.WARNING, (), "00"),
    "utax": (DeviceStatus.RUNNING, (), "00"),
    "dell-laser_s5830dn": (DeviceStatus.RUNNING, (), "0000"),
}


@pytest.mark.parametrize("name", sorted(STATUS))
def test_printer_status_and_error_bits(polls: dict[str, PollResult], name: str) -> None:
    status = polls[name].status
    assert status is not None
    printer = status.devices[0]
    device_status, errors, raw = STATUS[name]
    assert (printer.device_index, printer.device_status, printer.errors,
            printer.error_bits_hex) == (1, device_status, errors, raw)
    assert printer.printer_state is None  # no recording has hrPrinterStatus
    assert status.alerts == ()  # nor a prtAlertTable


def test_xerox_reports_no_printer_device(polls: dict[str, PollResult]) -> None:
    status = polls["xerox"].status
    assert status is not None and status.devices == () and status.errors == ()


def _librenms(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((SNMP_CORPUS / f"{name}.librenms-expected.json")
                                      .read_text())
    return data


@pytest.mark.parametrize("name", corpus_recordings())
def test_agrees_with_librenms(polls: dict[str, PollResult], name: str) -> None:
    """Same supply percentages, life counts, vendor counts and hrDeviceStatus as LibreNMS.

    Where LibreNMS shows 50 % for a "some remaining" (-3) level we report the state, and
    where it takes an unknown (-2) capacity as 100 we give no percentage; a LibreNMS row
    read from a vendor OID outside prtMarkerSuppliesLevel is not compared.
    """
    result, expected = polls[name], _librenms(name)
    for row in expected["printer-supplies"]["discovery"]["printer_supplies"]:
        prefix, _, index = row["supply_oid"].partition(".1.3.6.1.2.1.43.11.1.1.9.")
        if prefix or not index:
            continue
        ours = supply(result, index)
        if ours.state is LevelState.SOME_REMAINING:
            assert row["supply_current"] == 50, (name, index)
        elif ours.state is LevelState.CAPACITY_UNKNOWN:  # LibreNMS then assumes max 100
            assert row["supply_current"] == ours.level, (name, index)
        else:
            assert ours.percent == row["supply_current"], (name, index)
    sensors = expected.get("sensors", {}).get("discovery", {}).get("sensors", [])
    assert result.counters is not None and result.status is not None
    vendor_by_oid = {c.oid: c.value for c in result.counters.vendor}
    for sensor in sensors:
        oid = sensor["sensor_oid"].lstrip(".")
        if oid == "1.3.6.1.2.1.43.10.2.1.4.1.1":
            assert result.counters.total == sensor["sensor_current"], name
        elif oid in vendor_by_oid:
            assert vendor_by_oid[oid] == sensor["sensor_current"], (name, oid)
        elif oid == "1.3.6.1.2.1.25.3.2.1.5.1":
            device_status = result.status.devices[0].device_status
            assert device_status is not None
            assert list(DeviceStatus).index(device_status) + 1 == sensor["sensor_current"]


# name -> (model from hrDeviceDescr, serial from prtGeneralSerialNumber), from the recordings
IDENTITIES: dict[str, tuple[str | None, str | None]] = {
    "jetdirect_m130nw": ("HP LaserJet MFP M130nw", "VNCRC48198"),
    "jetdirect_m880": ("HP Color LaserJet flow MFP M880", None),
    "ricoh_mpc3002": ("RICOH Aficio MP C3002", "W492KB03439"),
    "konica_c250i": ("KONICA MINOLTA bizhub C250i", "AA2M021115700"),
    "sharp": ("SHARP MX-3570N", "6509415X00"),
    "brother_hl5370dw": ("Brother HL-5370DW series", None),
    "canonprinter_tm": ("Canon TM-5300", None),
    "dell-laser_s5830dn": ("Dell S5830dn 7XQ1R92 LW62.DN4.P636", "7XQ1R92-132-13"),
    "okilan_9450g": (None, None),
    "xerox": (None, None),
    "epson": ("EPSON WF-C5790BA", "X3B8022793"),
    "samsungprinter_m4080fx": ("Samsung M408x Series", None),
    "utax": ("P-4532DN", None),
}


@pytest.mark.parametrize("name", sorted(IDENTITIES))
def test_model_and_serial(polls: dict[str, PollResult], name: str) -> None:
    identity = polls[name].identity
    assert identity is not None
    assert (identity.model, identity.serial) == IDENTITIES[name]


def test_model_is_the_printer_not_the_network_card(polls: dict[str, PollResult]) -> None:
    """sysDescr names the print server card; hrDeviceDescr names the printer."""
    brother = polls["brother_hl5370dw"].identity
    hp = polls["jetdirect_m880"].identity
    assert brother is not None and brother.description is not None
    assert brother.description.startswith("Brother NC-6800h")
    assert brother.model == "Brother HL-5370DW series"
    assert hp is not None and hp.description is not None
    assert hp.description.startswith("HP ETHERNET MULTI-ENVIRONMENT")
    assert hp.model == "HP Color LaserJet flow MFP M880"


def test_every_printer_recording_has_the_printer_mib(polls: dict[str, PollResult]) -> None:
    assert {name: result.printer_mib for name, result in polls.items()} == dict.fromkeys(
        polls, True)
