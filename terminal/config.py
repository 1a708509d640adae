"""The kiosk's configuration: a TOML file validated field by field when it is loaded.

The kiosk refuses to start on a bad file (a half-understood configuration could charge
people wrongly or point at the wrong printer), so every problem is collected and reported
at once, each naming the file, the key, the value and what is allowed. Unknown keys are
errors: a misspelt key silently ignored is a setting the technician believes is in force.
Secrets (the terminal token) live in a separate file named here, never in this file.
"""

from __future__ import annotations

import dataclasses
import os
import tomllib
import typing
from collections.abc import Callable, Mapping
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Annotated, Any, Literal, TypeVar

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError

from terminal.config_messages import format_errors

SUPPORTED_LANGUAGES = ("en", "fr")
T = TypeVar("T", bound=BaseModel)


class ConfigError(Exception):
    """A configuration file that cannot be used; ``problems`` holds one line per problem."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


def _int_between(low: int, high: int) -> Callable[[object], int]:
    def check(value: object) -> int:
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            raise ValueError(f"is not an integer between {low} and {high}")
        return value

    return check


def seconds_between(low: float, high: float) -> Callable[[object], float]:
    def check(value: object) -> float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ValueError(f"is not a number of seconds between {low:g} and {high:g}")
        if not low <= value <= high:
            raise ValueError(f"is not a number of seconds between {low:g} and {high:g}")
        return float(value)

    return check


def http_url(value: object) -> str:
    if not isinstance(value, str) or not value.startswith(("http://", "https://")):
        raise ValueError("is not an http:// or https:// URL")
    return value.rstrip("/")


def _amount(value: object) -> Decimal:
    """Amounts are written as strings ("5.00") so that no float ever carries money."""
    if not isinstance(value, str):
        raise ValueError('is not an amount written as a string, e.g. "5.00"')
    try:
        amount = Decimal(value)
    except InvalidOperation:
        raise ValueError('is not an amount written as a string, e.g. "5.00"') from None
    if not amount.is_finite() or amount < 0:
        raise ValueError("is not a non-negative amount")
    return amount


def _language(value: object) -> str:
    if value not in SUPPORTED_LANGUAGES:
        raise ValueError(f"is not a supported language ({', '.join(SUPPORTED_LANGUAGES)})")
    return str(value)


def _timezone(value: object) -> str:
    """An IANA zone name: the kiosk shows every time in it, so a typo must not pass."""
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    if not isinstance(value, str) or not value.strip():
        raise ValueError("is not a time zone name such as \"Europe/Paris\"")
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError("is not a known time zone name such as \"Europe/Paris\"") from None
    return value


def _non_empty(value: object) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ValueError("is not a non-empty text string")
    return value


Port = Annotated[int, BeforeValidator(_int_between(1, 65535))]
Language = Annotated[str, BeforeValidator(_language)]
Text = Annotated[str, BeforeValidator(_non_empty)]
Amount = Annotated[Decimal, BeforeValidator(_amount)]


class Table(BaseModel):
    """A TOML table: unknown keys are errors, types are not coerced, values are frozen."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class TerminalSection(Table):
    name: Text
    language: Language = "en"
    idle_timeout_s: Annotated[float, BeforeValidator(seconds_between(10, 3600))] = 60.0
    logout_warning_s: Annotated[float, BeforeValidator(seconds_between(0, 120))] = 10.0
    timezone: Annotated[str, BeforeValidator(_timezone)] = "UTC"
    # Ask for a billing code (client / project) before a release: never, with "no code"
    # allowed, or always.
    billing_code: Literal["off", "optional", "required"] = "off"


class BackendSection(Table):
    url: Annotated[str, BeforeValidator(http_url)]
    connect_timeout_s: Annotated[float, BeforeValidator(seconds_between(0.1, 60))] = 2.0
    read_timeout_s: Annotated[float, BeforeValidator(seconds_between(0.1, 120))] = 5.0
    token_file: Text | None = None
    # Resends of an idempotent call before the backend counts as unreachable.
    retries: Annotated[int, BeforeValidator(_int_between(0, 10))] = 2
    heartbeat_s: Annotated[float, BeforeValidator(seconds_between(5, 3600))] = 30.0
    # How often device counters and supplies are reported (alerts: at every heartbeat).
    report_interval_s: Annotated[float, BeforeValidator(seconds_between(60, 86400))] = 900.0


