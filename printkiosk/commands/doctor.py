"""Validate a configuration file (kiosk, backend, price list, quota policy or spool agent)
and print every problem.

Exits 0 when the file is valid, 2 when it is not (each problem on its own line, naming
the file, the key, the value and what is allowed). Every problem of the file comes in
one pass, whatever its kind (a key's type, keys that contradict each other, a file it
names). A valid file can still get WARNING lines (exit 0): a setting that works but
leaves the kiosk weaker than the operator probably thinks.
"""

from __future__ import annotations

import argparse
import sys
import tomllib
from collections.abc import Callable
from pathlib import Path


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
    return "unknown"


def check_file(path: Path) -> list[str]:
    """Every problem of the file, or an empty list when it is valid."""
    return diagnose(path)[0]


def diagnose(path: Path) -> tuple[list[str], list[str]]:
    """(problems, warnings) of the file: problems make it unusable, warnings do not."""
    return _problems(path), _kiosk_warnings(path)


def _problems(path: Path) -> list[str]:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        return [f"{path}: cannot be read: {exc.strerror}"]
    except tomllib.TOMLDecodeError as exc:
        return [f"{path.name}: is not valid TOML: {exc}"]
    checkers: dict[str, Callable[[Path], list[str]]] = {
        "kiosk": _check_kiosk,
        "backend": _check_backend,
        "price list": _check_price_list,
        "quota policy": _check_quota_policy,
        "spool agent": _check_spool_agent,
    }
    checker = checkers.get(_kind(data))
    if checker is None:
        return [
            f"{path.name}: cannot tell what this file configures "
            "(expected a [terminal] table for a kiosk, [server] or [database] for a backend, "
            "[price_list] for a price list, [quota] for a quota policy, "
            "[spool_agent] for a spool agent)"
        ]
    return checker(path)


def _check_kiosk(path: Path) -> list[str]:
    from terminal.wiring import check_kiosk_file

    return check_kiosk_file(path)[1]


def _kiosk_warnings(path: Path) -> list[str]:
    """A kiosk with no local price list ([pricing] price_list) gets every list from the
    backend: offline it prices only users whose list it cached (docs/offline.md). It
    works online, so it is a warning, not an error."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError):
        return []
    if _kind(data) != "kiosk":
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


def _check_price_list(path: Path) -> list[str]:
    from billing.config_errors import ConfigError
    from billing.pricelist_toml import load_price_list

    try:
        load_price_list(path.read_text(encoding="utf-8"), path.name)
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
    problems, warnings = diagnose(args.config)
    for warning in warnings:
        print(warning)
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
