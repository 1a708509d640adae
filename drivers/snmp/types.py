"""What one SNMP poll of a printer tells: counters, supplies, status, alerts.

These are the driver's own small types, free of pysnmp, so that the terminal core can
read a poll result without importing the SNMP library, and tests of the layer above can
build one by hand. Enumerations carry the Printer-MIB (RFC 3805) and Host-Resources-MIB
(RFC 2790) names as values, so a JSON dump reads like the MIB.
"""

from __future__ import annotations

import dataclasses
import enum
from dataclasses import dataclass, field
from typing import Any


class SnmpVersion(enum.Enum):
    V1 = "1"
    V2C = "2c"
    V3 = "3"


@dataclass(frozen=True)
class CommunityAuth:
    """SNMP v1 or v2c: a community string (read-only is enough)."""

    community: str = "public"
    version: SnmpVersion = SnmpVersion.V2C


@dataclass(frozen=True)
class UsmAuth:
    """SNMP v3 user-based security, always authPriv (authentication and privacy).

    ``context_name`` selects a context on agents that serve several (snmpsim picks its
    recording by context name); printers normally use the empty default context.
    """

    user: str
    auth_key: str
    priv_key: str
    auth_protocol: str = "SHA"
    priv_protocol: str = "AES"
    context_name: str = ""

    @property
    def version(self) -> SnmpVersion:
        return SnmpVersion.V3


@dataclass(frozen=True)
class SnmpTarget:
    """Where and how to ask: one agent, its credentials, and how long to wait.

    ``timeout_s`` is per request and ``retries`` is how many times a request is resent:
    an unreachable printer costs at most ``timeout_s * (retries + 1)`` per poll.
    """

    host: str
    port: int = 161
    auth: CommunityAuth | UsmAuth = field(default_factory=CommunityAuth)
    timeout_s: float = 2.0
    retries: int = 1


class CounterUnit(enum.Enum):
    """prtMarkerCounterUnit: what prtMarkerLifeCount counts."""

    TEN_THOUSANDTHS_OF_INCHES = "tenThousandthsOfInches"
    MICROMETERS = "micrometers"
    CHARACTERS = "characters"
    LINES = "lines"
    IMPRESSIONS = "impressions"
    SHEETS = "sheets"
    DOT_ROW = "dotRow"
    HOURS = "hours"
    FEET = "feet"
    METERS = "meters"


class CounterKind(enum.Enum):
    """Vendor page counters mapped onto one vocabulary, whichever MIB they come from."""

    TOTAL = "total"
    TOTAL_MONO = "total_mono"
    TOTAL_COLOUR = "total_colour"
    PRINT_TOTAL = "print_total"
    PRINT_MONO = "print_mono"
    PRINT_COLOUR = "print_colour"
    COPY_TOTAL = "copy_total"
    COPY_MONO = "copy_mono"
    COPY_COLOUR = "copy_colour"
    SCAN_TOTAL = "scan_total"
    SCAN_MONO = "scan_mono"
    SCAN_COLOUR = "scan_colour"
    SCAN_SEND = "scan_send"
    DUPLEX = "duplex"
    JAMS = "jams"


@dataclass(frozen=True)
class MarkerLifeCount:
    """prtMarkerLifeCount of one marker, with the unit the device declares (None if absent)."""

    marker: str
    value: int
    unit: CounterUnit | None
    since_power_on: int | None


@dataclass(frozen=True)
class VendorCounter:
    kind: CounterKind
    value: int
    vendor: str
    oid: str


@dataclass(frozen=True)
class PageCounters:
    """The Printer-MIB life counts plus whatever vendor counters the device answered."""

    life_counts: tuple[MarkerLifeCount, ...]
    vendor: tuple[VendorCounter, ...]

    @property
    def total(self) -> int | None:
        """Life count of the first marker: the figure accounting compares poll to poll."""
        return self.life_counts[0].value if self.life_counts else None

    def get(self, kind: CounterKind) -> int | None:
        for counter in self.vendor:
            if counter.kind is kind:
                return counter.value
        return None


class SupplyType(enum.Enum):
    """prtMarkerSuppliesType (PrtMarkerSuppliesTypeTC)."""

    OTHER = "other"
    UNKNOWN = "unknown"
    TONER = "toner"
    WASTE_TONER = "wasteToner"
    INK = "ink"
    INK_CARTRIDGE = "inkCartridge"
    INK_RIBBON = "inkRibbon"
    WASTE_INK = "wasteInk"
    OPC = "opc"
    DEVELOPER = "developer"
    FUSER_OIL = "fuserOil"
    SOLID_WAX = "solidWax"
    RIBBON_WAX = "ribbonWax"
    WASTE_WAX = "wasteWax"
    FUSER = "fuser"
    CORONA_WIRE = "coronaWire"
    FUSER_OIL_WICK = "fuserOilWick"
    CLEANER_UNIT = "cleanerUnit"
    FUSER_CLEANING_PAD = "fuserCleaningPad"
    TRANSFER_UNIT = "transferUnit"
    TONER_CARTRIDGE = "tonerCartridge"
    FUSER_OILER = "fuserOiler"
    WATER = "water"
    WASTE_WATER = "wasteWater"
    GLUE_WATER_ADDITIVE = "glueWaterAdditive"
    WASTE_PAPER = "wastePaper"
    BINDING_SUPPLY = "bindingSupply"
    BANDING_SUPPLY = "bandingSupply"
    STITCHING_WIRE = "stitchingWire"
    SHRINK_WRAP = "shrinkWrap"
    PAPER_WRAP = "paperWrap"
    STAPLES = "staples"
    INSERTS = "inserts"
    COVERS = "covers"
    MATTE_TONER = "matteToner"
    MATTE_INK = "matteInk"


