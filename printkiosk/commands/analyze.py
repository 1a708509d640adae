"""Placeholder until its issue lands: prints that the command is not available yet."""

from __future__ import annotations

import argparse
import sys


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("args", nargs="*")


def run(args: argparse.Namespace) -> int:
    print("printkiosk analyze: not available in this build", file=sys.stderr)
    return 2
