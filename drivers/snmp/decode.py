"""Turn the raw values of one poll into the driver's types; pure functions, no SNMP library.

Input is a snapshot: ``{oid tuple: value}`` where a value is an ``int`` (INTEGER,
Counter, Gauge, TimeTicks), ``bytes`` (OCTET STRING) or an oid tuple (OBJECT IDENTIFIER).
Keeping decoding apart from transport means the same code reads a live agent, and the
rules (special levels, error bits, hex-dump descriptions) can be checked on their own.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from drivers.snmp import oids
from drivers.snmp.oids import Oid
from drivers.snmp.types import (
    Alert,
    CounterUnit,
    DeviceStatus,
    LevelState,
    MarkerLifeCount,
    PageCounters,
    PrinterDeviceStatus,
    PrinterError,
    PrinterIdentity,
    PrinterState,
    PrinterStatus,
    Supply,
    SupplyClass,
    SupplyType,
    VendorCounter,
)
from drivers.snmp.vendors import VENDOR_COUNTERS, vendor_of

Value = int | bytes | Oid
Snapshot = Mapping[Oid, Value]

# Textual conventions: integer value -> MIB name, in the MIB's numbering.
_COUNTER_UNITS = {3: CounterUnit.TEN_THOUSANDTHS_OF_INCHES, 4: CounterUnit.MICROMETERS,
                  5: CounterUnit.CHARACTERS, 6: CounterUnit.LINES, 7: CounterUnit.IMPRESSIONS,
                  8: CounterUnit.SHEETS, 9: CounterUnit.DOT_ROW, 11: CounterUnit.HOURS,
                  16: CounterUnit.FEET, 17: CounterUnit.METERS}
_SUPPLY_TYPES = {number: member for number, member in enumerate(SupplyType, start=1)}
_SUPPLY_CLASSES = {1: SupplyClass.OTHER, 3: SupplyClass.CONSUMED, 4: SupplyClass.FILLED}
_SUPPLY_UNITS = {1: "other", 2: "unknown", 3: "tenThousandthsOfInches", 4: "micrometers",
                 7: "impressions", 8: "sheets", 11: "hours", 12: "thousandthsOfOunces",
                 13: "tenthsOfGrams", 14: "hundrethsOfFluidOunces", 15: "tenthsOfMilliliters",
                 16: "feet", 17: "meters", 18: "items", 19: "percent"}
_DEVICE_STATUSES = {number: member for number, member in enumerate(DeviceStatus, start=1)}
_PRINTER_STATES = {number: member for number, member in enumerate(PrinterState, start=1)}
_SPECIAL_LEVELS = {-1: LevelState.OTHER, -2: LevelState.UNKNOWN, -3: LevelState.SOME_REMAINING}

_ALERT_SEVERITIES = {1: "other", 3: "critical", 4: "warning", 5: "warningBinaryChangeEvent"}
_ALERT_GROUPS = {1: "other", 3: "hostResourcesMIBStorageTable", 4: "hostResourcesMIBDeviceTable",
                 5: "generalPrinter", 6: "cover", 7: "localization", 8: "input", 9: "output",
                 10: "marker", 11: "markerSupplies", 12: "markerColorant", 13: "mediaPath",
                 14: "channel", 15: "interpreter", 16: "consoleDisplayBuffer",
                 17: "consoleLights", 18: "alert", 30: "finDevice", 31: "finSupply",
                 32: "finSupplyMediaInput", 33: "finAttribute"}
_ALERT_CODES = {
    1: "other", 2: "unknown", 3: "coverOpen", 4: "coverClosed", 5: "interlockOpen",
    6: "interlockClosed", 7: "configurationChange", 8: "jam", 9: "subunitMissing",
    10: "subunitLifeAlmostOver", 11: "subunitLifeOver", 12: "subunitAlmostEmpty",
    13: "subunitEmpty", 14: "subunitAlmostFull", 15: "subunitFull", 16: "subunitNearLimit",
    17: "subunitAtLimit", 18: "subunitOpened", 19: "subunitClosed", 20: "subunitTurnedOn",
    21: "subunitTurnedOff", 22: "subunitOffline", 23: "subunitPowerSaver",
    24: "subunitWarmingUp", 25: "subunitAdded", 26: "subunitRemoved",
    27: "subunitResourceAdded", 28: "subunitResourceRemoved",
    29: "subunitRecoverableFailure", 30: "subunitUnrecoverableFailure",
    31: "subunitRecoverableStorageError", 32: "subunitUnrecoverableStorageError",
    33: "subunitMotorFailure", 34: "subunitMemoryExhausted", 35: "subunitUnderTemperature",
    36: "subunitOverTemperature", 37: "subunitTimingFailure", 38: "subunitThermistorFailure",
    501: "doorOpen", 502: "doorClosed", 503: "poweredUp", 504: "poweredDown",
    505: "printerNMSReset", 506: "printerManualReset", 507: "printerReadyToPrint",
    801: "inputMediaTrayMissing", 802: "inputMediaSizeChange", 803: "inputMediaWeightChange",
    804: "inputMediaTypeChange", 805: "inputMediaColorChange", 806: "inputMediaFormPartsChange",
    807: "inputMediaSupplyLow", 808: "inputMediaSupplyEmpty", 809: "inputMediaChangeRequest",
    810: "inputManualInputRequest", 811: "inputTrayPositionFailure",
    812: "inputTrayElevationFailure", 813: "inputCannotFeedSizeSelected",
    901: "outputMediaTrayMissing", 902: "outputMediaTrayAlmostFull",
    903: "outputMediaTrayFull", 904: "outputMailboxSelectFailure",
    1001: "markerFuserUnderTemperature", 1002: "markerFuserOverTemperature",
    1003: "markerFuserTimingFailure", 1004: "markerFuserThermistorFailure",
    1005: "markerAdjustingPrintQuality", 1101: "markerTonerEmpty", 1102: "markerInkEmpty",
    1103: "markerPrintRibbonEmpty", 1104: "markerTonerAlmostEmpty",
    1105: "markerInkAlmostEmpty", 1106: "markerPrintRibbonAlmostEmpty",
    1107: "markerWasteTonerReceptacleAlmostFull", 1108: "markerWasteInkReceptacleAlmostFull",
    1109: "markerWasteTonerReceptacleFull", 1110: "markerWasteInkReceptacleFull",
    1111: "markerOpcLifeAlmostOver", 1112: "markerOpcLifeOver",
    1113: "markerDeveloperAlmostEmpty", 1114: "markerDeveloperEmpty",
    1115: "markerTonerCartridgeMissing", 1301: "mediaPathMediaTrayMissing",
    1302: "mediaPathMediaTrayAlmostFull", 1303: "mediaPathMediaTrayFull",
    1304: "mediaPathCannotDuplexMediaSelected", 1501: "interpreterMemoryIncrease",
    1502: "interpreterMemoryDecrease", 1503: "interpreterCartridgeAdded",
    1504: "interpreterCartridgeDeleted", 1505: "interpreterResourceAdded",
    1506: "interpreterResourceDeleted", 1507: "interpreterResourceUnavailable",
    1509: "interpreterComplexPageEncountered", 1801: "alertRemovalOfBinaryChangeEntry",
}

# Longest names first, so "matte black" wins over "black".
_COLOUR_WORDS = ("matte black", "photo black", "light cyan", "light magenta", "light black",
                 "light grey", "light gray", "black", "cyan", "magenta", "yellow", "red",
                 "green", "blue", "orange", "violet", "grey", "gray")
_COLOUR_PATTERN = re.compile(r"\b(" + "|".join(_COLOUR_WORDS) + r")\b", re.IGNORECASE)
_HEX_BYTE = re.compile(r"^[0-9A-Fa-f]{2}$")


def column(snapshot: Snapshot, column_oid: Oid) -> dict[Oid, Value]:
    """The rows of one table column, keyed by the index part of each OID."""
    size = len(column_oid)
    return {oid[size:]: value for oid, value in snapshot.items()
            if len(oid) > size and oid[:size] == column_oid}


def _index(index: Oid) -> str:
    return oids.dotted(index)


def _int(value: Value | None) -> int | None:
    return value if isinstance(value, int) else None


def decode_text(raw: Value | None) -> str | None:
    """An OCTET STRING as text, including the HP "hex dump" form.

    Some HP JetDirect firmware (the M880 in the corpus) answers prtMarkerSuppliesDescription
    with the first 16 characters as text, then a newline and the remaining bytes as a
    wrapped hex dump ("Black Cartridge \\n38 32 37 41 ..."), ending in a NUL. The dump is
    decoded back and joined to the first line, giving "Black Cartridge 827A HP CF300A".
    """
    if not isinstance(raw, bytes):
        return None
    text = _bytes_to_text(raw)
    head, newline, tail = text.partition("\n")
    tokens = tail.split()
    if newline and tokens and all(_HEX_BYTE.match(token) for token in tokens):
        text = head + _bytes_to_text(bytes(int(token, 16) for token in tokens))
    return text.split("\x00", 1)[0].strip()


def _bytes_to_text(raw: bytes) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("latin-1")


def decode_error_bits(raw: bytes) -> tuple[PrinterError, ...]:
    """hrPrinterDetectedErrorState: SNMP BITS, bit 0 is the most significant bit of octet 0.

    Agents send one or two octets (or none when all is well); bits past the ones defined
    are ignored, missing octets mean "not set".
    """
    errors = []
    for bit, error in enumerate(PrinterError):
        octet, position = divmod(bit, 8)
        if octet < len(raw) and raw[octet] & (0x80 >> position):
            errors.append(error)
    return tuple(errors)


def decode_identity(snapshot: Snapshot) -> PrinterIdentity:
    object_id = snapshot.get(oids.SYS_OBJECT_ID)
    oid_value = object_id if isinstance(object_id, tuple) else None
    serials = column(snapshot, oids.PRT_GENERAL_SERIAL_NUMBER)
    return PrinterIdentity(
        description=decode_text(snapshot.get(oids.SYS_DESCR)),
        object_id=oids.dotted(oid_value) if oid_value else None,
        vendor=vendor_of(oid_value),
        model=_printer_model(snapshot),
        serial=next((text for _, raw in sorted(serials.items())
                     if (text := decode_text(raw))), None),
    )


def printer_device_index(snapshot: Snapshot) -> Oid | None:
    """The hrDeviceIndex of the first printer device: the rows typed hrDevicePrinter, else
    the rows of hrPrinterTable (the Samsung types none); None if neither is known."""
    printers = sorted(index for index, kind in column(snapshot, oids.HR_DEVICE_TYPE).items()
                      if kind == oids.HR_DEVICE_PRINTER)
    printers = printers or sorted(set(column(snapshot, oids.HR_PRINTER_ERROR_STATE))
                                  | set(column(snapshot, oids.HR_PRINTER_STATUS)))
    return printers[0] if printers else None


def _printer_model(snapshot: Snapshot) -> str | None:
    """hrDeviceDescr of the printer device, else of device 1 when no device says it is the
    printer (an agent whose device 1 is a network card gives no model, not its name)."""
    descriptions = column(snapshot, oids.HR_DEVICE_DESCR)
    printer = printer_device_index(snapshot)
    return decode_text(descriptions.get(printer if printer is not None else (1,))) or None


def has_printer_mib(snapshot: Snapshot) -> bool:
    """True if any value read lies in the Printer-MIB subtree."""
    size = len(oids.PRINTER_MIB)
    return any(oid[:size] == oids.PRINTER_MIB for oid in snapshot)


def decode_counters(snapshot: Snapshot, vendor: str | None) -> PageCounters:
    units = column(snapshot, oids.PRT_MARKER_COUNTER_UNIT)
    power_on = column(snapshot, oids.PRT_MARKER_POWER_ON_COUNT)
    life_counts = []
    for index, value in sorted(column(snapshot, oids.PRT_MARKER_LIFE_COUNT).items()):
        if not isinstance(value, int):
            continue
        unit_number = _int(units.get(index))
        life_counts.append(MarkerLifeCount(
            marker=_index(index), value=value,
            unit=_COUNTER_UNITS.get(unit_number) if unit_number is not None else None,
            since_power_on=_int(power_on.get(index)),
        ))
    vendor_counters = []
    if vendor is not None:
        for definition in VENDOR_COUNTERS.get(vendor, ()):
            answer = snapshot.get(definition.oid)
            if isinstance(answer, int):
                vendor_counters.append(VendorCounter(
                    kind=definition.kind, value=answer, vendor=vendor,
                    oid=oids.dotted(definition.oid)))
    return PageCounters(life_counts=tuple(life_counts), vendor=tuple(vendor_counters))


def level_percent(level: int, max_capacity: int) -> int:
    """Level as a whole percentage of capacity, rounded half up (22050/45000 -> 49)."""
    return (200 * level + max_capacity) // (2 * max_capacity)


def _level(level: int | None, max_capacity: int | None) -> tuple[LevelState, int | None]:
    if level is None:
        return LevelState.UNKNOWN, None
    if level in _SPECIAL_LEVELS:
        return _SPECIAL_LEVELS[level], None
    if level < 0:
        return LevelState.UNKNOWN, None
    if max_capacity is None or max_capacity <= 0:
        return LevelState.CAPACITY_UNKNOWN, None
    return LevelState.MEASURED, level_percent(level, max_capacity)


def colour_from_description(description: str) -> str | None:
    match = _COLOUR_PATTERN.search(description)
    return match.group(1).lower() if match else None


def decode_supplies(snapshot: Snapshot) -> tuple[Supply, ...]:
    descriptions = column(snapshot, oids.PRT_SUPPLIES_DESCRIPTION)
    types = column(snapshot, oids.PRT_SUPPLIES_TYPE)
    classes = column(snapshot, oids.PRT_SUPPLIES_CLASS)
    units = column(snapshot, oids.PRT_SUPPLIES_UNIT)
    maxima = column(snapshot, oids.PRT_SUPPLIES_MAX_CAPACITY)
    levels = column(snapshot, oids.PRT_SUPPLIES_LEVEL)
    colorant_indices = column(snapshot, oids.PRT_SUPPLIES_COLORANT_INDEX)
    colorants = column(snapshot, oids.PRT_COLORANT_VALUE)
    indices = sorted(set(descriptions) | set(levels) | set(maxima))
    supplies = []
    for index in indices:
        description = decode_text(descriptions.get(index)) or ""
        level = _int(levels.get(index))
        max_capacity = _int(maxima.get(index))
        state, percent = _level(level, max_capacity)
        type_number = _int(types.get(index))
        class_number = _int(classes.get(index))
        unit_number = _int(units.get(index))
        supplies.append(Supply(
            index=_index(index),
            description=description,
            type=_SUPPLY_TYPES.get(type_number) if type_number is not None else None,
            supply_class=_SUPPLY_CLASSES.get(class_number) if class_number is not None else None,
            colour=_colour(index, colorant_indices, colorants, description),
            unit=_SUPPLY_UNITS.get(unit_number) if unit_number is not None else None,
            level=level if level is not None and level >= 0 else None,
            max_capacity=max_capacity if max_capacity is not None and max_capacity > 0 else None,
            state=state,
            percent=percent,
        ))
    return tuple(supplies)


def _colour(index: Oid, colorant_indices: Mapping[Oid, Value], colorants: Mapping[Oid, Value],
            description: str) -> str | None:
    """The colorant the Printer-MIB names for this supply, else a colour word in its name.

    None of the recorded printers fills prtMarkerColorantTable, so the description
    ("Toner (Cyan)", "Black Cartridge ...") is the usual source.
    """
    colorant_index = _int(colorant_indices.get(index))
    if colorant_index and index:
        named = decode_text(colorants.get((index[0], colorant_index)))
        if named:
            return named.lower()
    return colour_from_description(description)


def decode_status(snapshot: Snapshot) -> PrinterStatus:
    device_types = column(snapshot, oids.HR_DEVICE_TYPE)
    device_statuses = column(snapshot, oids.HR_DEVICE_STATUS)
    printer_states = column(snapshot, oids.HR_PRINTER_STATUS)
    error_states = column(snapshot, oids.HR_PRINTER_ERROR_STATE)
    printer_indices = {index for index, kind in device_types.items()
                       if kind == oids.HR_DEVICE_PRINTER}
    printer_indices |= set(printer_states) | set(error_states)
    devices = []
    for index in sorted(printer_indices):
        status_number = _int(device_statuses.get(index))
        state_number = _int(printer_states.get(index))
        raw_errors = error_states.get(index)
        error_bytes = raw_errors if isinstance(raw_errors, bytes) else None
        devices.append(PrinterDeviceStatus(
            device_index=index[0],
            device_status=_DEVICE_STATUSES.get(status_number) if status_number else None,
            printer_state=_PRINTER_STATES.get(state_number) if state_number else None,
            errors=decode_error_bits(error_bytes) if error_bytes is not None else (),
            error_bits_hex=error_bytes.hex() if error_bytes is not None else None,
        ))
    return PrinterStatus(devices=tuple(devices), alerts=decode_alerts(snapshot))


def decode_alerts(snapshot: Snapshot) -> tuple[Alert, ...]:
    severities = column(snapshot, oids.PRT_ALERT_SEVERITY)
    groups = column(snapshot, oids.PRT_ALERT_GROUP)
    locations = column(snapshot, oids.PRT_ALERT_LOCATION)
    codes = column(snapshot, oids.PRT_ALERT_CODE)
    descriptions = column(snapshot, oids.PRT_ALERT_DESCRIPTION)
    times = column(snapshot, oids.PRT_ALERT_TIME)
    alerts = []
    for index in sorted(set(severities) | set(codes)):
        alerts.append(Alert(
            index=_index(index),
            severity=_name(_ALERT_SEVERITIES, severities.get(index)),
            group=_name(_ALERT_GROUPS, groups.get(index)),
            code=_name(_ALERT_CODES, codes.get(index)),
            description=decode_text(descriptions.get(index)) or "",
            location=_int(locations.get(index)),
            time_ticks=_int(times.get(index)),
        ))
    return tuple(alerts)


def _name(names: Mapping[int, str], value: Value | None) -> str:
    """The MIB name of an enumerated value; an unlisted number stays visible as such."""
    number = _int(value)
    if number is None:
        return "unknown"
    return names.get(number, f"code {number}")
