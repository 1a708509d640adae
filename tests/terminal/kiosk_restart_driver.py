"""A kiosk process that restarts through ``Terminal.start`` and then releases jobs.

The kill loop starts it, SIGKILLs it at a random instant and starts it again. Every start
is the kiosk's own: ``build_terminal`` from a kiosk configuration (real backend process,
real outbox), then ``Terminal.start``, whose recovery settles what the killed run left
open, asking the print server each job's fate. The print server is a
:class:`terminal.fakes.FileHoldQueue` (its jobs' fates live in files, so they outlive the
kill); job ``i`` has :func:`pages` ``(i)`` mono pages and prints for :func:`print_s`
``(i)`` seconds, and a job that :func:`jams` stops after one impression. Once the
recovery is done the driver releases the user's held jobs one by one through
``Terminal.release`` until killed.

    kiosk_restart_driver.py URL STATE_DIR [--finish]

Prints ``ready`` just before ``Terminal.start``, and with ``--finish`` (no new release)
``recovered N unsettled M`` once the recovery is done and the outbox drained.
"""

from __future__ import annotations

import argparse
import sys
from decimal import Decimal
from pathlib import Path

from analysis import DocumentAnalysis
from terminal.config import parse_kiosk_config
from terminal.fakes import FakePricer, FileHoldQueue, document
from terminal.jobs import JobService
from terminal.release import ReleaseWorkflow
from terminal.wiring import build_terminal

USER = "carol"
TOKEN = "demo-terminal-token"  # the demo backend's terminal token
JOBS = 400
UNIT = Decimal("0.06")  # FakePricer: 0.05 a mono side + 0.01 a sheet


def pages(job_id: int) -> int:
    return 1 + job_id % 3


def jams(job_id: int) -> bool:
    return job_id % 5 == 0


def print_s(job_id: int) -> float:
    """Long enough for a killed kiosk's next start to find some jobs still printing."""
    return 0.3 * pages(job_id)


def expected_charge(job_id: int) -> Decimal:
    """What a released job must be charged once: its pages, or the one before a jam."""
    return UNIT * (1 if jams(job_id) else pages(job_id))


def analyse(_path: Path | None, reported_pages: int | None) -> DocumentAnalysis:
    return document(*("m" * (reported_pages or 1)))


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("url")
    parser.add_argument("state", type=Path)
    parser.add_argument("--finish", action="store_true")
    args = parser.parse_args()
    config = parse_kiosk_config({
        "terminal": {"name": "kill loop", "timezone": "UTC"},
        "backend": {"url": args.url, "connect_timeout_s": 1.0, "read_timeout_s": 10.0},
        "card_reader": {"type": "simulated"},
        "printer": {"name": "file print server"},  # no CUPS queue: the driver sets its own
        "offline": {"enabled": False, "state_dir": str(args.state / "kiosk")},
    }, "kill-loop.toml")
    terminal = build_terminal(config, TOKEN)
    assert terminal.charges is not None
    queue = FileHoldQueue(args.state / "print-server", USER, JOBS, pages, jams, print_s)
    terminal.jobs = JobService(queue, FakePricer(), analyse, parallel_analyses=1)
    terminal.release = ReleaseWorkflow(terminal.jobs, queue, terminal.charges,
                                       terminal.backend.balance, poll_s=0.005)
    print("ready", flush=True)
    terminal.start()
    assert terminal.recovery is not None
    recovered = terminal.recovery.result()
    if args.finish:
        terminal.charges.drain()
        print(f"recovered {len(recovered)} unsettled {len(terminal.charges.unsettled())}",
              flush=True)
        terminal.close()
        return 0
    while True:
        listed = terminal.jobs.list_jobs(USER).jobs
        if not listed:
            break
        terminal.release.release(USER, listed[:1], lambda _update: None)
    terminal.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
