"""Price a paper job with a price list and print the breakdown, the subtotals and the total.

  printkiosk quote --price-list config/pricelists/seed-001-volume-tiers.toml \\
      --mono 13207 --colour 11216

The job is priced as the first job of an accounting period (no volume counted yet),
which is how a period's statement is priced too. A file that is not a valid price list
is reported with file, key, value and what is expected, and the exit status is 2.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

# billing.units is a few enums (no I/O, nothing heavy): the choices come from the source.
from billing.units import PAPER_FUNCTIONS, MediaSize

SIZES = tuple(size.value for size in MediaSize)
FUNCTIONS = tuple(function.value for function in PAPER_FUNCTIONS)


def _count(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"{text!r} must be 0 or more")
    return value


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--price-list", required=True, type=Path, metavar="FILE",
                        help="price list TOML file")
    parser.add_argument("--mono", type=_count, default=0, metavar="N", help="mono sides")
    parser.add_argument("--colour", type=_count, default=0, metavar="N", help="colour sides")
    parser.add_argument("--duplex", action="store_true", help="print on both sides")
    parser.add_argument("--size", choices=SIZES, default="A4", help="paper size (default A4)")
    parser.add_argument("--copies", type=_count, default=1, metavar="N", help="copies (default 1)")
    parser.add_argument("--function", choices=FUNCTIONS, default="print",
                        help="what the device does (default print)")


def run(args: argparse.Namespace) -> int:
    from billing import (
        Colour,
        ConfigError,
        Function,
        MediaSize,
        PaperJob,
        PricingError,
        estimate,
        load_price_list,
        round_money,
    )

    path: Path = args.price_list
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        print(f"printkiosk quote: cannot read price list {path}: {exc}", file=sys.stderr)
        return 2
    try:
        price_list = load_price_list(text, str(path))
        job = PaperJob.simple(
            args.mono, args.colour, size=MediaSize(args.size), duplex=args.duplex,
            copies=args.copies, function=Function(args.function),
        )
        result = estimate(job, price_list)
    except ConfigError as exc:
        print(f"printkiosk quote: invalid price list:\n{exc}", file=sys.stderr)
        return 2
    except (PricingError, ValueError) as exc:
        print(f"printkiosk quote: {exc}", file=sys.stderr)
        return 2
    quote = result.quote
    print(f"Price list: {price_list.name} ({path})")
    for line in quote.lines:
        print(f"  {line.text(quote.currency)}")
    for colour in Colour:
        subtotal = quote.subtotal(colour)
        if subtotal:
            shown = round_money(subtotal, quote.currency).amount
            print(f"{colour.value.capitalize()} pages: {shown}")
    print(f"Total: {quote.total.amount} {quote.currency}")
    for alternative in result.alternatives:
        print(f"  {alternative.text()}")
    return 0
