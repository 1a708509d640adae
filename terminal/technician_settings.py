"""The settings a technician may change at the kiosk, and how a change reaches the file.

The kiosk file stays the one source of truth (doctor checks it, an SSH edit still
works), so the technician screens edit that file rather than a store of their own. A
change is typed as text on a touch screen; :func:`to_toml` turns it into the TOML type
the configuration model expects (an int for a port, a float for seconds, a bool for a
toggle, a money string stays a string) and leaves text that is not of that type as text,
so that the validator refuses it with its own line ("printer.cups_port: 'abc' is not an
integer ..."). An empty text removes the key: its default applies again.

:func:`edited` applies changes with tomlkit on the file's own text, so its comments and
layout survive the edit; :func:`validate` writes the result to a temporary copy in the
same directory, under the same name, and runs the same check as ``printkiosk doctor``
on it. Only a document without a problem is ever written over the real file.
"""

from __future__ import annotations

import math
import re
import tempfile
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import tomlkit
from tomlkit.toml_document import TOMLDocument

from terminal.config import KioskConfig
from terminal.technician_types import SettingSpec

# check_kiosk_file's shape: the file's configuration (None if invalid) and its problems
KioskCheck = Callable[[Path], tuple[KioskConfig | None, list[str]]]
SECRET_SHOWN = "***"  # noqa: S105 - how a secret is shown, not a secret

_S = SettingSpec
CATALOGUE: tuple[SettingSpec, ...] = (
    _S("printer.queue", "Print queue", "printer", "choice", dynamic=True,
       help="The CUPS queue of this kiosk's printer"),
    _S("printer.hold_queue", "Follow-me queue", "printer", "choice", dynamic=True,
       help="A shared hold queue released here too; empty for none"),
    _S("printer.cups_server", "CUPS server", "printer", "text"),
    _S("printer.cups_port", "CUPS port", "printer", "number", minimum=1, maximum=65535, step=1),
    _S("printer.name", "Printer name", "printer", "text"),
    _S("printer.kind", "Kiosk kind", "printer", "choice", choices=("mfp", "3d")),
    _S("printer.snmp.enabled", "SNMP", "snmp", "toggle"),
    _S("printer.snmp.host", "SNMP host", "snmp", "text"),
    _S("printer.snmp.port", "SNMP port", "snmp", "number", minimum=1, maximum=65535, step=1),
    _S("printer.snmp.version", "SNMP version", "snmp", "choice", choices=("1", "2c", "3")),
    _S("printer.snmp.community", "SNMP community", "snmp", "secret",
       help="SNMP v1/v2c only"),
    _S("printer.snmp.v3_user", "SNMPv3 user", "snmp", "text", help="SNMP v3 only"),
    _S("printer.snmp.keys_file", "SNMPv3 keys file", "snmp", "text",
       help="SNMP v3 only: the 0600 file holding the two keys"),
    _S("printer.snmp.auth_key", "SNMPv3 authentication key", "snmp", "secret",
       help="SNMP v3 only; kept in the keys file (0600), never in the kiosk file"),
    _S("printer.snmp.priv_key", "SNMPv3 privacy key", "snmp", "secret",
       help="SNMP v3 only; kept in the keys file (0600), never in the kiosk file"),
    _S("printer.snmp.auth_protocol", "SNMPv3 authentication", "snmp", "choice",
       choices=("MD5", "SHA", "SHA224", "SHA256", "SHA384", "SHA512")),
    _S("printer.snmp.priv_protocol", "SNMPv3 privacy", "snmp", "choice",
       choices=("DES", "3DES", "AES", "AES128", "AES192", "AES256")),
    _S("backend.url", "Backend URL", "backend", "text"),
    _S("terminal.name", "Terminal name", "terminal", "text"),
    _S("terminal.language", "Default language", "terminal", "choice", choices=("en", "fr")),
    _S("terminal.idle_timeout_s", "Idle timeout (s)", "terminal", "number",
       minimum=10, maximum=3600, step=10),
    _S("terminal.billing_code", "Billing code", "terminal", "choice",
       choices=("off", "optional", "required")),
    _S("offline.enabled", "Offline use", "terminal", "toggle"),
    _S("offline.spending_limit", "Offline limit", "terminal", "text",
       help='An amount such as "5.00"'),
    _S("card_reader.type", "Card reader", "card_reader", "choice",
       choices=("pcsc", "wedge", "simulated")),
)
# the normalisation rule's fields, written by the card check's derivation
NORMALISE = "card_reader.normalise."
_NORMALISE_FIELDS = ("extract", "input", "reverse_bytes", "bytes", "output", "hex_case",
                     "strip_zeros", "length")
