"""Technician mode at the kiosk: set the local technician PIN.

  printkiosk technician set-pin --config /etc/printkiosk/kiosk.toml

The PIN (4 to 12 digits) comes from PRINTKIOSK_TECHNICIAN_PIN, else it is asked twice
without echo. Its scrypt hash (never the PIN) is written atomically, mode 0600, to the
file the kiosk file's ``[technician] local_pin_file`` names: the offline way into
technician mode when the backend cannot be reached.

Exit status: 0 written, 2 usage or configuration error.
"""

from __future__ import annotations

import argparse
import getpass
import os
import sys
from pathlib import Path

EXIT_OK = 0
EXIT_USAGE = 2


def add_arguments(parser: argparse.ArgumentParser) -> None:
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    set_pin = actions.add_parser(
        "set-pin", help="hash and store the local technician PIN (offline fallback)",
        description="Write [technician] local_pin_file: the scrypt hash of a PIN, mode 0600.")
    set_pin.add_argument("--config", required=True, type=Path, metavar="FILE",
                         help="kiosk configuration file with [technician] local_pin_file")


def _pin() -> str:
    from terminal.technician_pin import PIN_ENV

    from_env = os.environ.get(PIN_ENV)
    if from_env is not None:
        return from_env.strip()
    first = getpass.getpass("Technician PIN (4-12 digits): ")
    if getpass.getpass("The same PIN again: ") != first:
        raise ValueError("the two PINs differ")
    return first


def run(args: argparse.Namespace) -> int:
    from terminal.config import ConfigError, load_kiosk_config
    from terminal.technician_pin import write_pin_file

    try:
        config = load_kiosk_config(args.config)
    except ConfigError as exc:
        for problem in exc.problems:
            print(problem, file=sys.stderr)
        return EXIT_USAGE
    target = config.technician.local_pin_file
    if target is None:
        print(f"{args.config}: technician.local_pin_file: not set; add it to the "
              "[technician] table (e.g. \"/etc/printkiosk/technician-pin\")", file=sys.stderr)
        return EXIT_USAGE
    try:
        write_pin_file(Path(target), _pin())
    except ValueError as exc:
        print(f"printkiosk technician set-pin: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except OSError as exc:
        print(f"{target}: cannot be written: {exc.strerror}", file=sys.stderr)
        return EXIT_USAGE
    print(f"{target}: technician PIN written (mode 0600)")
    return EXIT_OK
