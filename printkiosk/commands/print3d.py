"""3D print jobs on the backend (docs/print3d-backend.md): submit a G-code or bgcode file
for a user and a printer group, list, show, cancel a ready one.

Every action needs the backend's configuration (--config) and works on its database;
a submission or cancel is audited with you as actor (cli:<user>).

  printkiosk 3d submit FILE --user U --printer-group G --config FILE
  printkiosk 3d list [--user U] [--group G] --config FILE
  printkiosk 3d show ID --config FILE
  printkiosk 3d cancel ID --config FILE
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

ACTIONS = {
    "submit": "analyse, price and store FILE for --user on --printer-group",
    "list": "the latest jobs (--user, --group to filter)",
    "show": "one job: figures, flags, settlement and audit",
    "cancel": "withdraw a ready job (its file is deleted)",
}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("action", choices=tuple(ACTIONS), metavar="ACTION",
                        help="; ".join(f"{name}: {text}" for name, text in ACTIONS.items()))
    parser.add_argument("target", nargs="?", help="submit: the G-code FILE; show, cancel: "
                        "the job ID")
    parser.add_argument("--config", type=Path, help="backend TOML file (required)")
    parser.add_argument("--user", help="submit: whose job; list: only this user's")
    parser.add_argument("--printer-group", help="submit: the [[print3d.groups]] name")
    parser.add_argument("--group", help="list: only this printer group")


def _usage(args: argparse.Namespace) -> str | None:
    if args.config is None:
        return ("give the backend's --config FILE (the jobs live in its database), e.g. "
                "--config /etc/printkiosk/backend.toml")
    if args.action in ("submit", "show", "cancel") and not args.target:
        return "name the G-code FILE" if args.action == "submit" else \
            "name the job ID (printkiosk 3d list)"
    if args.action == "submit" and not (args.user and args.printer_group):
        return "give --user U and --printer-group G"
    return None


def run(args: argparse.Namespace) -> int:
    from printkiosk.commands.backend_file import run_on_backend

    problem = _usage(args)
    if problem is not None:
        print(f"printkiosk 3d {args.action}: {problem}", file=sys.stderr)
        return 2
    return run_on_backend(f"3d {args.action}", args.config,
                          lambda backend: _dispatch(backend, args))


def _dispatch(backend: Any, args: argparse.Namespace) -> None:
    from backend import print3d_cli

    if args.action == "submit":
        print3d_cli.submit(backend, Path(args.target), args.user, args.printer_group)
    elif args.action == "list":
        print3d_cli.list_jobs(backend, args.user, args.group)
    elif args.action == "show":
        print3d_cli.show(backend, args.target)
    else:
        print3d_cli.cancel(backend, args.target)
