"""``SnmpPrinterMonitor``: poll one printer's counters, supplies and status with pysnmp.

pysnmp 7 (asyncio) is imported inside the functions that talk to the network, so that
importing this module needs neither pysnmp nor a socket (house rules 4 and 5); use
:func:`is_usable` to ask whether polling can work on this machine.

One poll starts with one GETNEXT that reads sysDescr/sysObjectID, the first device's
description and the serial number, and finds which tables are empty (it also tells
whether the printer answers at all, so an unreachable one costs one timeout, not one per
table); then every non-empty table is walked, at the same time as the vendor's counter
GET. MIB lookup is off: values are decoded from numeric OIDs by :mod:`drivers.snmp.decode`.

Failures are results, not exceptions: a timeout, a refused v3 user or a name that does
not resolve gives ``PollResult(reachable=False, reason=...)`` and the caller polls again
at its own pace. Only programming errors (bad protocol names) raise.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

from drivers.snmp import decode, oids
from drivers.snmp.oids import Oid
from drivers.snmp.types import CommunityAuth, PollResult, SnmpTarget, SnmpVersion, UsmAuth
from drivers.snmp.vendors import VENDOR_COUNTERS

AUTH_PROTOCOLS = ("MD5", "SHA", "SHA224", "SHA256", "SHA384", "SHA512")
PRIV_PROTOCOLS = ("DES", "3DES", "AES", "AES128", "AES192", "AES256")

# GETBULK rows per request. Each walk ends with one page past its subtree, which the
# agent computes for nothing, so a middling page beats a long one (measured on snmpsim).
MAX_REPETITIONS = 16


def is_usable() -> bool:
    """True if pysnmp's asyncio API can be imported (SNMPv3 privacy also needs cryptography)."""
    try:
        import pysnmp.hlapi.v3arch.asyncio  # noqa: F401
    except ImportError:
        return False
    return True


class SnmpUnavailable(RuntimeError):
    """pysnmp is not installed: the monitor cannot poll at all."""


class _NoAnswer(Exception):
    """Internal: the agent did not answer usefully; the message says why."""


