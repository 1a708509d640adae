"""Run the kiosk touch UI for one printer, from a kiosk configuration file.

The kiosk refuses to start on a bad configuration file and prints every problem found.
The terminal token comes from PRINTKIOSK_TERMINAL_TOKEN or from the file named by
backend.token_file (mode 0600).

Under systemd (printkiosk-kiosk.service, Type=notify) the kiosk says READY=1 at its first
frame, pings the watchdog from the Kivy clock and says STOPPING=1 once its window closed.
It logs to stderr only (journald keeps it; Kivy's own log file is off): no log file grows
on the box.
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", type=Path, required=True, help="kiosk TOML file")


def run(args: argparse.Namespace) -> int:
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    from kiosk.run import run_kiosk
    from terminal.config import ConfigError
    from terminal.wiring import TerminalFactory, load_checked_config, terminal_token

    try:
        config = load_checked_config(args.config)
        terminal_token(config)  # refused here, before a window opens, when unreadable
    except ConfigError as exc:
        print(f"printkiosk kiosk: refusing to start, {args.config} has problems:", file=sys.stderr)
        for problem in exc.problems:
            print(f"  {problem}", file=sys.stderr)
        return 2
    from printkiosk.systemd_notify import Watchdog

    watchdog = Watchdog()
    try:
        run_kiosk(TerminalFactory(args.config), heartbeat=watchdog.beat)
    finally:
        watchdog.stopping()
    return 0