_INTEGERS = frozenset({"printer.cups_port", "printer.snmp.port", NORMALISE + "bytes",
                       NORMALISE + "length"})
_SECONDS = frozenset({"terminal.idle_timeout_s"})
_TOGGLES = frozenset({"printer.snmp.enabled", "offline.enabled", NORMALISE + "reverse_bytes",
                      NORMALISE + "strip_zeros"})
_TRUE, _FALSE = ("true", "on", "yes", "1"), ("false", "off", "no", "0")
_INTEGER = re.compile(r"[+-]?[0-9]+")
SPECS = {spec.key: spec for spec in CATALOGUE}
# settings kept in printer.snmp.keys_file (0600), not in the kiosk file
SNMP_KEYS = {"printer.snmp.auth_key": "auth_key", "printer.snmp.priv_key": "priv_key"}


def is_known(key: str) -> bool:
    return key in SPECS or (key.startswith(NORMALISE) and key[len(NORMALISE):]
                            in _NORMALISE_FIELDS)


def is_secret(key: str) -> bool:
    spec = SPECS.get(key)
    return spec is not None and spec.kind == "secret"


def to_toml(key: str, text: str) -> Any:
    """The TOML value for a setting typed as ``text``; text of the wrong form stays text
    for the validator to refuse by name."""
    value = text.strip()
    if key in _INTEGERS and _INTEGER.fullmatch(value):
        return int(value)
    if key in _SECONDS:
        try:
            number = float(value)
        except ValueError:
            return value
        return number if math.isfinite(number) else value
    if key in _TOGGLES and value.lower() in _TRUE + _FALSE:
        return value.lower() in _TRUE
    return value


def as_text(value: object) -> str:
    """A TOML value as the screens show it ("" when unset)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def lookup(data: Mapping[str, Any], key: str) -> object:
    """The value at dotted ``key`` in parsed TOML, None when absent."""
    node: object = data
    for part in key.split("."):
        if not isinstance(node, Mapping) or part not in node:
            return None
        node = node[part]
    return node


def edited(text: str, changes: Mapping[str, str]) -> TOMLDocument:
    """The file's document with ``changes`` applied (comments and layout kept); an empty
    text removes the key. Unknown keys are a :class:`KeyError` (a bug in the caller)."""
    document = tomlkit.parse(text)
    for key, raw in changes.items():
        if not is_known(key):
            raise KeyError(f"{key} is not a technician setting")
        *tables, name = key.split(".")
        table: Any = document
        for part in tables:
            if part not in table:
                if raw.strip() == "":
                    table = None
                    break
                table[part] = tomlkit.table()
            table = table[part]
        if table is None:
            continue
        if raw.strip() == "":
            if name in table:
                del table[name]
        else:
            table[name] = to_toml(key, raw)
    return document


def validate(path: Path, document: TOMLDocument, check: KioskCheck,
             keys: tuple[Path, str] | None = None) -> list[str]:
    """Every problem ``check`` (doctor's) finds in ``document`` as if it were ``path``:
    it is written under the same name in a temporary directory beside the file, so that
    the problems name the file the technician knows. ``keys`` is a new SNMPv3 keys file
    (its path and text) checked with it: written 0600 in the same directory, the copy
    of the document names it, and its problems name the real keys file."""
    with tempfile.TemporaryDirectory(prefix=".technician-", dir=path.parent) as scratch:
        candidate = Path(scratch) / path.name
        copy = tomlkit.parse(tomlkit.dumps(document))
        shown: tuple[str, str] | None = None
        if keys is not None:
            keys_path, keys_text = keys
            scratch_keys = Path(scratch) / f"keys-{keys_path.name}"
            scratch_keys.touch(mode=0o600)
            scratch_keys.write_text(keys_text, encoding="utf-8")
            copy["printer"]["snmp"]["keys_file"] = str(scratch_keys)  # type: ignore[index]
            shown = (str(scratch_keys), str(keys_path))
        candidate.write_text(tomlkit.dumps(copy), encoding="utf-8")
        problems = check(candidate)[1]
    if shown is None:
        return problems
    return [problem.replace(*shown) for problem in problems]


def keys_text(auth_key: str, priv_key: str) -> str:
    """The SNMPv3 keys file (``read_snmp_v3_keys``' format) for two keys."""
    return f"auth_key = {tomlkit.string(auth_key).as_string()}\n" \
           f"priv_key = {tomlkit.string(priv_key).as_string()}\n"
