"""Vendor page counters: which enterprise OIDs mean "mono prints", "colour copies", ...

The Printer-MIB has one life count per marker; the split by function (print / copy /
scan) and by colour lives in each vendor's private MIB. A vendor is recognised by the
enterprise number in sysObjectID, and only its counters are asked for (one GET), so a
poll never walks a whole enterprise subtree.

The table holds the counters the corpus recordings carry, with the value each recording
was checked against in the tests (HP LaserJet, Konica Minolta bizhub, Sharp MX). The
other vendors named in the issue (Ricoh, Kyocera/UTAX, Xerox, Brother, Canon, Lexmark,
Dell, OKI, Samsung, Epson) are recognised by name, and their Printer-MIB life count is
read; their recordings carry no function or colour counters, so none are guessed here.
"""

from __future__ import annotations

from dataclasses import dataclass

from drivers.snmp.oids import Oid, parse
from drivers.snmp.types import CounterKind

ENTERPRISES_PREFIX: Oid = parse("1.3.6.1.4.1")

VENDOR_BY_ENTERPRISE: dict[int, str] = {
    11: "HP",
    236: "Samsung",
    253: "Xerox",
    367: "Ricoh",
    641: "Lexmark",
    674: "Dell",
    1248: "Epson",
    1347: "Kyocera",
    1602: "Canon",
    2001: "OKI",
    2385: "Sharp",
    2435: "Brother",
    18334: "Konica Minolta",
}


@dataclass(frozen=True)
class VendorCounterOid:
    oid: Oid
    kind: CounterKind


_HP_PAGE_COUNTS = "1.3.6.1.4.1.11.2.3.9.4.2.1.4.1.2"  # HP-LASERJET-COMMON-MIB
_KONICA_COUNTS = "1.3.6.1.4.1.18334.1.1.1.5.7.2"
_SHARP_COUNTS = "1.3.6.1.4.1.2385.1.1.19.2.1.3"  # .<function>.<4>.<colour mode>

VENDOR_COUNTERS: dict[str, tuple[VendorCounterOid, ...]] = {
    "HP": (
        VendorCounterOid(parse(f"{_HP_PAGE_COUNTS}.5.0"), CounterKind.TOTAL),
        VendorCounterOid(parse(f"{_HP_PAGE_COUNTS}.6.0"), CounterKind.TOTAL_MONO),
        VendorCounterOid(parse(f"{_HP_PAGE_COUNTS}.7.0"), CounterKind.TOTAL_COLOUR),
        VendorCounterOid(parse(f"{_HP_PAGE_COUNTS}.22.0"), CounterKind.DUPLEX),
        VendorCounterOid(parse(f"{_HP_PAGE_COUNTS}.34.0"), CounterKind.JAMS),
        VendorCounterOid(parse("1.3.6.1.4.1.11.2.3.9.4.2.1.2.2.1.74.0"), CounterKind.SCAN_TOTAL),
    ),
    "Konica Minolta": (
        VendorCounterOid(parse(f"{_KONICA_COUNTS}.2.1.5.1.1"), CounterKind.COPY_MONO),
        VendorCounterOid(parse(f"{_KONICA_COUNTS}.2.1.5.2.1"), CounterKind.COPY_COLOUR),
        VendorCounterOid(parse(f"{_KONICA_COUNTS}.2.1.5.1.2"), CounterKind.PRINT_MONO),
        VendorCounterOid(parse(f"{_KONICA_COUNTS}.2.1.5.2.2"), CounterKind.PRINT_COLOUR),
        VendorCounterOid(parse(f"{_KONICA_COUNTS}.1.3.0"), CounterKind.DUPLEX),
        VendorCounterOid(parse(f"{_KONICA_COUNTS}.1.5.0"), CounterKind.SCAN_TOTAL),
    ),
    "Sharp": (
        VendorCounterOid(parse(f"{_SHARP_COUNTS}.5.4.61"), CounterKind.TOTAL_MONO),
        VendorCounterOid(parse(f"{_SHARP_COUNTS}.5.4.63"), CounterKind.TOTAL_COLOUR),
        VendorCounterOid(parse(f"{_SHARP_COUNTS}.1.4.60"), CounterKind.PRINT_TOTAL),
        VendorCounterOid(parse(f"{_SHARP_COUNTS}.1.4.61"), CounterKind.PRINT_MONO),
        VendorCounterOid(parse(f"{_SHARP_COUNTS}.1.4.63"), CounterKind.PRINT_COLOUR),
        VendorCounterOid(parse(f"{_SHARP_COUNTS}.4.4.60"), CounterKind.COPY_TOTAL),
        VendorCounterOid(parse(f"{_SHARP_COUNTS}.4.4.61"), CounterKind.COPY_MONO),
        VendorCounterOid(parse(f"{_SHARP_COUNTS}.4.4.63"), CounterKind.COPY_COLOUR),
        VendorCounterOid(parse(f"{_SHARP_COUNTS}.7.4.51"), CounterKind.SCAN_MONO),
        VendorCounterOid(parse(f"{_SHARP_COUNTS}.7.4.53"), CounterKind.SCAN_COLOUR),
        VendorCounterOid(parse(f"{_SHARP_COUNTS}.7.4.50"), CounterKind.SCAN_SEND),
        VendorCounterOid(parse(f"{_SHARP_COUNTS}.1.4.75"), CounterKind.DUPLEX),
    ),
}


def vendor_of(sys_object_id: Oid | None) -> str | None:
    """The vendor named by sysObjectID's enterprise number, or None if unknown."""
    if sys_object_id is None or sys_object_id[: len(ENTERPRISES_PREFIX)] != ENTERPRISES_PREFIX:
        return None
    rest = sys_object_id[len(ENTERPRISES_PREFIX):]
    return VENDOR_BY_ENTERPRISE.get(rest[0]) if rest else None
