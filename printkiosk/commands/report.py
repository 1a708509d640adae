"""Usage reports from the backend's database: jobs, pages, sheets, amounts charged and
refunded, 3D grams and hours, grouped and filtered. See docs/reports.md.

  printkiosk report --config FILE --by user,device --period month
      --from 2026-11-01 --to 2026-12-01 [--where site=LIB] [--where group=Staff,Lab]
      [--format table|csv|png|svg] [--measure pages] [--output FILE]

Groupings: user, group, cost_centre, device, model, site, client, card, billing_code,
billing_client, function (print/copy/scan/3d), period (day, week, month or range: the
whole --from/--to), job. Dates are UTC days; --to is excluded.

  printkiosk report --config FILE --save NAME --by site --schedule monthly
      --recipients boss@example.org,fin@example.org [--language fr] [--where ...]

saves a report that the backend mails after each complete day, week or month (through
the notification outbox; needs [notifications] enabled). Audited as cli:<you>.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", type=Path, help="backend TOML file (required)")
    parser.add_argument("--by", default="user", help="groupings, comma-separated (user)")
    parser.add_argument("--period", default="month",
                        help="day, week, month or range (default month)")
    parser.add_argument("--from", dest="start", help="first day, YYYY-MM-DD")
    parser.add_argument("--to", dest="end", help="the day after the last, YYYY-MM-DD")
    parser.add_argument("--where", action="append", default=[],
                        help="GROUPING=VALUE[,VALUE...]; repeat for several filters")
    parser.add_argument("--format", default="table",
                        help="table, csv, png or svg (default table)")
    parser.add_argument("--measure", default="pages",
                        help="png/svg: the measure drawn (default pages)")
    parser.add_argument("--output", type=Path, help="the file to write (default stdout)")
    parser.add_argument("--save", metavar="NAME", help="save the report to be mailed")
    parser.add_argument("--schedule", default="monthly", help="--save: daily, weekly, monthly")
    parser.add_argument("--recipients", default="", help="--save: addresses, comma-separated")
    parser.add_argument("--language", default="en", help="--save: the mail's language (en, fr)")


def run(args: argparse.Namespace) -> int:
    from backend.reports.engine import MEASURES
    from backend.reports.output import FORMATS, write
    from backend.reports.query import ReportError, parse_query
    from printkiosk.commands.backend_file import run_on_backend

    def refuse(message: str) -> int:
        print(f"printkiosk report: {message}", file=sys.stderr)
        return 2

    if args.config is None:
        return refuse("give the backend's --config FILE (the jobs live in its database)")
    if args.save is not None:
        return _save(args)
    if args.start is None or args.end is None:
        return refuse("give --from and --to (YYYY-MM-DD)")
    try:
        query = parse_query(args.by, args.period, args.start, args.end, args.where)
    except ReportError as exc:
        return refuse(f"--{exc.field}: {exc.message}")
    if args.format not in FORMATS:
        return refuse(f"--format: {args.format!r} is not one of {', '.join(FORMATS)}")
    if args.measure not in MEASURES:
        return refuse(f"--measure: {args.measure!r} is not one of {', '.join(MEASURES)}")
    if args.format in ("png", "svg") and args.output is None:
        return refuse(f"--format {args.format} needs --output FILE")
    if args.output is not None and not args.output.parent.is_dir():
        return refuse(f"--output: folder {args.output.parent} does not exist")

    def work(backend: object) -> None:
        with backend.db.read() as session:  # type: ignore[attr-defined]
            write(session, query, args.format, args.output, args.measure)

    return run_on_backend("report", args.config, work)


def _save(args: argparse.Namespace) -> int:
    from backend.reports.query import ReportError
    from backend.reports.saved import save
    from backend.voucher_cli import CliRefused
    from printkiosk.commands.backend_file import run_on_backend

    def work(backend: object) -> None:
        try:
            with backend.db.write() as session:  # type: ignore[attr-defined]
                report = save(session, name=args.save, by=args.by, where=args.where,
                              schedule=args.schedule, recipients=args.recipients,
                              language=args.language,
                              actor=backend.actor)  # type: ignore[attr-defined]
                print(f"saved report {report.name!r}: mailed {report.schedule} to "
                      f"{report.recipients}")
        except ReportError as exc:
            raise CliRefused(f"--{exc.field}: {exc.message}") from exc

    return run_on_backend("report", args.config, work)