SnmpAuthProtocol = Literal["MD5", "SHA", "SHA224", "SHA256", "SHA384", "SHA512"]
SnmpPrivProtocol = Literal["DES", "3DES", "AES", "AES128", "AES192", "AES256"]
SNMP_AUTH_KEY_ENV = "PRINTKIOSK_SNMP_AUTH_KEY"
SNMP_PRIV_KEY_ENV = "PRINTKIOSK_SNMP_PRIV_KEY"
_SNMP_V3_ONLY = ("v3_user", "auth_protocol", "priv_protocol", "context", "keys_file")


class SnmpSection(Table):
    """The printer's SNMP agent. v1/v2c use ``community``; v3 is authPriv with ``v3_user``,
    the two protocols, and the two keys from ``keys_file`` (0600) or the environment --
    never from this file, which technicians copy around and the menu rewrites."""

    enabled: bool = False
    host: Text = "127.0.0.1"
    port: Port = 161
    version: Literal["1", "2c", "3"] = "2c"
    community: Text = "public"
    v3_user: Text | None = None
    auth_protocol: SnmpAuthProtocol = "SHA"
    priv_protocol: SnmpPrivProtocol = "AES"
    context: str = ""
    keys_file: Text | None = None
    timeout_s: Annotated[float, BeforeValidator(seconds_between(0.1, 30))] = 2.0
    retries: Annotated[int, BeforeValidator(_int_between(0, 10))] = 1
    # Charge by the delta of this agent's page counter (true), or by the impressions the
    # print server reports (false) while SNMP still reports supplies and alerts: for an
    # agent that is not the device the queue prints on, or whose counter lags the job.
    count_pages: bool = True


class OctoPrintSection(Table):
    """The OctoPrint server of a 3D printer; its API key (a user's key, 0600 file or
    PRINTKIOSK_OCTOPRINT_API_KEY) never sits in this file."""

    url: Annotated[str, BeforeValidator(http_url)] = "http://127.0.0.1:5000"
    api_key_file: Text | None = None
    timeout_s: Annotated[float, BeforeValidator(seconds_between(0.5, 120))] = 10.0


class MoonrakerSection(Table):
    """The Moonraker server of a Klipper 3D printer; a trusted client needs no key."""

    url: Annotated[str, BeforeValidator(http_url)] = "http://127.0.0.1:7125"
    api_key_file: Text | None = None
    timeout_s: Annotated[float, BeforeValidator(seconds_between(0.5, 120))] = 10.0


class PrinterSection(Table):
    kind: Literal["mfp", "3d"] = "mfp"
    name: Text
    # kind = "3d": the backend's 3D printer group whose jobs this kiosk lists, how often
    # a print is followed, and exactly one server table (see printer3d_cross_problems)
    group: Text | None = None
    poll_s: Annotated[float, BeforeValidator(seconds_between(0.2, 30))] = 2.0
    octoprint: OctoPrintSection | None = None
    moonraker: MoonrakerSection | None = None
    cups_server: Text = "127.0.0.1"
    cups_port: Port = 631
    queue: Text | None = None
    hold_queue: Text | None = None
    # CUPS's RequestRoot, read for the documents when kiosk and CUPS share a host;
    # unset: the driver's default (/var/spool/cups).
    cups_spool_dir: Text | None = None
    # Held jobs nobody released are purged (spool file too) after this many hours:
    # documents are personal data and must not stay in the spool for ever.
    spool_max_age_h: Annotated[int, BeforeValidator(_int_between(1, 24 * 30))] = 48
    snmp: SnmpSection = Field(default_factory=SnmpSection)


class OfflineSection(Table):
    enabled: bool = True
    spending_limit: Amount = Decimal("5.00")
    cache_max_age_h: Annotated[int, BeforeValidator(_int_between(1, 24 * 90))] = 72
    # Outbox, offline cache and its HMAC key; None: the user data directory (platformdirs).
    state_dir: Text | None = None


