"""Validate a configuration file (kiosk, backend, price list, quota policy or spool agent)
and print every problem.

Exits 0 when the file is valid, 2 when it is not (each problem on its own line, naming
the file, the key, the value and what is allowed). Every problem of the file comes in
one pass, whatever its kind (a key's type, keys that contradict each other, a file it
names). A valid file can still get WARNING lines (exit 0): a setting that works but
leaves the kiosk weaker than the operator probably thinks.

Whatever the file is (Latin-1, binary, /dev/zero, a FIFO, arrays nested 5 000 deep), the
answer is a problem line naming it, never a traceback or a hang: doctor reads regular
files only, at most MAX_CONFIG_BYTES of them, and decodes and parses them itself before
any checker sees them. For a backend file it also checks the secret key file that
``[security] secret_key_file`` names (see ``_secret_key_findings``). For a valid kiosk
file with a ``[receipt]`` printer it tries to reach the printer, printing nothing, and
says what answered (a printer that does not answer is a warning, see
``_receipt_printer_finding``); likewise for a 3D kiosk's OctoPrint or Moonraker server
(``_printer3d_finding``: version and printer state, or why it does not answer). Of a
backend's ``[notifications]`` it checks the SMTP password and CA files, compiles every
template of the operator's folder (``<file>:<line>: <message>``) and asks the mail
server EHLO, sending nothing (``backend.notify.doctor``).
"""

from __future__ import annotations

import argparse
import stat
import sys
import tomllib
from collections.abc import Callable
from pathlib import Path
from typing import Any, NamedTuple

# Configuration files are a few KiB; a megabyte means the wrong file was given.
MAX_CONFIG_BYTES = 1024 * 1024
# The key is text (the generated one is 64 hex digits, 256 bits); 32 characters is the
# least that still resists trying every key against a copied database's card hashes.
MIN_SECRET_CHARS = 32
MAX_SECRET_BYTES = 4096


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", type=Path, required=True, help="TOML file to check")


def _kind(data: dict[str, object]) -> str:
    if "spool_agent" in data:
        return "spool agent"
    if "terminal" in data:
        return "kiosk"
    if "server" in data or "database" in data:
        return "backend"
    if "price_list" in data:
        return "price list"
    if "quota" in data:
        return "quota policy"
    if "plan" in data:
        return "client plan"
    return "unknown"


class Diagnosis(NamedTuple):
    """What doctor found: problems make the file unusable, warnings do not, notes say
    what a valid file's devices answered (the receipt printer)."""

    problems: list[str]
    warnings: list[str]
    notes: list[str]


def check_file(path: Path) -> list[str]:
    """Every problem of the file, or an empty list when it is valid."""
    return diagnose(path).problems


def read_text(path: Path, limit: int = MAX_CONFIG_BYTES) -> tuple[str | None, str | None]:
    """(the file's text, None) or (None, the problem): a regular file, at most ``limit``
    bytes, UTF-8. stat comes first so that a FIFO or a device is never opened."""
    try:
        if not stat.S_ISREG(path.stat().st_mode):
            return None, f"{path}: is not a regular file"
        with path.open("rb") as handle:
            data = handle.read(limit + 1)
    except OSError as exc:
        return None, f"{path}: cannot be read: {exc.strerror}"
    if len(data) > limit:
        return None, f"{path}: is larger than {limit // 1024} KiB (not a configuration file?)"
    try:
        return data.decode("utf-8"), None
    except UnicodeDecodeError as exc:
        before = data[: exc.start]
        line = before.count(b"\n") + 1
        column = exc.start - (before.rfind(b"\n") + 1) + 1
        return None, (f"{path.name}: line {line}, column {column}: not UTF-8 "
                      f"(byte 0x{data[exc.start]:02x}); save the file as UTF-8")


def _parse_toml(path: Path, text: str) -> tuple[dict[str, Any] | None, str | None]:
    try:
        return tomllib.loads(text), None
    except tomllib.TOMLDecodeError as exc:
        return None, f"{path.name}: is not valid TOML: {exc}"
    except RecursionError:
        return None, (f"{path.name}: is not usable TOML: arrays or tables are nested too "
                      "deeply to parse (a configuration needs a few levels)")


def diagnose(path: Path) -> Diagnosis:
    """The file's problems, warnings and notes."""
    text, problem = read_text(path)
    data, problem = _parse_toml(path, text) if text is not None else (None, problem)
    if data is None:
        return Diagnosis([problem or f"{path}: cannot be read"], [], [])
    problems = _problems(path, data)
    warnings = _kiosk_warnings(path, data)
    notes: list[str] = []
    if _kind(data) == "backend" and not problems:
        key_problems, key_warnings = _secret_key_findings(path, data)
        problems += key_problems
        warnings += key_warnings
        problems += _gateway_problems(path)
        notify_problems, notify_findings = _notification_findings(path)
        problems += notify_problems
        for reachable, finding in notify_findings:
            (notes if reachable else warnings).append(finding)
    if _kind(data) == "kiosk" and not problems and "receipt" in data:
        reachable, finding = _receipt_printer_finding(path, data["receipt"])
        (notes if reachable else warnings).append(finding)
    printer = data.get("printer")
    if _kind(data) == "kiosk" and not problems and isinstance(printer, dict) and \
            printer.get("kind") == "3d":
        reachable, finding = _printer3d_finding(path)
        (notes if reachable else warnings).append(finding)
    return Diagnosis(problems, warnings, notes)


