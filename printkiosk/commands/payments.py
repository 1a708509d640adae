"""Top-ups paid by QR code: list, show, refund, reconcile (docs/payments.md).

Every action needs the backend's configuration (--config) and works on its database;
every change is audited with you as actor (cli:<user>).

  printkiosk payments list --config FILE [--status pending|paid|mismatch|...]
  printkiosk payments show ID --config FILE
  printkiosk payments refund ID [--amount 2.00] --reason TEXT --config FILE
  printkiosk payments reconcile --config FILE
  printkiosk payments import-statement FILE --config FILE [--dry-run]
      FILE: a camt.053 XML statement, or a CSV with the header
      date,amount,currency,reference,payer_name,bank_transaction_id
      (docs/payments-bank-transfer.md). Credits naming a top-up's reference with its
      amount credit the user; the others are listed for the cash desk.
  printkiosk payments unmatched --config FILE
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class Action:
    summary: str
    run: Callable[[Any, argparse.Namespace], None]
    needs_id: bool = False


def _list(backend: Any, args: argparse.Namespace) -> None:
    from backend.payments_cli import list_top_ups

    list_top_ups(backend, args.status)


def _show(backend: Any, args: argparse.Namespace) -> None:
    from backend.payments_cli import show

    show(backend, args.id)


def _refund(backend: Any, args: argparse.Namespace) -> None:
    from backend.payments_cli import refund

    refund(backend, args.id, args.amount, args.reason)


def _reconcile(backend: Any, args: argparse.Namespace) -> None:
    from backend.payments_cli import reconcile_now

    reconcile_now(backend)


def _import_statement(backend: Any, args: argparse.Namespace) -> None:
    from backend.payments.statement_cli import import_file

    import_file(backend, Path(args.id), dry_run=args.dry_run)


def _unmatched(backend: Any, args: argparse.Namespace) -> None:
    from backend.payments.statement_cli import list_unmatched

    list_unmatched(backend)


# One entry per action: add yours here (and its options in add_arguments).
ACTIONS: dict[str, Action] = {
    "list": Action("the latest top-ups (--status to filter)", _list),
    "show": Action("one top-up: its state, events and audit", _show, needs_id=True),
    "refund": Action("refund a paid top-up (or --amount of it) through its gateway, "
                     "with --reason", _refund, needs_id=True),
    "reconcile": Action("ask the gateway now about pending top-ups (the server does it "
                        "on schedule)", _reconcile),
    "import-statement": Action("import a camt.053 or CSV bank statement FILE: credit the "
                               "bank_transfer top-ups it pays", _import_statement,
                               needs_id=True),
    "unmatched": Action("the statement lines that credited no top-up (for the cash desk)",
                        _unmatched),
}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("action", choices=tuple(ACTIONS), metavar="ACTION",
                        help="; ".join(f"{name}: {action.summary}"
                                       for name, action in ACTIONS.items()))
    parser.add_argument("id", nargs="?", help="the top-up id (from list), e.g. T-3F9A0C1B2D; "
                        "import-statement: the statement FILE")
    parser.add_argument("--config", type=Path, help="backend TOML file (required)")
    parser.add_argument("--status", help="list: only top-ups in this status")
    parser.add_argument("--amount", help="refund: part of the top-up, e.g. 2.00 (default "
                        "all that is left)")
    parser.add_argument("--reason", help="refund: why (audited)")
    parser.add_argument("--dry-run", action="store_true",
                        help="import-statement: say what would happen, change nothing")


def run(args: argparse.Namespace) -> int:
    from printkiosk.commands.backend_file import run_on_backend

    if args.config is None:
        print("printkiosk payments: give the backend's --config FILE (the top-ups live in "
              "its database), e.g. --config /etc/printkiosk/backend.toml", file=sys.stderr)
        return 2
    action = ACTIONS[args.action]
    if action.needs_id and not args.id:
        what = ("the statement FILE (camt.053 XML or CSV)" if args.action == "import-statement"
                else "the top-up ID (printkiosk payments list)")
        print(f"printkiosk payments {args.action}: name {what}", file=sys.stderr)
        return 2
    return run_on_backend(f"payments {args.action}", args.config,
                          lambda backend: action.run(backend, args))
