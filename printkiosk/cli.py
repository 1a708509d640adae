"""Entry point of the ``printkiosk`` command.

The dispatcher knows subcommands only by module name: each lives in
``printkiosk/commands/<name>.py``, declares its arguments with ``add_arguments`` and
does its work in ``run``. Command modules import the heavy packages (Kivy, FastAPI,
SQLAlchemy, pysnmp) inside ``run`` so that ``printkiosk --help`` stays fast.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from printkiosk import __version__

# name -> one-line help; the module printkiosk.commands.<name> does the rest.
COMMANDS: dict[str, str] = {
    "demo": "run the demo: embedded backend on SQLite with demo data, and the kiosk window",
    "kiosk": "run the kiosk (touch UI) from a kiosk configuration file",
    "backend": "run the accounting backend (HTTP API) from a backend configuration file",
    "doctor": "validate a configuration file and print every problem found",
    "quote": "price a job with a price list and print the breakdown",
    "analyze": "analyse a print document (pages, colour pages, paper sizes) or G-code "
               "(filament, grams, time)",
    "snmp": "poll a printer over SNMP: counters, supplies and status",
    "cards": "card readers: derive a normalisation rule from examples, watch a reader",
    "spool-agent": "on the print server: analyse held jobs and report them to the backend",
    "vouchers": "voucher batches: create, sell, revoke, export, print cards, stats, lockouts",
    "payments": "top-ups paid by QR code: list, show, refund, reconcile, import a bank "
                "statement, list its unmatched lines",
    "technician": "technician mode: set the local technician PIN (offline fallback)",
    "3d": "3D print jobs on the backend: submit a G-code file for a user, list, show, cancel",
    "report": "usage reports: jobs, pages, amounts by user, device, site, billing code, period...",
}
# Commands whose name is not a module name (a module cannot start with a digit).
MODULES: dict[str, str] = {"3d": "print3d"}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="printkiosk",
        description="printkiosk: print-release kiosk and accounting backend.",
    )
    parser.add_argument("--version", action="version", version=f"printkiosk {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name, summary in COMMANDS.items():
        module_name = MODULES.get(name, name.replace("-", "_"))
        module = importlib.import_module(f"printkiosk.commands.{module_name}")
        command_parser = sub.add_parser(
            name, help=summary, description=module.__doc__ or summary,
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        module.add_arguments(command_parser)
        command_parser.set_defaults(run=module.run)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args, extras = parser.parse_known_args(argv)
    # A command may take words that come after its options (``backend role grant
    # --config FILE tess technician``); anything else unknown is an error as always.
    take = getattr(args, "take_positionals", None)
    if extras and (take is None or any(word.startswith("-") for word in extras)
                   or not take(args, extras)):
        parser.error(f"unrecognized arguments: {' '.join(extras)}")
    result: int = args.run(args)
    return result


if __name__ == "__main__":
    sys.exit(main())