class SupplyClass(enum.Enum):
    """prtMarkerSuppliesClass: a consumed supply empties, a receptacle (waste box) fills."""

    OTHER = "other"
    CONSUMED = "supplyThatIsConsumed"
    FILLED = "receptacleThatIsFilled"


class LevelState(enum.Enum):
    """How much is known about a supply's level.

    The Printer-MIB encodes "don't know" as negative numbers (-1 other, -2 unknown, -3
    some remaining); they are states here so nobody shows "-3 %" or, like LibreNMS,
    a made-up 50 %. A level without a known maximum is a number with no percentage.
    """

    MEASURED = "measured"
    SOME_REMAINING = "some_remaining"
    UNKNOWN = "unknown"
    OTHER = "other"
    CAPACITY_UNKNOWN = "capacity_unknown"


@dataclass(frozen=True)
class Supply:
    """One row of prtMarkerSuppliesTable, index ``"<device>.<supply>"`` like ``"1.5"``."""

    index: str
    description: str
    type: SupplyType | None
    supply_class: SupplyClass | None
    colour: str | None
    unit: str | None
    level: int | None
    max_capacity: int | None
    state: LevelState
    percent: int | None


class DeviceStatus(enum.Enum):
    """hrDeviceStatus."""

    UNKNOWN = "unknown"
    RUNNING = "running"
    WARNING = "warning"
    TESTING = "testing"
    DOWN = "down"


class PrinterState(enum.Enum):
    """hrPrinterStatus."""

    OTHER = "other"
    UNKNOWN = "unknown"
    IDLE = "idle"
    PRINTING = "printing"
    WARMUP = "warmup"


class PrinterError(enum.Enum):
    """hrPrinterDetectedErrorState bits, in bit order (bit 0 = top bit of the first octet)."""

    LOW_PAPER = "lowPaper"
    NO_PAPER = "noPaper"
    LOW_TONER = "lowToner"
    NO_TONER = "noToner"
    DOOR_OPEN = "doorOpen"
    JAMMED = "jammed"
    OFFLINE = "offline"
    SERVICE_REQUESTED = "serviceRequested"
    INPUT_TRAY_MISSING = "inputTrayMissing"
    OUTPUT_TRAY_MISSING = "outputTrayMissing"
    MARKER_SUPPLY_MISSING = "markerSupplyMissing"
    OUTPUT_NEAR_FULL = "outputNearFull"
    OUTPUT_FULL = "outputFull"
    INPUT_TRAY_EMPTY = "inputTrayEmpty"
    OVERDUE_PREVENT_MAINT = "overduePreventMaint"


@dataclass(frozen=True)
class PrinterDeviceStatus:
    """One printer row of the Host-Resources device table (usually hrDeviceIndex 1).

    ``None`` means the agent did not answer that object, which several real printers do
    not (no recording in the corpus has hrPrinterStatus).
    """

    device_index: int
    device_status: DeviceStatus | None
    printer_state: PrinterState | None
    errors: tuple[PrinterError, ...]
    error_bits_hex: str | None


@dataclass(frozen=True)
class Alert:
    """One row of prtAlertTable: what the printer itself says is wrong right now."""

    index: str
    severity: str
    group: str
    code: str
    description: str
    location: int | None
    time_ticks: int | None


@dataclass(frozen=True)
class PrinterStatus:
    devices: tuple[PrinterDeviceStatus, ...]
    alerts: tuple[Alert, ...]

    @property
    def errors(self) -> tuple[PrinterError, ...]:
        """Every error bit set on any printer device, once each, in bit order."""
        seen = {error for device in self.devices for error in device.errors}
        return tuple(error for error in PrinterError if error in seen)


@dataclass(frozen=True)
class PrinterIdentity:
    """Who answered: sysDescr and sysObjectID (often the network card's), and the printer's
    own model (hrDeviceDescr of its printer device) and serial (prtGeneralSerialNumber);
    ``None`` where the agent does not say."""

    description: str | None
    object_id: str | None
    vendor: str | None
    model: str | None = None
    serial: str | None = None


@dataclass(frozen=True)
class PollResult:
    """The answer to one poll: either everything read, or unreachable and why.

    An unreachable printer is an ordinary result, not an exception: the caller shows it
    and polls again later; nothing loops on errors.
    """

    host: str
    port: int
    reachable: bool
    reason: str | None = None
    identity: PrinterIdentity | None = None
    counters: PageCounters | None = None
    supplies: tuple[Supply, ...] = ()
    status: PrinterStatus | None = None
    # False: the agent answers SNMP but has no Printer-MIB (RFC 3805) at all -- not a
    # printer, or one that hides it -- so empty counters and supplies mean "not asked
    # for", not "none"; None when unreachable.
    printer_mib: bool | None = None
    elapsed_s: float = 0.0

    def as_dict(self) -> dict[str, Any]:
        """Plain JSON-ready data: enums become their MIB names, tuples become lists."""
        return dataclasses.asdict(self, dict_factory=_json_ready_dict)


def _json_ready_dict(items: list[tuple[str, Any]]) -> dict[str, Any]:
    return {key: _json_ready(value) for key, value in items}


def _json_ready(value: Any) -> Any:
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, (list, tuple)):
        return [_json_ready(item) for item in value]
    return value
