"""SIGKILL the terminal at random instants during releases: no charge lost, none doubled.

The driver (``charge_driver.py``) releases jobs for one user through the durable charge
flow against a real backend process. It is killed a random few milliseconds after it
says it is ready — while it journals, sends, waits for an answer or marks an entry
sent — and started again, at least 200 times. A last start finishes what was cut short.
Then the backend's ledger must hold exactly one capture of the right price for every job
the terminal started, nothing open, and no other charge.
"""

from __future__ import annotations

import os
import random
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

from backend_process import BackendProcess
from charge_driver import job_ref, price

DRIVER = Path(__file__).with_name("charge_driver.py")
REPO = Path(__file__).resolve().parents[2]
KILLS = 200


def start_driver(url: str, state: Path, *extra: str) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    return subprocess.Popen(
        [sys.executable, str(DRIVER), url, str(state), *extra],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
    )


def test_sigkill_at_random_points_loses_and_doubles_nothing(
    backend_process: BackendProcess, tmp_path: Path
) -> None:
    state = tmp_path / "terminal"
    chance = random.Random(int.from_bytes(os.urandom(4), "big"))
    for _ in range(KILLS):
        driver = start_driver(backend_process.url, state)
        assert driver.stdout is not None
        assert driver.stdout.readline().strip() == "ready", driver.stderr
        # From "ready" on the driver only drains, settles and releases: any instant of
        # the charge flow can be hit, including the very first one.
        driver.stdout.close()
        try:
            driver.wait(timeout=chance.uniform(0.0, 0.08))
        except subprocess.TimeoutExpired:
            driver.kill()
            driver.wait()
        assert driver.returncode == -9, driver.stderr.read() if driver.stderr else ""
        if driver.stderr is not None:
            driver.stderr.close()

    finish = start_driver(backend_process.url, state, "--finish")
    out, err = finish.communicate(timeout=60)
    assert finish.returncode == 0, err
    lines = out.split()
    started = int(lines[lines.index("started") + 1])
    assert lines[lines.index("remaining") + 1] == "False", out
    assert started >= 20, "the driver made too little progress to prove anything"

    holds = backend_process.holds()
    captured = [hold for hold in holds if hold.status == "captured"]
    assert sorted(hold.job_ref or "" for hold in captured) == sorted(
        job_ref(index) for index in range(started)
    )
    for hold in captured:
        index = int((hold.job_ref or "").removeprefix("job-"))
        assert hold.captured == price(index), hold
    assert [hold for hold in holds if hold.status not in {"captured", "voided"}] == []
    assert backend_process.charge_count() == started
    expected = sum((price(index) for index in range(started)), Decimal(0))
    assert sum((hold.captured or Decimal(0) for hold in holds), Decimal(0)) == expected
