"""SIGKILL the terminal at random instants during releases: no charge lost, none doubled.

The first driver (``charge_driver.py``) releases jobs for one user through the durable
charge flow against a real backend process. It is killed a random few milliseconds after
it says it is ready — while it journals, sends, waits for an answer or marks an entry
sent — and started again, 60 times (``KILL_LOOP_KILLS`` sets more for a soak; 60 gave
about 50 jobs, every step of the flow hit many times, in half the time of 120). A last
start finishes what was cut short. Then the backend's ledger must hold exactly one
capture of the right price for every job the terminal started, nothing open, and no
other charge.

The second driver (``kiosk_restart_driver.py``) is the kiosk itself: every start goes
through ``build_terminal`` and ``Terminal.start``, whose recovery is what settles the
killed run's holds (voids a job never released, follows one still printing, cancels and
charges the part printed of a jammed one); then it releases through ``Terminal.release``.

Each test prints its seed (``-s`` or the failure report shows it); set
``KILL_LOOP_SEED`` to replay a failing run's kill instants.
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
from kiosk_restart_driver import expected_charge

DRIVER = Path(__file__).with_name("charge_driver.py")
KIOSK_DRIVER = Path(__file__).with_name("kiosk_restart_driver.py")
REPO = Path(__file__).resolve().parents[2]
# Enough kills to land in every step of the flow many times over (the seed is random per
# run, so CI covers new instants each time); KILL_LOOP_KILLS raises it for a long soak.
KILLS = int(os.environ.get("KILL_LOOP_KILLS", "60"))
KIOSK_KILLS = max(20, KILLS * 2 // 5)


def seeded(name: str) -> random.Random:
    """The run's random source, its seed printed so that a failure can be replayed."""
    given = os.environ.get("KILL_LOOP_SEED")
    seed = int(given) if given else int.from_bytes(os.urandom(4), "big")
    print(f"{name}: KILL_LOOP_SEED={seed}", flush=True)
    return random.Random(seed)


def start_driver(
    url: str, state: Path, *extra: str, driver: Path = DRIVER
) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    return subprocess.Popen(
        [sys.executable, str(driver), url, str(state), *extra],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
    )


def kill_loop(url: str, state: Path, chance: random.Random, kills: int, driver: Path,
              longest_s: float) -> None:
    """Start the driver ``kills`` times, each killed a random instant after "ready"."""
    for _ in range(kills):
        process = start_driver(url, state, driver=driver)
        assert process.stdout is not None
        if process.stdout.readline().strip() != "ready":
            process.wait()
            assert process.stderr is not None
            raise AssertionError(f"the driver did not start: {process.stderr.read()}")
        # From "ready" on the driver only drains, settles and releases: any instant of
        # the charge flow can be hit, including the very first one.
        process.stdout.close()
        try:
            process.wait(timeout=chance.uniform(0.0, longest_s))
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        assert process.returncode == -9, process.stderr.read() if process.stderr else ""
        if process.stderr is not None:
            process.stderr.close()


def test_sigkill_at_random_points_loses_and_doubles_nothing(
    backend_process: BackendProcess, tmp_path: Path
) -> None:
    state = tmp_path / "terminal"
    kill_loop(backend_process.url, state, seeded("charge flow"), KILLS, DRIVER, 0.08)

    finish = start_driver(backend_process.url, state, "--finish")
    out, err = finish.communicate(timeout=60)
    assert finish.returncode == 0, err
    lines = out.split()
    started = int(lines[lines.index("started") + 1])
    assert lines[lines.index("remaining") + 1] == "False", out
    assert started >= 20, "the driver made too little progress to prove anything"
    print(f"charge flow: {started} jobs over {KILLS} kills")

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


def test_sigkill_of_the_kiosk_restart_path_settles_every_job_once(
    backend_process: BackendProcess, tmp_path: Path
) -> None:
    state = tmp_path / "kiosk"
    # a kiosk start imports and builds more than the charge driver: give it longer
    kill_loop(backend_process.url, state, seeded("kiosk restart"), KIOSK_KILLS, KIOSK_DRIVER,
              1.2)

    finish = start_driver(backend_process.url, state, "--finish", driver=KIOSK_DRIVER)
    out, err = finish.communicate(timeout=120)
    assert finish.returncode == 0, err
    assert out.split()[-2:] == ["unsettled", "0"], out

    released = {int(p.name.removeprefix("released-"))
                for p in (state / "print-server").glob("released-*")}
    assert len(released) >= 20, "the kiosk made too little progress to prove anything"
    holds = backend_process.holds()
    assert [hold for hold in holds if hold.status not in {"captured", "voided"}] == []
    captured: dict[str, list[Decimal]] = {}
    for hold in holds:
        if hold.status == "captured":
            captured.setdefault(hold.job_ref or "", []).append(hold.captured or Decimal(0))
    # every job that reached the printer is charged exactly once, what it printed;
    # a hold whose job never reached it was voided (the job was released again later)
    assert captured == {f"cups-{job_id}": [expected_charge(job_id)] for job_id in released}
    assert backend_process.charge_count() == len(released)
    voided = sum(1 for hold in holds if hold.status == "voided")
    print(f"kiosk restart: {len(released)} jobs printed over {KIOSK_KILLS} kills, "
          f"{len(holds)} holds, {voided} voided")