class SnmpPrinterMonitor:
    """Polls one printer. Construct freely; the SNMP engine is made on the first poll.

    Use ``async with`` or call :meth:`close` to release the engine's socket.
    """

    def __init__(self, target: SnmpTarget) -> None:
        _check_auth(target.auth)
        self.target = target
        self._engine: Any = None

    async def __aenter__(self) -> SnmpPrinterMonitor:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        if self._engine is not None:
            self._engine.close_dispatcher()
            self._engine = None

    async def poll(self) -> PollResult:
        """Read counters, supplies and status once; never raises for network trouble."""
        started = time.perf_counter()
        target = self.target
        try:
            snapshot, printer_mib = await self._read_all()
        except _NoAnswer as exc:
            return PollResult(host=target.host, port=target.port, reachable=False,
                              reason=str(exc), elapsed_s=time.perf_counter() - started)
        identity = decode.decode_identity(snapshot)
        return PollResult(
            host=target.host, port=target.port, reachable=True, identity=identity,
            counters=decode.decode_counters(snapshot, identity.vendor),
            supplies=decode.decode_supplies(snapshot),
            status=decode.decode_status(snapshot),
            printer_mib=printer_mib,
            elapsed_s=time.perf_counter() - started,
        )

    async def _read_all(self) -> tuple[dict[Oid, decode.Value], bool]:
        """The snapshot, and whether the agent has any Printer-MIB object.

        The Printer-MIB root rides along in the first GETNEXT as a probe, never walked:
        it finds Printer-MIB objects outside the tables polled (prtInput, prtGeneral...).
        """
        session = await self._session()
        probes = (*oids.POLLED_SUBTREES, oids.PRINTER_MIB)
        snapshot, answering = await session.first_look(probes)
        if oids.SYS_OBJECT_ID not in snapshot and oids.SYS_DESCR not in snapshot:
            raise _NoAnswer(f"{self._where()} answered without sysDescr/sysObjectID")
        # first_look names every probe when it could not tell (SNMPv1 fallback): then only
        # what the walks bring back counts.
        probe_says = answering != probes and oids.PRINTER_MIB in answering
        subtrees = tuple(subtree for subtree in answering if subtree != oids.PRINTER_MIB)
        identity = decode.decode_identity(snapshot)
        vendor_oids = tuple(c.oid for c in VENDOR_COUNTERS.get(identity.vendor or "", ()))
        # return_exceptions: every request finishes (or times out) before the poll returns,
        # so no orphaned request outlives the poll when one of them fails.
        parts = await asyncio.gather(
            *(session.walk(subtree) for subtree in subtrees),
            *((session.get(vendor_oids),) if vendor_oids else ()),
            return_exceptions=True,
        )
        for part in parts:
            if isinstance(part, BaseException):
                raise part
            snapshot.update(part)
        # The first GETNEXT read the first device's description; when the printer is
        # another device, ask for its own (one more request, only on such agents).
        printer = decode.printer_device_index(snapshot)
        model_oid = (*oids.HR_DEVICE_DESCR, *printer) if printer else None
        if model_oid is not None and model_oid not in snapshot:
            snapshot.update(await session.get((model_oid,)))
        return snapshot, probe_says or decode.has_printer_mib(snapshot)

    async def _session(self) -> _Session:
        try:
            from pysnmp.error import PySnmpError
            from pysnmp.hlapi.v3arch.asyncio import SnmpEngine, UdpTransportTarget
        except ImportError as exc:
            raise SnmpUnavailable("pysnmp is not installed (pip install pysnmp)") from exc
        if self._engine is None:
            self._engine = SnmpEngine()
            builder = self._engine.get_mib_builder()
            builder.set_mib_compiler(_NoMibCompiler(), _pysnmp_mib_dir())
        try:
            transport = await UdpTransportTarget.create(
                (self.target.host, self.target.port),
                timeout=self.target.timeout_s, retries=self.target.retries)
        except PySnmpError as exc:
            raise _NoAnswer(f"{self._where()}: {exc}") from exc
        return _Session(self._engine, self.target, transport, self._where())

    def _where(self) -> str:
        return f"{self.target.host}:{self.target.port}"


class _NoMibCompiler:
    """Stands in for pysmi's MIB compiler, which pysnmp attaches on first use if installed.

    This driver names everything by numeric OID, so it needs no MIB beyond those pysnmp
    ships. pysnmp's default compiler would parse with pysmi (0.15 s per engine) and fetch
    missing MIBs from mibs.pysnmp.com; a kiosk should do neither.
    """

    def compile(self, *names: str, **options: object) -> dict[str, str]:
        return dict.fromkeys(names, "missing")


def _pysnmp_mib_dir() -> str:
    """pysnmp's own compiled MIB folder: already a MIB source, so adding it changes nothing."""
    import os

    import pysnmp.smi.mibs

    return str(os.path.dirname(pysnmp.smi.mibs.__file__))