class PricingSection(Table):
    """The kiosk's local price list: the offline fallback, optional.

    Online, every user is priced with the list the backend applies to them, and that
    list is kept for them in the offline cache. The file (billing's price-list format)
    prices only a user whose list this kiosk never saw, while the backend is away.
    """

    price_list: Text | None = None


class DisplaySection(Table):
    width: Annotated[int, BeforeValidator(_int_between(320, 7680))] = 1024
    height: Annotated[int, BeforeValidator(_int_between(240, 4320))] = 600
    fullscreen: bool = False


class VoucherScannerSection(Table):
    """A 2D barcode scanner that types like a keyboard (USB HID), grabbed for the kiosk
    through evdev like a keyboard-wedge card reader: ``device`` is a path
    (``/dev/input/by-id/...``), ``vendor:product`` in hex, or the device's exact name.
    Without this table a scanner still works ungrabbed, typing into the voucher screen."""

    device: Text
    terminator: Literal["enter", "tab", "none"] = "enter"
    # a QR read arrives in one burst; a pause this long ends (or discards) a read
    pause_s: Annotated[float, BeforeValidator(seconds_between(0.05, 5))] = 0.5


class ReceiptSection(Table):
    """The kiosk's receipt printer (ESC/POS, optional): where it is, its python-escpos
    profile (paper width, whether it draws QR codes itself) and whether to use the
    printer's own QR command when it has one. ``target``'s syntax and the profile name
    are judged by the printer library (:func:`terminal.wiring.receipt_problems`), which
    alone knows its targets and its printer database (terminal.config may not import it)."""

    target: Text  # usb:VID:PID | network:HOST[:PORT] | file:/path
    profile: Text | None = None  # e.g. "TM-T88III"; None: python-escpos's generic one
    native_qr: bool = True
    timeout_s: Annotated[float, BeforeValidator(seconds_between(0.5, 60))] = 10.0


class TechnicianSection(Table):
    """Technician mode: the offline fallback PIN (its scrypt hash in a 0600 file written
    by ``printkiosk technician set-pin``; None: no local entry), the command the
    *Reboot* check runs (empty: reboot not offered), and whether *Restart* is offered."""

    local_pin_file: Text | None = None
    reboot_command: list[str] = Field(default_factory=lambda: ["systemctl", "reboot"])
    allow_restart: bool = True


class KioskConfig(Table):
    terminal: TerminalSection
    backend: BackendSection
    # The reader's table is validated by the reader library itself (terminal.wiring),
    # which knows every adapter's keys; here it only has to be a table.
    card_reader: dict[str, Any] = Field(default_factory=lambda: {"type": "simulated"})
    printer: PrinterSection
    offline: OfflineSection = Field(default_factory=OfflineSection)
    pricing: PricingSection = Field(default_factory=PricingSection)
    display: DisplaySection = Field(default_factory=DisplaySection)
    voucher_scanner: VoucherScannerSection | None = None
    # None: no receipt printer (the kiosk offers no "Print receipt").
    receipt: ReceiptSection | None = None
    technician: TechnicianSection = Field(default_factory=TechnicianSection)


def _model_of(annotation: object) -> type[BaseModel] | None:
    """The table model of a field, also when it is optional (``Section | None``)."""
    candidates = typing.get_args(annotation) or (annotation,)
    for candidate in candidates:
        if isinstance(candidate, type) and issubclass(candidate, BaseModel):
            return candidate
    return None


def _allowed_keys(model: type[BaseModel], prefix: tuple[str, ...] = ()) -> dict[
    tuple[str, ...], list[str]
]:
    keys: dict[tuple[str, ...], list[str]] = {prefix: sorted(model.model_fields)}
    for name, field in model.model_fields.items():
        table = _model_of(field.annotation)
        if table is not None:
            keys.update(_allowed_keys(table, (*prefix, name)))
    return keys


def validate_table(model: type[T], data: Mapping[str, Any], file_label: str) -> T:
    """Validate parsed TOML against ``model``; raise :class:`ConfigError` listing every
    problem as ``file: key: 'value' what is allowed``."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(
            format_errors(file_label, exc.errors(), data, _allowed_keys(model))
        ) from exc


def read_toml(path: Path) -> dict[str, Any]:
    """A TOML file's tables, or a :class:`ConfigError` saying why it cannot be read."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError([f"{path}: cannot be read: {exc.strerror}"]) from exc
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError([f"{path.name}: is not valid TOML: {exc}"]) from exc


