"""The standard OIDs a poll reads, as integer tuples (no MIB files are loaded at run time).

Loading MIB modules through pysmi costs seconds and needs the MIB text on the kiosk;
numeric OIDs cost nothing and are what the recordings and net-snmp's ``-On`` use.
"""

from __future__ import annotations

Oid = tuple[int, ...]


def parse(dotted: str) -> Oid:
    return tuple(int(part) for part in dotted.strip(".").split("."))


def dotted(oid: Oid) -> str:
    return ".".join(str(part) for part in oid)


SYS_DESCR: Oid = parse("1.3.6.1.2.1.1.1.0")
SYS_OBJECT_ID: Oid = parse("1.3.6.1.2.1.1.2.0")

# Host-Resources-MIB (RFC 2790)
HR_DEVICE_TYPE: Oid = parse("1.3.6.1.2.1.25.3.2.1.2")
HR_DEVICE_DESCR: Oid = parse("1.3.6.1.2.1.25.3.2.1.3")
HR_DEVICE_STATUS: Oid = parse("1.3.6.1.2.1.25.3.2.1.5")
HR_DEVICE_PRINTER: Oid = parse("1.3.6.1.2.1.25.3.1.5")
HR_PRINTER_TABLE: Oid = parse("1.3.6.1.2.1.25.3.5.1")
HR_PRINTER_STATUS: Oid = (*HR_PRINTER_TABLE, 1)
HR_PRINTER_ERROR_STATE: Oid = (*HR_PRINTER_TABLE, 2)

# Printer-MIB (RFC 3805)
PRINTER_MIB: Oid = parse("1.3.6.1.2.1.43")
PRT_GENERAL_SERIAL_NUMBER: Oid = parse("1.3.6.1.2.1.43.5.1.1.17")
PRT_MARKER_TABLE: Oid = parse("1.3.6.1.2.1.43.10.2.1")
PRT_MARKER_COUNTER_UNIT: Oid = (*PRT_MARKER_TABLE, 3)
PRT_MARKER_LIFE_COUNT: Oid = (*PRT_MARKER_TABLE, 4)
PRT_MARKER_POWER_ON_COUNT: Oid = (*PRT_MARKER_TABLE, 5)

PRT_SUPPLIES_TABLE: Oid = parse("1.3.6.1.2.1.43.11.1.1")
PRT_SUPPLIES_COLORANT_INDEX: Oid = (*PRT_SUPPLIES_TABLE, 3)
PRT_SUPPLIES_CLASS: Oid = (*PRT_SUPPLIES_TABLE, 4)
PRT_SUPPLIES_TYPE: Oid = (*PRT_SUPPLIES_TABLE, 5)
PRT_SUPPLIES_DESCRIPTION: Oid = (*PRT_SUPPLIES_TABLE, 6)
PRT_SUPPLIES_UNIT: Oid = (*PRT_SUPPLIES_TABLE, 7)
PRT_SUPPLIES_MAX_CAPACITY: Oid = (*PRT_SUPPLIES_TABLE, 8)
PRT_SUPPLIES_LEVEL: Oid = (*PRT_SUPPLIES_TABLE, 9)

PRT_COLORANT_VALUE: Oid = parse("1.3.6.1.2.1.43.12.1.1.4")

PRT_ALERT_TABLE: Oid = parse("1.3.6.1.2.1.43.18.1.1")
PRT_ALERT_SEVERITY: Oid = (*PRT_ALERT_TABLE, 2)
PRT_ALERT_GROUP: Oid = (*PRT_ALERT_TABLE, 4)
PRT_ALERT_LOCATION: Oid = (*PRT_ALERT_TABLE, 6)
PRT_ALERT_CODE: Oid = (*PRT_ALERT_TABLE, 7)
PRT_ALERT_DESCRIPTION: Oid = (*PRT_ALERT_TABLE, 8)
PRT_ALERT_TIME: Oid = (*PRT_ALERT_TABLE, 9)

# The columns whose first row identifies the printer, read by the poll's first GETNEXT
# (not walked). hrDeviceDescr and prtGeneralSerialNumber give the model and serial:
# sysDescr is often the network card's ("HP ETHERNET MULTI-ENVIRONMENT").
IDENTITY_COLUMNS: tuple[Oid, ...] = (
    SYS_DESCR[:-1],
    SYS_OBJECT_ID[:-1],
    HR_DEVICE_DESCR,
    PRT_GENERAL_SERIAL_NUMBER,
)

# The subtrees one poll walks; the benchmark walks the same ones with net-snmp.
POLLED_SUBTREES: tuple[Oid, ...] = (
    PRT_MARKER_TABLE,
    PRT_SUPPLIES_TABLE,
    PRT_COLORANT_VALUE,
    HR_DEVICE_TYPE,
    HR_DEVICE_STATUS,
    HR_PRINTER_TABLE,
    PRT_ALERT_TABLE,
)
