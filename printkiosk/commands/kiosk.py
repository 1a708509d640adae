"""Run the kiosk touch UI for one printer, from a kiosk configuration file.

The kiosk refuses to start on a bad configuration file and prints every problem found.
The terminal token comes from PRINTKIOSK_TERMINAL_TOKEN or from the file named by
backend.token_file (mode 0600).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from terminal.wiring import Terminal


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", type=Path, required=True, help="kiosk TOML file")


def run(args: argparse.Namespace) -> int:
    from kiosk.run import run_kiosk
    from terminal.config import ConfigError
    from terminal.wiring import load_checked_config, terminal_token

    try:
        config = load_checked_config(args.config)
        terminal_token(config)  # refused here, before a window opens, when unreadable
    except ConfigError as exc:
        print(f"printkiosk kiosk: refusing to start, {args.config} has problems:", file=sys.stderr)
        for problem in exc.problems:
            print(f"  {problem}", file=sys.stderr)
        return 2
    run_kiosk(FileTerminals(args.config))
    return 0


class FileTerminals:
    """The kiosk's core built from its file, and built again from it after a change
    (started, as the app expects of a restart)."""

    def __init__(self, path: Path, extras: dict[str, Any] | None = None) -> None:
        self.path = path
        self._extras = dict(extras or {})

    def build(self) -> Terminal:
        from terminal.wiring import build_terminal, load_checked_config, terminal_token

        config = load_checked_config(self.path)
        return build_terminal(config, terminal_token(config), file_label=self.path.name,
                              **self._extras)

    def restart(self, terminal: Terminal) -> Terminal:
        terminal.close()
        fresh = self.build()
        fresh.start()
        return fresh
