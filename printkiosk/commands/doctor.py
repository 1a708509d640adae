"""Validate a configuration file (kiosk, backend, price list, quota policy or spool agent)
and print every problem.

Exits 0 when the file is valid, 2 when it is not (each problem on its own line, naming
the file, the key, the value and what is allowed).
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
    from terminal.config import ConfigError
    from terminal.wiring import load_checked_config

    try:
        load_checked_config(path)
    except ConfigError as exc:
        return exc.problems
    return []


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
    problems = check_file(args.config)
    if problems:
        for problem in problems:
            print(problem, file=sys.stderr)
        return 2
    print(f"{args.config}: OK")
    return 0
