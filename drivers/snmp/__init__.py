"""SNMP printer monitor: page counters, supplies, status and alerts of a networked printer.

``SnmpPrinterMonitor`` (asyncio, pysnmp 7) and ``poll_printer`` (blocking) return a
``PollResult``; everything else here is the driver's own types. pysnmp is only imported
when a poll runs: check ``is_usable()`` first.
"""

from drivers.snmp.monitor import (
    SnmpPrinterMonitor,
    SnmpUnavailable,
    is_usable,
    poll_printer,
)
from drivers.snmp.types import (
    Alert,
    CommunityAuth,
    CounterKind,
    CounterUnit,
    DeviceStatus,
    LevelState,
    MarkerLifeCount,
    PageCounters,
    PollResult,
    PrinterDeviceStatus,
    PrinterError,
    PrinterIdentity,
    PrinterState,
    PrinterStatus,
    SnmpTarget,
    SnmpVersion,
    Supply,
    SupplyClass,
    SupplyType,
    UsmAuth,
    VendorCounter,
)

__all__ = [
    "Alert", "CommunityAuth", "CounterKind", "CounterUnit", "DeviceStatus", "LevelState",
    "MarkerLifeCount", "PageCounters", "PollResult", "PrinterDeviceStatus", "PrinterError",
    "PrinterIdentity", "PrinterState", "PrinterStatus", "SnmpPrinterMonitor", "SnmpTarget",
    "SnmpUnavailable", "SnmpVersion", "Supply", "SupplyClass", "SupplyType", "UsmAuth",
    "VendorCounter", "is_usable", "poll_printer",
]
