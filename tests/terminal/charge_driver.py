"""A terminal process that releases jobs for one user through the durable charge flow.

The SIGKILL test starts it, kills it at a random instant, and starts it again, hundreds
of times. Each start first finishes what the previous one left: it drains the outbox and
captures every hold that was journalled but never settled (a real kiosk would read the
printed pages from the print server; here every job prints in full). Then it releases
new jobs until killed. Job ``i`` always costs :func:`price` ``(i)``, so the expected
ledger is known from the number of jobs started.

    charge_driver.py URL STATE_DIR [--finish]

Prints ``ready`` once it is about to touch money, and with ``--finish`` (no new jobs)
prints ``started N``: the number of jobs whose hold was journalled.
"""

from __future__ import annotations

import argparse
import sys
from decimal import Decimal
from pathlib import Path

from terminal.backend_client import HttpBackend
from terminal.charges import ChargeBook
from terminal.offline import OfflinePolicy
from terminal.outbox import Outbox

USER = "carol"
TOKEN = "demo-terminal-token"
HOLD_MARGIN = Decimal("0.05")


def price(index: int) -> Decimal:
    return Decimal("0.01") * (1 + index % 3)


def job_ref(index: int) -> str:
    return f"job-{index}"


def job_index(ref: str) -> int:
    return int(ref.removeprefix("job-"))


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("url")
    parser.add_argument("state", type=Path)
    parser.add_argument("--finish", action="store_true")
    args = parser.parse_args()
    outbox = Outbox(args.state / "outbox.sqlite3")
    backend = HttpBackend(args.url, TOKEN, connect_timeout_s=1.0, read_timeout_s=10.0,
                          retries=5, backoff_s=0.05)
    # Offline is off: every hold must be confirmed, so the expected ledger is exact.
    book = ChargeBook(outbox, backend, OfflinePolicy(enabled=False, spending_limit=Decimal(0)))
    print("ready", flush=True)
    book.drain()
    for cut_short in book.unsettled():
        index = job_index(cut_short.job_ref)
        book.capture(cut_short.key, price(index), pages=1 + index % 3, colour_pages=0)
    started = {job_index(entry.body["job_ref"]) for entry in outbox.holds()}
    next_index = max(started, default=-1) + 1
    if args.finish:
        report = book.drain()
        print(f"started {next_index} remaining {report.remaining}", flush=True)
        return 0
    while True:
        authorisation = book.authorise(USER, price(next_index) + HOLD_MARGIN,
                                       f"driver job {next_index}", job_ref(next_index))
        book.capture(authorisation.key, price(next_index), pages=1 + next_index % 3,
                     colour_pages=0)
        next_index += 1


if __name__ == "__main__":
    sys.exit(main())