def _problems(path: Path, data: dict[str, Any]) -> list[str]:
    checkers: dict[str, Callable[[Path], list[str]]] = {
        "kiosk": _check_kiosk,
        "backend": _check_backend,
        "price list": _check_price_list,
        "quota policy": _check_quota_policy,
        "spool agent": _check_spool_agent,
        "client plan": _check_client_plan,
    }
    checker = checkers.get(_kind(data))
    if checker is None:
        return [
            f"{path.name}: cannot tell what this file configures "
            "(expected a [terminal] table for a kiosk, [server] or [database] for a backend, "
            "[price_list] for a price list, [quota] for a quota policy, "
            "[spool_agent] for a spool agent, [plan] for a client plan)"
        ]
    try:
        return checker(path)
    except (UnicodeDecodeError, RecursionError, MemoryError) as exc:
        # A file the checked one names (a price list, a keys file) read by a loader that
        # does not translate these itself: still one line, not a traceback.
        return [f"{path.name}: a file it names cannot be read: {type(exc).__name__}: {exc}"]


def _check_kiosk(path: Path) -> list[str]:
    from terminal.wiring import check_kiosk_file

    return check_kiosk_file(path)[1]


def _kiosk_warnings(path: Path, data: dict[str, Any]) -> list[str]:
    """What works but leaves a kiosk weaker than the operator probably thinks."""
    if _kind(data) != "kiosk":
        return []
    return _local_pin_warnings(path, data) + _price_list_warnings(path, data)


def _local_pin_warnings(path: Path, data: dict[str, Any]) -> list[str]:
    """A [technician] local_pin_file named but not written: a kiosk that loses its
    backend cannot be entered in technician mode until it is."""
    technician = data.get("technician")
    name = technician.get("local_pin_file") if isinstance(technician, dict) else None
    if not isinstance(name, str) or not name.strip() or Path(name).exists():
        return []
    return [f"WARNING: {path.name}: technician.local_pin_file: {name} does not exist: "
            "there is no offline way into technician mode (run printkiosk technician "
            f"set-pin --config {path})"]


def _price_list_warnings(path: Path, data: dict[str, Any]) -> list[str]:
    """A kiosk with no local price list ([pricing] price_list) gets every list from the
    backend: offline it prices only users whose list it cached (docs/offline.md). It
    works online, so it is a warning, not an error. A 3D kiosk prices nothing itself (its
    jobs come priced from the backend and cannot be listed offline): never warned."""
    printer = data.get("printer")
    if isinstance(printer, dict) and printer.get("kind") == "3d":
        return []
    pricing = data.get("pricing")
    if isinstance(pricing, dict) and pricing.get("price_list"):
        return []
    return [
        f"WARNING: {path.name}: pricing.price_list: not set: while the backend is "
        "unreachable this kiosk prices only the users whose price list it has already "
        "seen, and shows no job list to anyone else (add [pricing] price_list = "
        "\"/etc/printkiosk/pricelists/<list>.toml\" as the offline fallback)"
    ]


def _receipt_printer_finding(path: Path, table: dict[str, Any]) -> tuple[bool, str]:
    """Whether the [receipt] printer answers, tried the way the kiosk will (a network or
    USB printer is opened and closed, printing nothing). One that does not is a warning:
    the kiosk still works, only its "Print receipt" fails until the printer is back."""
    from terminal.config import ReceiptSection
    from terminal.wiring import receipt_printer_status

    reachable, finding = receipt_printer_status(ReceiptSection.model_validate(table))
    return reachable, finding if reachable else f"WARNING: {path.name}: receipt.target: {finding}"


def _printer3d_finding(path: Path) -> tuple[bool, str]:
    """Whether the 3D printer's server (OctoPrint or Moonraker) answers with the key
    the file names, its version and the printer's state. One that does not, or a key
    file that cannot be read, is a warning: the file itself is valid, and the kiosk
    shows the printer as unavailable until it answers."""
    from terminal.config import load_kiosk_config
    from terminal.wiring import printer3d_status

    reachable, finding = printer3d_status(load_kiosk_config(path), path.name)
    return reachable, finding if reachable else f"WARNING: {finding}"


