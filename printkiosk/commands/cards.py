"""Card readers: derive a normalisation rule from examples, or watch the configured reader.

  printkiosk cards derive 3283263748=04A1B2C3 789386=8A0B0C00 581570816=0011AA22
  printkiosk cards watch --config /etc/printkiosk/kiosk.toml [--seconds 60]

``derive`` takes three or more RAW=STORED pairs (what the new reader gives = the number the
old system stored for that card), prints the simplest rule that maps them all, in words
and as the ``[card_reader.normalise]`` table to paste into kiosk.toml. ``watch`` is the
technician's "test card reader": it starts the reader the file's ``[card_reader]`` table
describes and prints every card number (normalised), reader and card type, and readers
plugged or unplugged, until Ctrl-C or --seconds.

Exit status: 0 done, 2 usage or configuration error (or no rule fits the examples),
1 the reader's library (pyscard, evdev) is not installed.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import sys
import threading
import time
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from drivers.cards import CardNumberError, CardRead, ReaderEvent

EXIT_OK = 0
EXIT_NO_LIBRARY = 1
EXIT_USAGE = 2
_VENDOR_MODULE = {"pcsc": ("smartcard", "pyscard"), "wedge": ("evdev", "evdev")}


class UsageError(ValueError):
    """Input the command cannot use; the message names what and where."""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    derive = actions.add_parser(
        "derive",
        help="derive the normalisation rule from RAW=STORED example pairs (3 or more)",
        description="Print the simplest rule mapping what the reader gives to the stored number.",
    )
    derive.add_argument(
        "pairs", nargs="+", metavar="RAW=STORED",
        help="what the reader gives for a card = the number stored for that card",
    )
    watch = actions.add_parser(
        "watch",
        help="start the configured reader and print every card and reader change",
        description="Test the card reader of a kiosk configuration file; Ctrl-C ends.",
    )
    watch.add_argument("--config", required=True, type=Path, metavar="FILE",
                       help="kiosk configuration file with a [card_reader] table")
    watch.add_argument("--seconds", type=float, metavar="N",
                       help="stop after N seconds (default: until Ctrl-C)")


def run(args: argparse.Namespace) -> int:
    try:
        if args.action == "derive":
            return derive(args.pairs)
        return watch(args.config, args.seconds)
    except UsageError as exc:
        print(f"printkiosk cards {args.action}: {exc}", file=sys.stderr)
        return EXIT_USAGE


def parse_pair(text: str) -> tuple[str, str]:
    """``RAW=STORED`` -> (raw, stored); split at the last ``=`` (a track may contain one)."""
    raw, equals, stored = text.rpartition("=")
    if not equals or not raw.strip() or not stored.strip():
        raise UsageError(f"example {text!r} is not RAW=STORED (both sides non-empty)")
    return raw, stored


def derive(pair_texts: list[str]) -> int:
    from drivers.cards import NoRuleFits, derive_rule

    pairs = [parse_pair(text) for text in pair_texts]
    try:
        found = derive_rule(pairs)
    except NoRuleFits as exc:
        raise UsageError(str(exc)) from exc
    except ValueError as exc:  # too few pairs, an empty side
        raise UsageError(str(exc)) from exc
    print(f"Rule: {found.description}")
    print(f"It maps all {len(pairs)} examples: "
          + ", ".join(f"{raw.strip()} -> {stored.strip()}" for raw, stored in pairs))
    if found.alternatives:
        print("Other rules fit these examples just as well, so they do not settle the rule;")
        print("add an example that tells them apart before using it:")
        for other in found.alternatives:
            print(f"  - {other.describe()}")
    print()
    print("Paste into kiosk.toml:")
    print()
    print(toml_table("card_reader.normalise", found.rule.to_config()))
    return EXIT_OK


def toml_table(name: str, values: Mapping[str, str | int | bool]) -> str:
    """A TOML table of plain values; strings as basic strings (JSON escaping is valid TOML)."""
    lines = [f"[{name}]"]
    if not values:
        lines.append("# empty: the defaults (hexadecimal in, upper-case hexadecimal out)")
    for key, value in values.items():
        if isinstance(value, bool):
            text = "true" if value else "false"
        elif isinstance(value, int):
            text = str(value)
        else:
            text = json.dumps(value, ensure_ascii=False)
        lines.append(f"{key} = {text}")
    return "\n".join(lines)


def load_reader_table(path: Path) -> dict[str, Any]:
    """The file's ``[card_reader]`` table; errors name the file."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise UsageError(f"cannot read {path}: {exc.strerror}") from exc
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise UsageError(f"{path}: not valid TOML: {exc}") from exc
    table = data.get("card_reader")
    if table is None:
        raise UsageError(f"{path}: no [card_reader] table: there is no reader to watch")
    if not isinstance(table, dict):
        raise UsageError(f"{path}: card_reader: {table!r} is not a table")
    return table


def watch(config_path: Path, seconds: float | None) -> int:
    from drivers import cards

    if seconds is not None and seconds <= 0:
        raise UsageError(f"--seconds {seconds:g}: give a positive number of seconds")
    table = load_reader_table(config_path)
    try:
        reader = cards.reader_from_config(table, on_change=show_event)
    except cards.CardConfigError as exc:
        raise UsageError(f"{config_path}: {exc}") from exc
    kind = table.get("type", "simulated")
    if kind == "simulated" and not (table.get("fifo") or table.get("socket")):
        raise UsageError(
            f"{config_path}: card_reader: a simulated reader without fifo or socket "
            "gets no cards from outside the kiosk: nothing to watch"
        )
    module, package = _VENDOR_MODULE.get(kind, (None, None))
    if module is not None and importlib.util.find_spec(module) is None:
        print(f"printkiosk cards watch: {package} is not installed, a {kind} reader cannot run",
              file=sys.stderr)
        return EXIT_NO_LIBRARY

    def on_read(read: CardRead) -> None:
        try:
            number = reader.rule.apply(read.raw)
        except cards.CardNumberError as exc:
            show_rejected(exc)
            return
        show_card(number, read)

    try:
        reader.source.start(on_read)
    except (OSError, ValueError) as exc:
        raise UsageError(f"{config_path}: card_reader: the reader cannot start: {exc}") from exc
    until = "Ctrl-C" if seconds is None else f"Ctrl-C or {seconds:g} s"
    try:
        _say(f"watching the {kind} card reader of {config_path} (until {until})")
        if kind == "pcsc" and not cards.PcscCardReader.is_usable():
            _say("pcscd is not answering yet: it is tried again every second")
        threading.Event().wait(seconds)
    except KeyboardInterrupt:
        pass
    finally:
        reader.stop()
    _say("stopped")
    return EXIT_OK


def show_card(number: str, read: CardRead) -> None:
    raw = "" if read.raw == number else f" (read as {read.raw})"
    _say(f"card {number}{raw} on reader {read.reader!r}, type: {read.card_type or 'unknown'}")


def show_event(event: ReaderEvent) -> None:
    what = event.change.value.replace("_", " ")
    detail = f": {event.detail}" if event.detail else ""
    _say(f"{what} {event.reader!r}{detail}" if event.reader else f"{what}{detail}")


def show_rejected(error: CardNumberError) -> None:
    _say(f"card not understood by the normalise rule: {error}")


def _say(line: str) -> None:
    """One timestamped line, flushed at once: the technician (or a pipe) sees it live."""
    print(f"{time.strftime('%H:%M:%S')}  {line}", flush=True)