class _Session:
    """One poll's worth of requests to one agent, translating pysnmp's results."""

    def __init__(self, engine: Any, target: SnmpTarget, transport: Any, where: str) -> None:
        from pysnmp.hlapi.v3arch.asyncio import ContextData

        self._engine = engine
        self._target = target
        self._transport = transport
        self._where = where
        self._auth = _auth_data(target.auth)
        context_name = target.auth.context_name if isinstance(target.auth, UsmAuth) else ""
        self._context = ContextData(contextName=context_name)

    async def get(self, wanted: tuple[Oid, ...]) -> dict[Oid, decode.Value]:
        from pysnmp.hlapi.v3arch.asyncio import ObjectIdentity, ObjectType, get_cmd

        var_binds = [ObjectType(ObjectIdentity(oid)) for oid in wanted]
        error_indication, error_status, _, answers = await self._guard(get_cmd(
            self._engine, self._auth, self._transport, self._context, *var_binds,
            lookupMib=False))
        self._check(error_indication)
        if error_status:
            # SNMPv1 fails a whole GET when one OID is missing: ask one by one.
            if len(wanted) > 1 and self._target.auth.version is SnmpVersion.V1:
                found: dict[Oid, decode.Value] = {}
                for oid in wanted:
                    found.update(await self.get((oid,)))
                return found
            return {}
        return _converted(answers)

    async def first_look(self, subtrees: tuple[Oid, ...]
                         ) -> tuple[dict[Oid, decode.Value], tuple[Oid, ...]]:
        """sysDescr, sysObjectID and which subtrees hold anything, in one GETNEXT.

        GETNEXT of sysDescr's and sysObjectID's column gives their ``.0`` instance, and
        GETNEXT of each subtree root gives its first OID, or one beyond it when the agent
        has nothing there. A GETBULK walk of an empty subtree would still make the agent
        compute a page of OIDs past it; most printers have no alert or colorant rows.
        """
        from pysnmp.hlapi.v3arch.asyncio import ObjectIdentity, ObjectType, next_cmd

        identity = oids.IDENTITY_COLUMNS
        error_indication, error_status, _, answers = await self._guard(next_cmd(
            self._engine, self._auth, self._transport, self._context,
            *(ObjectType(ObjectIdentity(oid)) for oid in (*identity, *subtrees)),
            lookupMib=False))
        self._check(error_indication)
        if error_status or len(answers) != len(identity) + len(subtrees):
            # SNMPv1 fails the whole request when one OID is at the end of the MIB.
            first_rows = tuple((*column, 1) if column[-1] != 0 else column
                               for column in (oids.SYS_DESCR, oids.SYS_OBJECT_ID,
                                              oids.HR_DEVICE_DESCR,
                                              oids.PRT_GENERAL_SERIAL_NUMBER))
            return await self.get(first_rows), subtrees
        snapshot: dict[Oid, decode.Value] = {}
        for column, var_bind in zip(identity, answers[: len(identity)], strict=True):
            snapshot.update(_converted([var_bind], within=column))
        after = [tuple(int(part) for part in var_bind[0])
                 for var_bind in answers[len(identity):]]
        return snapshot, tuple(subtree for subtree, first in zip(subtrees, after, strict=True)
                               if first[: len(subtree)] == subtree)

    async def walk(self, subtree: Oid) -> dict[Oid, decode.Value]:
        from pysnmp.hlapi.v3arch.asyncio import (
            ObjectIdentity,
            ObjectType,
            bulk_walk_cmd,
            walk_cmd,
        )

        start = ObjectType(ObjectIdentity(subtree))
        if self._target.auth.version is SnmpVersion.V1:
            pages = walk_cmd(self._engine, self._auth, self._transport, self._context, start,
                             lexicographicMode=False, lookupMib=False)
        else:
            pages = bulk_walk_cmd(self._engine, self._auth, self._transport, self._context,
                                  0, MAX_REPETITIONS, start,
                                  lexicographicMode=False, lookupMib=False)
        found: dict[Oid, decode.Value] = {}
        async for error_indication, error_status, _, answers in self._guard_walk(pages):
            self._check(error_indication)
            if error_status:  # v1 end of MIB (noSuchName) or an agent error: table ends
                break
            found.update(_converted(answers, within=subtree))
        return found

    async def _guard(self, request: Any) -> Any:
        from pysnmp.error import PySnmpError
        from pysnmp.proto.error import StatusInformation

        try:
            return await request
        except (PySnmpError, StatusInformation) as exc:
            raise _NoAnswer(f"{self._where}: {_describe(exc)}") from exc

    async def _guard_walk(self, pages: Any) -> Any:
        from pysnmp.error import PySnmpError
        from pysnmp.proto.error import StatusInformation

        try:
            async for page in pages:
                yield page
        except (PySnmpError, StatusInformation) as exc:
            raise _NoAnswer(f"{self._where}: {_describe(exc)}") from exc

    def _check(self, error_indication: Any) -> None:
        if error_indication:
            target = self._target
            detail = str(error_indication)
            if "timeout" in detail.lower() or "timed out" in detail.lower():
                detail = (f"no response within {target.timeout_s:g} s "
                          f"(sent {target.retries + 1} time{'s' if target.retries else ''})")
            raise _NoAnswer(f"{self._where}: {detail}")