def parse_kiosk_config(data: Mapping[str, Any], file_label: str) -> KioskConfig:
    """Validate already-parsed TOML data; raise :class:`ConfigError` listing every problem:
    the keys' own (types, ranges, unknown keys) and those across keys, in one list."""
    problems = snmp_cross_problems(data, file_label) + printer3d_cross_problems(data, file_label)
    try:
        config = validate_table(KioskConfig, data, file_label)
    except ConfigError as exc:
        raise ConfigError([*exc.problems, *problems]) from exc
    if problems:
        raise ConfigError(problems)
    return config


def snmp_cross_problems(data: Mapping[str, Any], file_label: str) -> list[str]:
    """What ``printer.snmp`` gets wrong across its keys (v3 without a user, a community
    with v3, v3 keys with v1/v2c). Run on the raw table, beside the type checks, so a
    file with both kinds of problem has both reported at once."""
    printer = data.get("printer")
    snmp = printer.get("snmp") if isinstance(printer, Mapping) else None
    if not isinstance(snmp, Mapping):
        return []
    where = f"{file_label}: printer.snmp"
    version = snmp.get("version", "2c")
    problems = []
    if version == "3":
        if "v3_user" not in snmp:
            problems.append(f'{where}.v3_user: is required with version = "3" '
                            "(SNMPv3 authPriv needs a user)")
        if "community" in snmp:
            problems.append(f"{where}.community: {snmp['community']!r} is for SNMP v1/v2c; "
                            'version "3" uses v3_user and keys_file')
    elif version in ("1", "2c"):
        problems.extend(f"{where}.{key}: {snmp[key]!r} is for SNMP v3, but version is "
                        f"{version!r}" for key in _SNMP_V3_ONLY if key in snmp)
    return problems


_PRINTER3D_ONLY = ("group", "poll_s", "octoprint", "moonraker")
_SERVER_TABLES = ("octoprint", "moonraker")


def printer3d_cross_problems(data: Mapping[str, Any], file_label: str) -> list[str]:
    """What ``[printer]`` gets wrong across its keys for a 3D printer: kind "3d" needs a
    ``group`` and exactly one server table; kind "mfp" takes none of the 3D keys."""
    printer = data.get("printer")
    if not isinstance(printer, Mapping):
        return []
    where = f"{file_label}: printer"
    kind = printer.get("kind", "mfp")
    servers = [name for name in _SERVER_TABLES if name in printer]
    if kind == "3d":
        problems = []
        if "group" not in printer:
            problems.append(f'{where}.group: is required with kind = "3d" (the backend\'s '
                            "3D printer group whose jobs this kiosk lists)")
        if not servers:
            problems.append(f'{where}: kind = "3d" needs one server table, [printer.octoprint] '
                            "or [printer.moonraker]; there is none")
        elif len(servers) > 1:
            problems.append(f"{where}.moonraker: only one of [printer.octoprint] and "
                            "[printer.moonraker] may be set; this file has both")
        return problems
    if kind == "mfp":
        return [f'{where}.{key}: {_shown(key, printer[key])} is for kind = "3d", but kind '
                'is "mfp"' for key in _PRINTER3D_ONLY if key in printer]
    return []


def _shown(key: str, value: object) -> str:
    return f"[printer.{key}]" if key in _SERVER_TABLES else repr(value)


OCTOPRINT_KEY_ENV = "PRINTKIOSK_OCTOPRINT_API_KEY"
MOONRAKER_KEY_ENV = "PRINTKIOSK_MOONRAKER_API_KEY"


