"""Run the accounting backend: the terminal HTTP API under /api/v1.

Reads a backend TOML file (--config; without it: SQLite under the user's data directory,
127.0.0.1:8470), migrates the database schema, then serves. --demo-data seeds demo users,
cards and a demo terminal first; --migrate-only migrates and exits.

  printkiosk backend --config /etc/printkiosk/backend.toml
  printkiosk backend --demo-data --port 8470
  printkiosk backend refill --config FILE      run the quota refill for the current period
  printkiosk backend enrolment-key --config FILE   print a new one-time terminal enrolment key
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "action", nargs="?", default="serve", choices=("serve", "refill", "enrolment-key"),
        help="serve (default), refill the quotas once, or create a terminal enrolment key",
    )
    parser.add_argument("--config", type=Path, help="backend TOML file (default: built-in)")
    parser.add_argument("--host", help="listen address (overrides server.host)")
    parser.add_argument("--port", type=int, help="listen port (overrides server.port)")
    parser.add_argument("--demo-data", action="store_true", help="seed the demo data first")
    parser.add_argument("--migrate-only", action="store_true",
                        help="create or upgrade the database schema, then exit")


def run(args: argparse.Namespace) -> int:
    from backend.config import BackendConfig, BackendConfigError, load_backend_config

    try:
        config = load_backend_config(args.config) if args.config else BackendConfig()
    except BackendConfigError as exc:
        for problem in exc.problems:
            print(problem, file=sys.stderr)
        return 2
    from backend.server import main

    return main(config, action=args.action, host=args.host, port=args.port,
                demo_data=args.demo_data, migrate_only=args.migrate_only)
