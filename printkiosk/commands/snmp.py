"""Poll a printer over SNMP once and print its page counters, supplies and status.

  printkiosk snmp 192.0.2.10                        # v2c, community "public"
  printkiosk snmp printer.lan:1161 --community c --version 1 --json
  printkiosk snmp 192.0.2.10 --v3-user kiosk --auth-key ... --priv-key ...
  printkiosk snmp --config /etc/printkiosk/kiosk.toml   # the kiosk's printer, as it polls
                                                        # it (v3 keys from its keys file)

Exit status: 0 the printer answered, 3 it did not (the reason is printed),
2 usage error, 1 SNMP support (pysnmp) is not installed.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from drivers.snmp import PollResult, SnmpTarget

EXIT_OK = 0
EXIT_NO_SNMP = 1
EXIT_USAGE = 2
EXIT_UNREACHABLE = 3


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("host", metavar="HOST[:PORT]", nargs="?",
                        help="printer address; port 161 unless given ([v6addr]:port for IPv6)")
    parser.add_argument("--config", type=Path, metavar="KIOSK_TOML",
                        help="poll the printer of this kiosk file with its [printer.snmp] "
                             "settings and keys, instead of HOST and the options below")
    parser.add_argument("--version", dest="snmp_version", choices=("1", "2c", "3"),
                        help="SNMP version (default 2c, or 3 when --v3-user is given)")
    parser.add_argument("--community", help="v1/v2c community (default public)")
    parser.add_argument("--v3-user", help="SNMPv3 user name (authPriv)")
    parser.add_argument("--auth-key", help="SNMPv3 authentication pass phrase")
    parser.add_argument("--priv-key", help="SNMPv3 privacy pass phrase")
    parser.add_argument("--auth-protocol", default="SHA",
                        help="MD5, SHA, SHA224, SHA256, SHA384 or SHA512 (default SHA)")
    parser.add_argument("--priv-protocol", default="AES",
                        help="DES, 3DES, AES, AES128, AES192 or AES256 (default AES)")
    parser.add_argument("--context", default="", help="SNMPv3 context name (default empty)")
    parser.add_argument("--timeout", type=float, default=2.0, metavar="S",
                        help="seconds to wait for each answer (default 2)")
    parser.add_argument("--retries", type=int, default=1,
                        help="times a request is resent after a timeout (default 1)")
    parser.add_argument("--json", action="store_true", help="print the result as JSON")


class UsageError(ValueError):
    """A command-line combination that cannot work; the message says which and why."""


def run(args: argparse.Namespace) -> int:
    from drivers.snmp import is_usable, poll_printer

    try:
        target = build_target(args)
    except UsageError as exc:
        print(f"printkiosk snmp: {exc}", file=sys.stderr)
        return EXIT_USAGE
    if not is_usable():
        print("printkiosk snmp: pysnmp is not installed", file=sys.stderr)
        return EXIT_NO_SNMP
    result = poll_printer(target)
    text = (json.dumps(result.as_dict(), indent=2, ensure_ascii=False) if args.json
            else render_text(result))
    write_utf8(text + "\n")
    return EXIT_OK if result.reachable else EXIT_UNREACHABLE


def write_utf8(text: str) -> None:
    """Printer names are not ASCII everywhere ("Imprimante 2e étage"): write UTF-8 bytes,
    whatever the locale of the shell (a C locale would make print() fail or escape)."""
    sys.stdout.flush()
    sys.stdout.buffer.write(text.encode("utf-8"))
    sys.stdout.buffer.flush()


def split_host(text: str) -> tuple[str, int]:
    """``host``, ``host:port``, ``[v6]`` or ``[v6]:port`` -> (host, port)."""
    host, port_text = text, None
    if text.startswith("["):
        host, _, rest = text[1:].partition("]")
        if rest and not rest.startswith(":"):
            raise UsageError(f"HOST {text!r}: expected [address]:port")
        port_text = rest[1:] if rest else None
    elif text.count(":") == 1:
        host, port_text = text.split(":")
    if not host:
        raise UsageError(f"HOST {text!r}: no host name")
    if port_text is None:
        return host, 161
    if not port_text.isdigit() or not 0 < int(port_text) < 65536:
        raise UsageError(f"HOST {text!r}: port {port_text!r} is not a number from 1 to 65535")
    return host, int(port_text)


def build_target(args: argparse.Namespace) -> SnmpTarget:
    if args.config is not None:
        return _kiosk_target(args)
    if args.host is None:
        raise UsageError("give HOST[:PORT], or --config KIOSK_TOML")
    return _target_from_options(args)


# Options that --config replaces: (attribute, option, value when not given).
_REPLACED_BY_CONFIG = (("host", "HOST", None), ("snmp_version", "--version", None),
                       ("community", "--community", None), ("v3_user", "--v3-user", None),
                       ("auth_key", "--auth-key", None), ("priv_key", "--priv-key", None),
                       ("context", "--context", ""))


def _kiosk_target(args: argparse.Namespace) -> SnmpTarget:
    """The kiosk file's SNMP target, exactly as the kiosk builds it (terminal.wiring)."""
    from terminal.config import ConfigError, load_kiosk_config
    from terminal.wiring import snmp_target

    given = [option for name, option, unset in _REPLACED_BY_CONFIG
             if getattr(args, name) != unset]
    if given:
        raise UsageError(f"--config takes the printer and credentials from the kiosk file; "
                         f"drop {', '.join(given)}")
    try:
        target = snmp_target(load_kiosk_config(args.config), args.config.name)
    except ConfigError as exc:
        raise UsageError("\n".join(exc.problems)) from exc
    if target is None:
        raise UsageError(f"{args.config.name}: printer.snmp.enabled is false: this kiosk "
                         "does not poll its printer")
    return target