def read_printer3d_api_key(printer: PrinterSection, file_label: str = "kiosk.toml") -> str | None:
    """The 3D printer server's API key: from the environment, else from ``api_key_file``
    (one line, mode 0600 like every secret of the kiosk). None for a Moonraker without
    one (a trusted client); OctoPrint always needs one."""
    if printer.octoprint is not None:
        env, file, where = OCTOPRINT_KEY_ENV, printer.octoprint.api_key_file, "octoprint"
    elif printer.moonraker is not None:
        env, file, where = MOONRAKER_KEY_ENV, printer.moonraker.api_key_file, "moonraker"
    else:
        return None
    if os.environ.get(env):
        return os.environ[env].strip()
    if file is None:
        if where == "octoprint":
            raise ConfigError([f"{file_label}: printer.octoprint.api_key_file: not set and "
                               f"{env} is empty: OctoPrint has no API key"])
        return None
    try:
        key = read_secret(Path(file))
    except ConfigError as exc:
        raise ConfigError([f"{file_label}: printer.{where}.api_key_file: {p}"
                           for p in exc.problems]) from exc
    if not key or "\n" in key:
        raise ConfigError([f"{file_label}: printer.{where}.api_key_file: {file} must hold the "
                           "key on one line"])
    return key


@dataclasses.dataclass(frozen=True)
class SnmpV3Keys:
    auth_key: str = dataclasses.field(repr=False)
    priv_key: str = dataclasses.field(repr=False)


def read_snmp_v3_keys(snmp: SnmpSection, file_label: str = "kiosk.toml") -> SnmpV3Keys:
    """The SNMPv3 authentication and privacy keys: from PRINTKIOSK_SNMP_AUTH_KEY and
    PRINTKIOSK_SNMP_PRIV_KEY, else from ``printer.snmp.keys_file``, a 0600 TOML file::

        auth_key = "..."
        priv_key = "..."

    Like the terminal token, they never sit in the kiosk file. Problems name the file and
    the key but never echo a key's value.
    """
    from_env = (os.environ.get(SNMP_AUTH_KEY_ENV, ""), os.environ.get(SNMP_PRIV_KEY_ENV, ""))
    if any(from_env):
        if not all(from_env):
            raise ConfigError([f"{SNMP_AUTH_KEY_ENV} and {SNMP_PRIV_KEY_ENV}: set both or "
                               "neither (SNMPv3 authPriv needs both keys)"])
        return _checked_keys({"auth_key": from_env[0], "priv_key": from_env[1]},
                             f"{SNMP_AUTH_KEY_ENV}/{SNMP_PRIV_KEY_ENV}")
    if snmp.keys_file is None:
        raise ConfigError([f"{file_label}: printer.snmp.keys_file: not set and "
                           f"{SNMP_AUTH_KEY_ENV}/{SNMP_PRIV_KEY_ENV} are empty: SNMPv3 "
                           "has no keys"])
    path = Path(snmp.keys_file)
    text = read_secret(path)
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError([f"{path}: is not valid TOML ({exc}); expected auth_key = "
                           '"..." and priv_key = "..."']) from None
    return _checked_keys(data, str(path))


def _checked_keys(data: Mapping[str, Any], label: str) -> SnmpV3Keys:
    problems = [f"{label}: {key}: is not a known key (allowed here: auth_key, priv_key)"
                for key in sorted(data) if key not in ("auth_key", "priv_key")]
    for key in ("auth_key", "priv_key"):
        value = data.get(key)
        if not isinstance(value, str):
            problems.append(f"{label}: {key}: is required (a text string)")
        elif len(value) < 8:
            problems.append(f"{label}: {key}: has {len(value)} characters; SNMPv3 needs "
                            "at least 8 (RFC 3414)")
    if problems:
        raise ConfigError(problems)
    return SnmpV3Keys(auth_key=data["auth_key"], priv_key=data["priv_key"])


def load_kiosk_config(path: Path) -> KioskConfig:
    """Read and validate a kiosk TOML file."""
    return parse_kiosk_config(read_toml(path), path.name)


def read_secret(path: Path) -> str:
    """Read a secret file, refusing one that other users could read."""
    try:
        mode = path.stat().st_mode
    except OSError as exc:
        raise ConfigError([f"{path}: cannot be read: {exc.strerror}"]) from exc
    if mode & 0o077:
        raise ConfigError([f"{path}: mode {oct(mode & 0o777)} is too open; expected 0600"])
    return path.read_text(encoding="utf-8").strip()