def _check_spool_agent(path: Path) -> list[str]:
    from terminal.config import ConfigError
    from terminal.spool_agent import load_spool_agent_config

    try:
        load_spool_agent_config(path)
    except ConfigError as exc:
        return exc.problems
    return []


def _check_backend(path: Path) -> list[str]:
    from backend.config import BackendConfigError, load_backend_config

    try:
        load_backend_config(path)
    except BackendConfigError as exc:
        return list(exc.problems)
    return []


def _secret_key_findings(path: Path, data: dict[str, Any]) -> tuple[list[str], list[str]]:
    """(problems, warnings) of the backend's secret key file. Whoever reads the key can
    turn the stored card hashes back into card numbers, and a lost or replaced key makes
    every enrolled card unknown: so the file must exist, be the owner's alone (the
    backend refuses to start otherwise) and hold a real key, not a placeholder."""
    from backend.config import default_data_dir

    security = data.get("security")
    configured = security.get("secret_key_file") if isinstance(security, dict) else None
    if not configured:
        return [], [f"WARNING: {path.name}: security.secret_key_file: not set: the backend "
                    f"keeps its key in {default_data_dir() / 'backend-secret.key'} (created "
                    "at first start); name it here so that it is backed up with the site"]
    key_file = Path(configured)
    label = f"{path.name}: security.secret_key_file: {key_file}"
    if not key_file.exists():
        return [], [f"WARNING: {label}: does not exist; the backend creates a new key there "
                    "at first start (if this site already has a database, restore the old "
                    "key instead, or no enrolled card and no kiosk token will match)"]
    text, problem = read_text(key_file, MAX_SECRET_BYTES)
    if text is None:
        return [f"{label}: {(problem or '').split(': ', 1)[-1]}"], []
    problems = []
    mode = stat.S_IMODE(key_file.stat().st_mode)
    if mode & 0o077:
        problems.append(f"{label}: mode 0o{mode:03o} lets others read it; expected 0600 "
                        f"(chmod 600 {key_file}); the backend refuses to start")
    if not text.isascii():
        problems.append(f"{label}: is not ASCII text (the backend reads the key as ASCII)")
    elif len(text.strip()) < MIN_SECRET_CHARS:
        problems.append(f"{label}: holds {len(text.strip())} characters; a key needs at least "
                        f"{MIN_SECRET_CHARS} (e.g. `openssl rand -hex 32 > {key_file}`)")
    return problems, []


def _gateway_problems(path: Path) -> list[str]:
    """The configured payment gateway must be buildable (its key files readable):
    the backend refuses to start otherwise."""
    from backend.config import load_backend_config
    from backend.payments.gateway import GatewayError
    from backend.payments.registry import make_gateway

    try:
        make_gateway(load_backend_config(path), b"doctor")
    except GatewayError as exc:
        return [f"{path.name}: {exc}"]
    return []


def _notification_findings(path: Path) -> tuple[list[str], list[tuple[bool, str]]]:
    """[notifications]: the files it names (password, CA bundle, every template of the
    operator's folder compiled) and, when enabled and the files are sound, whether the
    mail server answers EHLO (no mail is sent)."""
    from backend.config import load_backend_config
    from backend.notify import doctor

    settings = load_backend_config(path).notifications
    problems = doctor.problems(path.name, settings)
    if problems or not settings.enabled:
        return problems, []
    return [], [doctor.reachability(path.name, settings)]


def _check_price_list(path: Path) -> list[str]:
    from billing.config_errors import ConfigError
    from billing.pricelist_toml import load_price_list

    try:
        load_price_list(path.read_text(encoding="utf-8"), path.name)
    except ConfigError as exc:
        return [str(problem) for problem in exc.problems]
    return []


def _check_client_plan(path: Path) -> list[str]:
    from backend.statements.plans import load_plan
    from billing.config_errors import ConfigError

    try:
        load_plan(path.read_text(encoding="utf-8"), path.name)
    except ConfigError as exc:
        return [str(problem) for problem in exc.problems]
    return []


def _check_quota_policy(path: Path) -> list[str]:
    from billing.config_errors import ConfigError
    from billing.quota_toml import load_quota_policy

    try:
        load_quota_policy(path.read_text(encoding="utf-8"), path.name)
    except ConfigError as exc:
        return [str(problem) for problem in exc.problems]
    return []


def run(args: argparse.Namespace) -> int:
    problems, warnings, notes = diagnose(args.config)
    for line in (*notes, *warnings):
        print(line)
    if problems:
        for problem in problems:
            print(problem, file=sys.stderr)
        count = len(problems)
        # stderr holds the problems alone, one a line, for scripts; the count is for people
        print(f"{args.config}: {count} problem{'s' if count != 1 else ''}")
        return 2
    count = len(warnings)
    print(f"{args.config}: OK" + (f" with {count} warning{'s' if count != 1 else ''}"
                                  if warnings else ""))
    return 0