def _target_from_options(args: argparse.Namespace) -> SnmpTarget:
    from drivers.snmp import CommunityAuth, SnmpTarget, SnmpVersion, UsmAuth

    host, port = split_host(args.host)
    version = args.snmp_version or ("3" if args.v3_user else "2c")
    if args.timeout <= 0:
        raise UsageError(f"--timeout {args.timeout}: must be more than 0 seconds")
    if args.retries < 0:
        raise UsageError(f"--retries {args.retries}: must be 0 or more")
    auth: CommunityAuth | UsmAuth
    if version == "3":
        if args.community is not None:
            raise UsageError("--community is for SNMP v1/v2c; v3 uses --v3-user")
        missing = [name for name, value in (("--v3-user", args.v3_user),
                                            ("--auth-key", args.auth_key),
                                            ("--priv-key", args.priv_key)) if not value]
        if missing:
            raise UsageError(f"SNMP v3 (authPriv) needs {', '.join(missing)}")
        auth = UsmAuth(user=args.v3_user, auth_key=args.auth_key, priv_key=args.priv_key,
                       auth_protocol=args.auth_protocol, priv_protocol=args.priv_protocol,
                       context_name=args.context)
    else:
        if args.v3_user or args.auth_key or args.priv_key:
            raise UsageError(f"--v3-user/--auth-key/--priv-key need --version 3, not {version}")
        auth = CommunityAuth(community=args.community or "public",
                             version=SnmpVersion(version))
    target = SnmpTarget(host=host, port=port, auth=auth, timeout_s=args.timeout,
                        retries=args.retries)
    from drivers.snmp import SnmpPrinterMonitor

    try:
        SnmpPrinterMonitor(target)  # validates protocols and key lengths, opens nothing
    except ValueError as exc:
        raise UsageError(str(exc)) from exc
    return target


def render_text(result: PollResult) -> str:
    where = f"{result.host}:{result.port}"
    if not result.reachable:
        return f"unreachable: {result.reason}"
    lines = []
    identity = result.identity
    if identity is not None:
        lines.append(f"{where}: {identity.description or '?'}"
                     f" (vendor {identity.vendor or 'unknown'})")
        lines.append(f"model: {identity.model or 'not given'}")
        lines.append(f"serial number: {identity.serial or 'not given'}")
    if result.printer_mib is False:
        lines.append("no Printer-MIB: this device answers SNMP but reports no printer "
                     "counters, supplies or alerts (is it a printer?)")
        return "\n".join(lines)
    lines.append("counters:")
    counters = result.counters
    if counters is None or not (counters.life_counts or counters.vendor):
        lines.append("  none reported")
    else:
        for life in counters.life_counts:
            unit = life.unit.value if life.unit else "unit not given"
            lines.append(f"  marker {life.marker} life count: {life.value} ({unit})")
        for counter in counters.vendor:
            lines.append(f"  {counter.kind.value}: {counter.value}")
    lines.append("supplies:")
    for supply in result.supplies:
        if supply.percent is not None:
            amount = f"{supply.percent}%"
        elif supply.level is not None:
            amount = f"level {supply.level}, capacity unknown"
        else:
            amount = supply.state.value.replace("_", " ")
        kind = supply.type.value if supply.type else "type not given"
        lines.append(f"  {supply.index} {supply.description} [{kind}]: {amount}")
    if not result.supplies:
        lines.append("  none reported")
    lines.append("status:")
    status = result.status
    if status is None or not status.devices:
        lines.append("  no printer device reported")
    else:
        for device in status.devices:
            errors = ", ".join(e.value for e in device.errors) or "no errors"
            device_status = device.device_status.value if device.device_status else "not given"
            printer_state = device.printer_state.value if device.printer_state else "not given"
            lines.append(f"  device {device.device_index}: status {device_status}, "
                         f"printer state {printer_state}, {errors}")
    if status is not None:
        for alert in status.alerts:
            lines.append(f"  alert {alert.index} {alert.severity} {alert.group} {alert.code}: "
                         f"{alert.description}")
    return "\n".join(lines)