def _describe(exc: Exception) -> str:
    status = getattr(exc, "get", None)
    indication = status("errorIndication") if callable(status) else None
    return str(indication or exc)


def _converted(answers: Any, within: Oid | None = None) -> dict[Oid, decode.Value]:
    """pysnmp var-binds as plain Python values; exception values (noSuchObject...) dropped."""
    from pyasn1.type import univ
    from pysnmp.proto import rfc1905

    result: dict[Oid, decode.Value] = {}
    for var_bind in answers:
        name, value = var_bind[0], var_bind[1]
        oid = tuple(int(part) for part in name)
        if within is not None and oid[: len(within)] != within:
            continue
        if isinstance(value, (rfc1905.NoSuchObject, rfc1905.NoSuchInstance,
                              rfc1905.EndOfMibView, univ.Null)):
            continue
        if isinstance(value, univ.ObjectIdentifier):
            result[oid] = tuple(int(part) for part in value)
        elif isinstance(value, univ.OctetString):
            result[oid] = bytes(value.asOctets())
        elif isinstance(value, univ.Integer):
            result[oid] = int(value)
    return result


def _check_auth(auth: CommunityAuth | UsmAuth) -> None:
    if isinstance(auth, UsmAuth):
        if auth.auth_protocol.upper() not in AUTH_PROTOCOLS:
            raise ValueError(f"SNMPv3 auth protocol {auth.auth_protocol!r} is not one of "
                             f"{', '.join(AUTH_PROTOCOLS)}")
        if auth.priv_protocol.upper() not in PRIV_PROTOCOLS:
            raise ValueError(f"SNMPv3 privacy protocol {auth.priv_protocol!r} is not one of "
                             f"{', '.join(PRIV_PROTOCOLS)}")
        for name, key in (("auth key", auth.auth_key), ("privacy key", auth.priv_key)):
            if len(key) < 8:
                raise ValueError(f"SNMPv3 {name} must have at least 8 characters (RFC 3414)")
    elif auth.version is SnmpVersion.V3:
        raise ValueError("SNMP version 3 needs a user (UsmAuth), not a community")


def _auth_data(auth: CommunityAuth | UsmAuth) -> Any:
    from pysnmp.hlapi.v3arch import asyncio as hlapi

    if isinstance(auth, CommunityAuth):
        return hlapi.CommunityData(auth.community,
                                   mpModel=0 if auth.version is SnmpVersion.V1 else 1)
    auth_protocols = {
        "MD5": hlapi.usmHMACMD5AuthProtocol, "SHA": hlapi.usmHMACSHAAuthProtocol,
        "SHA224": hlapi.usmHMAC128SHA224AuthProtocol,
        "SHA256": hlapi.usmHMAC192SHA256AuthProtocol,
        "SHA384": hlapi.usmHMAC256SHA384AuthProtocol,
        "SHA512": hlapi.usmHMAC384SHA512AuthProtocol,
    }
    priv_protocols = {
        "DES": hlapi.usmDESPrivProtocol, "3DES": hlapi.usm3DESEDEPrivProtocol,
        "AES": hlapi.usmAesCfb128Protocol, "AES128": hlapi.usmAesCfb128Protocol,
        "AES192": hlapi.usmAesCfb192Protocol, "AES256": hlapi.usmAesCfb256Protocol,
    }
    return hlapi.UsmUserData(
        auth.user, auth.auth_key, auth.priv_key,
        authProtocol=auth_protocols[auth.auth_protocol.upper()],
        privProtocol=priv_protocols[auth.priv_protocol.upper()],
    )


def poll_printer(target: SnmpTarget) -> PollResult:
    """Poll once from synchronous code (a CLI, a thread): runs its own event loop.

    Inside a running event loop, ``await SnmpPrinterMonitor(target).poll()`` instead.
    """
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        pass
    else:
        raise RuntimeError("poll_printer() blocks; inside an event loop await "
                           "SnmpPrinterMonitor(target).poll() instead")

    async def once() -> PollResult:
        async with SnmpPrinterMonitor(target) as monitor:
            return await monitor.poll()

    return asyncio.run(once())
