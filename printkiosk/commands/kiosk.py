"""Run the kiosk touch UI for one printer, from a kiosk configuration file.

The kiosk refuses to start on a bad configuration file and prints every problem found.
The terminal token comes from PRINTKIOSK_TERMINAL_TOKEN or from the file named by
backend.token_file (mode 0600).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", type=Path, required=True, help="kiosk TOML file")


def run(args: argparse.Namespace) -> int:
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
    run_kiosk(TerminalFactory(args.config))
    return 0
