"""Voucher batches: create, sell, revoke, export, print cards, statistics, lockouts.

Every action needs the backend's configuration (--config) and works on its database;
every change is audited with you as actor (cli:<user>). See docs/vouchers.md.

  printkiosk vouchers create --config FILE --value 5.00 --count 500 --expires 2027-06-30
      --prefix LIB [--currency EUR] [--note TEXT] [--output codes.csv]
  printkiosk vouchers list --config FILE
  printkiosk vouchers show BATCH --config FILE
  printkiosk vouchers sell BATCH --count N [--payment cash|invoice] [--buyer TEXT]
  printkiosk vouchers revoke BATCH [--serials 3-9,12] [--sold-vouchers refund|forfeit]
      --reason TEXT
  printkiosk vouchers stats | expire | lockouts [--hours 24]
  printkiosk vouchers export BATCH --token TOKEN --format csv --output codes.csv
  printkiosk vouchers cards BATCH --codes codes.csv --output cards.pdf
  printkiosk vouchers cards BATCH --codes codes.csv --escpos network:192.168.1.60:9100
      [--profile TM-T88III] [--raster-qr]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

ACTIONS: dict[str, str] = {
    "create": "create a batch; writes the codes to --output and prints the export token",
    "list": "list the batches",
    "show": "show one batch and its counts",
    "sell": "sell --count N vouchers of the batch (cash or invoice)",
    "revoke": "revoke the batch or --serials of it, with --reason",
    "stats": "issued / sold / redeemed / revoked / expired / liability per batch and total",
    "expire": "post the breakage of expired vouchers now (the server does it on schedule)",
    "lockouts": "recent guessing lockouts (terminal or user)",
    "export": "write the codes once more with the one-time --token",
    "cards": "print the cards of --codes FILE: a PDF (--output) or a receipt printer",
}
NEEDS_BATCH = frozenset({"show", "sell", "revoke", "export", "cards"})


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("action", choices=tuple(ACTIONS), metavar="ACTION",
                        help="; ".join(f"{name}: {summary}" for name, summary in ACTIONS.items()))
    parser.add_argument("batch", nargs="?", help="the batch id (from create or list)")
    parser.add_argument("--config", type=Path, help="backend TOML file (required)")
    parser.add_argument("--value", help="create: the value of each voucher, e.g. 5.00")
    parser.add_argument("--count", help="create: how many (1-100000); sell: how many")
    parser.add_argument("--expires", help="create: the last valid day, YYYY-MM-DD")
    parser.add_argument("--prefix", default="", help="create: printed before each code")
    parser.add_argument("--currency", help="create: default ledger.currency")
    parser.add_argument("--note", default="", help="create: what the batch is for")
    parser.add_argument("--output", type=Path,
                        help="create, export: the CSV of codes; cards: the PDF")
    parser.add_argument("--payment", choices=("cash", "invoice"), default="cash",
                        help="sell: where the money comes from (default cash)")
    parser.add_argument("--buyer", default="", help="sell: who bought them")
    parser.add_argument("--serials", help="revoke: only these serials, e.g. 3-9,12")
    parser.add_argument("--sold-vouchers", choices=("refund", "forfeit"),
                        help="revoke: what happens to the value of sold vouchers")
    parser.add_argument("--reason", help="revoke: why (audited)")
    parser.add_argument("--token", help="export: the one-time export token from create")
    parser.add_argument("--format", choices=("csv",), default="csv", help="export: csv")
    parser.add_argument("--hours", type=float, default=24.0, help="lockouts: how far back")
    parser.add_argument("--codes", type=Path, help="cards: the CSV from create or export")
    parser.add_argument("--escpos", metavar="TARGET",
                        help="cards: a receipt printer, usb:VID:PID, network:HOST[:PORT] "
                             "or file:/path")
    parser.add_argument("--profile", help="cards --escpos: the printer's escpos profile")
    parser.add_argument("--raster-qr", action="store_true",
                        help="cards --escpos: the QR as an image (printers without QR)")
    parser.add_argument("--site", help="cards: the site name (default vouchers.site_name)")
    parser.add_argument("--language", choices=("en", "fr"),
                        help="cards: labels, value and date (default vouchers.card_language)")


def run(args: argparse.Namespace) -> int:
    from printkiosk.commands.backend_file import run_on_backend

    if args.config is None:
        print("printkiosk vouchers: give the backend's --config FILE (the vouchers live in "
              "its database), e.g. --config /etc/printkiosk/backend.toml", file=sys.stderr)
        return 2
    if args.action in NEEDS_BATCH and not args.batch:
        print(f"printkiosk vouchers {args.action}: name the BATCH (printkiosk vouchers list)",
              file=sys.stderr)
        return 2
    return run_on_backend(f"vouchers {args.action}", args.config,
                          lambda backend: _dispatch(backend, args))


def _dispatch(backend: Any, args: argparse.Namespace) -> None:
    from backend import voucher_cli as cli

    if args.action == "create":
        if not args.value or not args.count or not args.expires:
            raise cli.CliRefused("create needs --value, --count and --expires")
        cli.create(backend, value=args.value, count=args.count, expires=args.expires,
                   prefix=args.prefix, currency=args.currency, note=args.note,
                   output=args.output)
    elif args.action == "list":
        cli.list_batches(backend)
    elif args.action == "show":
        cli.show(backend, args.batch)
    elif args.action == "sell":
        cli.sell(backend, args.batch, args.count, args.payment, args.buyer)
    elif args.action == "revoke":
        cli.revoke(backend, args.batch, serials=args.serials,
                   sold_vouchers=args.sold_vouchers, reason=args.reason)
    elif args.action == "stats":
        cli.show_stats(backend)
    elif args.action == "expire":
        cli.expire(backend)
    elif args.action == "lockouts":
        cli.lockouts(backend, args.hours)
    elif args.action == "export":
        cli.export(backend, args.batch, args.token, args.output)
    else:
        _cards(backend, args)


def _cards(backend: Any, args: argparse.Namespace) -> None:
    from backend import voucher_cards
    from backend.voucher_cli import CliRefused, card_codes

    if args.codes is None or (args.output is None) == (args.escpos is None):
        raise CliRefused("cards needs --codes FILE.csv and either --output cards.pdf or "
                         "--escpos TARGET")
    if args.output is not None and (args.output.exists() or args.output.is_symlink()):
        raise CliRefused(f"{args.output}: already exists; refusing to overwrite it")
    batch, chosen = card_codes(backend, args.batch, args.codes)
    settings = backend.config.vouchers
    language = args.language or settings.card_language
    faces = voucher_cards.card_faces(chosen, amount=batch.value, currency=batch.currency,
                                     expires_on=batch.expires_on,
                                     site=args.site or settings.site_name, count=batch.count,
                                     prefix=batch.prefix, language=language)
    if args.output is not None:
        try:
            pages = voucher_cards.write_card_sheet(faces, args.output)
        except (voucher_cards.CardSheetError, OSError) as exc:
            raise CliRefused(str(exc)) from exc
        print(f"{len(faces)} cards of {batch.public_id} on {pages} A4 page(s): {args.output}")
        return
    from drivers.receipt import ReceiptError, open_receipt_printer, print_voucher_card

    labels = voucher_cards.LABELS[language]
    try:
        with open_receipt_printer(args.escpos, profile=args.profile) as printer:
            for face in faces:
                print_voucher_card(printer, code=face.code, lines=[
                    face.site, face.value, labels["valid_until"].format(date=face.expires),
                    labels["serial"].format(serial=face.serial), labels["redeem"]],
                    native_qr=not args.raster_qr)
    except ReceiptError as exc:
        raise CliRefused(str(exc)) from exc
    print(f"{len(faces)} cards of {batch.public_id} printed on {args.escpos}")
