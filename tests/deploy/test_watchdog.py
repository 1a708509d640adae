"""The systemd watchdog, end to end: the real ``printkiosk kiosk`` (a real window under
Xvfb, the real backend process, the simulated card reader) and the real ``printkiosk
backend``, each with a NOTIFY_SOCKET this test listens on, as systemd would.

Each says READY=1, then pings WATCHDOG=1 about every WATCHDOG_USEC / 2. SIGSTOP freezes
the process (its loop with it, as a deadlock or a blocking call on the loop would): the
pings stop, which is what makes systemd restart it. SIGCONT: they come back. SIGTERM:
STOPPING=1 and a clean exit.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import tomllib
from collections.abc import Iterator
from pathlib import Path

import pytest
from notify_listener import NotifyListener, toml_text

from backend.demo import DEMO_TERMINAL_TOKEN
from printkiosk.commands.demo import free_port, start_demo_backend, stop_demo_backend

REPO = Path(__file__).resolve().parents[2]
WATCHDOG_USEC = 2_000_000  # WatchdogSec=2s: systemd restarts after 2 s without a ping
WATCHDOG_S = WATCHDOG_USEC / 1_000_000
PING_S = WATCHDOG_S / 2  # Watchdog.interval_s(): the service pings at least this often


@pytest.fixture
def listener(tmp_path: Path) -> Iterator[NotifyListener]:
    notify = NotifyListener(tmp_path / "notify.sock")
    try:
        yield notify
    finally:
        notify.close()


def kiosk_file(folder: Path, backend_url: str) -> Path:
    """config/kiosk-mfp.toml made to run here: this backend, the simulated reader, a
    state directory of its own, no SNMP agent to reach, a window rather than full screen."""
    data = tomllib.loads((REPO / "config" / "kiosk-mfp.toml").read_text(encoding="utf-8"))
    data["backend"]["url"] = backend_url
    data["card_reader"] = {"type": "simulated"}
    data["offline"]["state_dir"] = str(folder / "state")
    data["printer"]["snmp"] = {"enabled": False}
    data["display"] = {"width": 800, "height": 480, "fullscreen": False}
    path = folder / "kiosk.toml"
    path.write_text(toml_text(data), encoding="utf-8")
    return path


def start_kiosk(config: Path, env: dict[str, str], home: Path,
                output: Path) -> subprocess.Popen[str]:
    """``printkiosk kiosk``; what it prints goes to ``output`` (a pipe nobody reads
    could fill up and block it, which would look like a frozen loop)."""
    if not os.environ.get("DISPLAY"):
        pytest.fail("the kiosk needs an X display: run the tests through scripts/test.sh")
    env = {**env, "PRINTKIOSK_TERMINAL_TOKEN": DEMO_TERMINAL_TOKEN, "HOME": str(home),
           "PYTHONPATH": str(REPO)}
    for name in [name for name in env if name.startswith("KIVY_")]:
        del env[name]  # exactly what the command itself sets, as under systemd
    return subprocess.Popen(
        [sys.executable, "-m", "printkiosk", "kiosk", "--config", str(config)],
        env=env, cwd=home, stdout=output.open("w"), stderr=subprocess.STDOUT, text=True)


def assert_regular(pings: list[float], since: float, until: float) -> list[float]:
    """Pings over [since, until]: never a gap systemd would restart on, never a flood
    (at most one per half interval, the Watchdog's rate limit). Returns the gaps."""
    assert pings, "no watchdog ping at all"
    span = until - since
    gaps = [b - a for a, b in zip([since, *pings], [*pings, until], strict=True)]
    print(f"{len(pings)} pings in {span:.1f} s, gaps {min(gaps):.2f}..{max(gaps):.2f} s")
    assert max(gaps) < WATCHDOG_S, f"a gap of {max(gaps):.2f} s between pings: systemd " \
        f"restarts after {WATCHDOG_S:g} s"
    assert len(pings) <= span / (PING_S / 2) + 1, f"{len(pings)} pings in {span:.1f} s: a flood"
    return gaps


def freeze_and_thaw(process: subprocess.Popen[str], listener: NotifyListener) -> None:
    """SIGSTOP for longer than WatchdogSec: no ping; SIGCONT: pings again."""
    process.send_signal(signal.SIGSTOP)
    frozen = time.monotonic()
    time.sleep(0.05)  # a datagram already sent before the stop may still be arriving
    try:
        time.sleep(1.5 * WATCHDOG_S)
        assert listener.pings(frozen + 0.05, time.monotonic()) == [], \
            "pings went on while the process was frozen"
    finally:
        process.send_signal(signal.SIGCONT)
    thawed = time.monotonic()
    listener.wait_for("WATCHDOG=1", timeout_s=5, since=thawed)


def stop_cleanly(process: subprocess.Popen[str], listener: NotifyListener) -> None:
    asked = time.monotonic()
    process.send_signal(signal.SIGTERM)
    listener.wait_for("STOPPING=1", timeout_s=15, since=asked)
    process.wait(timeout=30)


@pytest.mark.ui
def test_the_kiosk_says_ready_at_its_first_frame_pings_and_stops_pinging_when_frozen(
    demo_backend_url: str, listener: NotifyListener, tmp_path: Path
) -> None:
    home = tmp_path / "home"
    home.mkdir()
    config = kiosk_file(tmp_path, demo_backend_url)
    started = time.monotonic()
    output = tmp_path / "kiosk.out"
    kiosk = start_kiosk(config, listener.env(WATCHDOG_USEC), home, output)
    try:
        try:
            ready = listener.wait_for("READY=1", timeout_s=60, sender=kiosk)
        except AssertionError as exc:
            raise AssertionError(f"{exc}\nthe kiosk said:\n{output.read_text()[-3000:]}") from None
        print(f"kiosk READY=1 {ready.at - started:.2f} s after start")
        assert listener.pings(started, ready.at) == [], "a ping before READY=1"
        time.sleep(5 * WATCHDOG_S)
        until = time.monotonic()
        assert_regular(listener.pings(ready.at, until), ready.at, until)
        freeze_and_thaw(kiosk, listener)
        stop_cleanly(kiosk, listener)
    finally:
        if kiosk.poll() is None:
            kiosk.send_signal(signal.SIGCONT)
            kiosk.kill()
            kiosk.wait()
    said = output.read_text()
    assert kiosk.returncode == 0, said[-3000:]
    # logs go to stderr (journald under systemd), Kivy's as well; no file of their own
    assert "INFO kivy: " in said, said[-3000:]
    written = [path for folder in (home, tmp_path / "state") for path in folder.rglob("*")
               if path.is_file()]
    print("the kiosk wrote:", sorted(str(path.relative_to(tmp_path)) for path in written))
    assert not [path for path in written if "log" in path.name.lower()], written
    assert not [path for path in written if home in path.parents], "written into HOME"
    state_files = (".sqlite", ".sqlite-wal", ".sqlite-shm", ".key", ".json")
    assert all(path.name.endswith(state_files) for path in written), written
    texts = [m.text for m in listener.received()]
    assert texts[0] == "READY=1\nSTATUS=serving" and texts[-1] == "STOPPING=1", texts
    assert set(texts[1:-1]) == {"WATCHDOG=1"}, texts


def test_the_backend_says_ready_once_it_listens_pings_from_its_loop_and_stops_when_frozen(
    listener: NotifyListener, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, value in listener.env(WATCHDOG_USEC).items():
        if name in ("NOTIFY_SOCKET", "WATCHDOG_USEC"):
            monkeypatch.setenv(name, value)
    data = tmp_path / "backend"
    data.mkdir()
    started = time.monotonic()
    backend = start_demo_backend(free_port(), data)  # returns once the port accepts
    listening = time.monotonic()
    try:
        ready = listener.wait_for("READY=1", timeout_s=5)
        assert ready.at <= listening + 0.5, "READY=1 long after the port listened"
        assert listener.pings(started, ready.at) == []
        time.sleep(5 * WATCHDOG_S)
        until = time.monotonic()
        assert_regular(listener.pings(ready.at, until), ready.at, until)
        freeze_and_thaw(backend, listener)
        asked = time.monotonic()
        backend.send_signal(signal.SIGTERM)
        listener.wait_for("STOPPING=1", timeout_s=15, since=asked)
        backend.wait(timeout=30)
    finally:
        backend.send_signal(signal.SIGCONT)
        stop_demo_backend(backend)
    texts = [m.text for m in listener.received()]
    assert texts[0] == "READY=1\nSTATUS=serving" and texts[-1] == "STOPPING=1", texts
    assert set(texts[1:-1]) == {"WATCHDOG=1"}, texts


@pytest.mark.ui
def test_the_kiosk_heartbeat_pauses_while_the_ui_thread_is_blocked_and_sigterm_closes_it(
    demo_backend_url: str,
) -> None:
    """SIGSTOP freezes every thread; this blocks only the Kivy thread (a 3 s sleep in a
    Clock callback) while another thread of the process runs on: a heartbeat sent from
    a thread of its own would go on, the kiosk's stops for the whole block."""
    if not os.environ.get("DISPLAY"):
        pytest.fail("the kiosk needs an X display: run the tests through scripts/test.sh")
    result = subprocess.run(
        [sys.executable, str(Path(__file__).with_name("drive_blocked_loop.py")),
         demo_backend_url],
        capture_output=True, text=True, timeout=120, check=False,
        env={**os.environ, "PYTHONPATH": str(REPO)})
    assert result.returncode == 0, result.stderr[-3000:]
    seen = json.loads(result.stdout.strip().splitlines()[-1])
    start, end = seen["blocked"]
    beats, ticks = seen["beats"], seen["ticks"]
    assert end - start >= 2.9
    during = [beat for beat in beats if start < beat < end]
    assert during == [], f"heartbeats while the UI thread was blocked: {during}"
    assert [tick for tick in ticks if start < tick < end], "the other thread was blocked too"
    gap = min(beat for beat in beats if beat >= end) - max(b for b in beats if b <= start)
    assert gap >= 2.9, gap
    assert len(beats) == 12  # SIGTERM after the 12th beat closed the app: no 13th


def test_the_spool_agent_says_ready_pings_between_passes_and_stops_when_frozen(
    demo_backend_url: str, listener: NotifyListener, tmp_path: Path
) -> None:
    """The real ``printkiosk spool-agent`` (its CUPS is away: every pass fails and is
    logged, the loop goes on, as it must on a print server whose CUPS restarts)."""
    data = tomllib.loads((REPO / "config" / "spool-agent.toml").read_text(encoding="utf-8"))
    data["spool_agent"].update(cups_port=free_port(), poll_interval_s=0.5,
                               spool_dir=str(tmp_path / "spool"),
                               state_dir=str(tmp_path / "state"))
    data["backend"]["url"] = demo_backend_url
    config = tmp_path / "spool-agent.toml"
    config.write_text(toml_text(data), encoding="utf-8")
    started = time.monotonic()
    agent = subprocess.Popen(
        [sys.executable, "-m", "printkiosk", "spool-agent", "--config", str(config)],
        env={**listener.env(WATCHDOG_USEC), "PRINTKIOSK_SPOOL_AGENT_TOKEN": DEMO_TERMINAL_TOKEN,
             "PYTHONPATH": str(REPO)},
        stdout=(tmp_path / "agent.out").open("w"), stderr=subprocess.STDOUT, text=True)
    try:
        ready = listener.wait_for("READY=1", timeout_s=30, since=started, sender=agent)
        time.sleep(5 * WATCHDOG_S)
        until = time.monotonic()
        assert_regular(listener.pings(ready.at, until), ready.at, until)
        freeze_and_thaw(agent, listener)
        stop_cleanly(agent, listener)
    finally:
        if agent.poll() is None:
            agent.send_signal(signal.SIGCONT)
            agent.kill()
            agent.wait()
    said = (tmp_path / "agent.out").read_text()
    assert agent.returncode == 0, said[-3000:]
    assert "cannot list held jobs" in said, said[-3000:]
    texts = [m.text for m in listener.received()]
    assert texts[0] == "READY=1\nSTATUS=serving" and texts[-1] == "STOPPING=1", texts
    assert set(texts[1:-1]) == {"WATCHDOG=1"}, texts
