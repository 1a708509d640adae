"""Payments for top-ups: bank statements of the bank_transfer gateway.

  printkiosk payments import-statement FILE --config backend.toml [--dry-run]
      FILE is a camt.053 XML statement or a CSV with the header
      date,amount,currency,reference,payer_name,bank_transaction_id
      (docs/payments-bank-transfer.md). Credits naming a top-up's reference with its
      amount credit the user; the others are listed for the cash desk.
  printkiosk payments unmatched --config backend.toml
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ACTIONS: dict[str, str] = {
    "import-statement": "import a camt.053 or CSV bank statement FILE and credit the "
                        "top-ups it pays",
    "unmatched": "list the statement lines that credited no top-up (for the cash desk)",
}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("action", choices=tuple(ACTIONS), metavar="ACTION",
                        help="; ".join(f"{name}: {summary}" for name, summary in ACTIONS.items()))
    parser.add_argument("file", nargs="?", type=Path, help="import-statement: the statement")
    parser.add_argument("--config", type=Path, help="backend TOML file (required)")
    parser.add_argument("--dry-run", action="store_true",
                        help="import-statement: say what would happen, change nothing")


def run(args: argparse.Namespace) -> int:
    import getpass

    from backend.config import BackendConfigError, load_backend_config
    from backend.voucher_cli import CliRefused, open_backend

    if args.config is None:
        print("printkiosk payments: give the backend's --config FILE, e.g. "
              "--config /etc/printkiosk/backend.toml", file=sys.stderr)
        return 2
    if args.action == "import-statement" and args.file is None:
        print("printkiosk payments import-statement: name the statement FILE (camt.053 XML "
              "or CSV)", file=sys.stderr)
        return 2
    try:
        config = load_backend_config(args.config)
    except BackendConfigError as exc:
        for problem in exc.problems:
            print(problem, file=sys.stderr)
        return 2
    from backend.payments import statement_cli

    try:
        with open_backend(config, f"cli:{getpass.getuser()}") as backend:
            if args.action == "import-statement":
                statement_cli.import_file(backend, args.file, dry_run=args.dry_run)
            else:
                statement_cli.list_unmatched(backend)
    except CliRefused as exc:
        print(f"printkiosk payments {args.action}: {exc}; nothing changed", file=sys.stderr)
        return 2
    return 0
