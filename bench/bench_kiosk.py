"""Kiosk benchmark: badge-to-screen latency, cold start, and memory over many sessions.

    xvfb-run -a .venv/bin/python bench/bench_kiosk.py [--sessions 100] [--cold-runs 5]

What it measures on this machine, with the real parts (no fakes anywhere):

* badge -> home screen latency, p50/p95: the real :class:`kiosk.app.KioskApp` in a real
  window (Xvfb), the real ``printkiosk backend --demo-data`` process on SQLite, and, for
  the job list, a real ``cupsd`` + ``ippeveprinter`` (the CUPS tests' ``PeerStack``)
  holding a few corpus documents for the demo user. A card goes in through the
  simulated reader (``app.terminal.typed_card``); the clock (``time.perf_counter``) runs
  from that call to the first frame flipped to the screen that shows the user's name
  (and, with CUPS, every held job with its price). Frames are detected with the
  window's ``on_flip`` event: Kivy updates label textures and layouts in
  ``Clock.tick_draw`` before drawing, so a state set in a Clock callback is on screen
  in the frame whose flip follows it. Kivy's default 60 fps cap is kept: a kiosk runs
  with it, so the up-to-one-frame wait is part of what a user sees.
* the peer figure beside it: the same badge round trip at the HTTP level alone
  (``POST /api/v1/sessions`` with ``requests``, keep-alive like the kiosk's client), so
  the UI's share is the difference; and the kiosk's own client (``HttpBackend``) alone,
  and the moment the identity reaches the terminal core (a session listener on the
  worker thread), to say where between the wire and the screen the time goes.
* kiosk cold start: from just before the kiosk process is spawned to the first frame
  of the idle screen (Python start, imports, window, terminal wiring), several runs.
  Both ends read ``CLOCK_MONOTONIC`` (``time.monotonic``), which is system-wide.
* resident memory (``VmRSS`` from ``/proc/self/status``) every 10 badge -> home ->
  logout sessions in one kiosk process: the growth per session from 10 to N and from
  N/2 to N (past the warm-up: first analyses, Kivy's texture and font caches).

The backend is the demo's (``start_demo_backend``'s configuration and ``--demo-data``)
except for its login rate: this bench badges the same card in tight loops from the one
demo terminal (hundreds of round trips, then every kiosk session), far faster than
people at a kiosk, so the backend allows that rate (see ``BADGE_LOOP_LOGINS``); at the
demo's rate the loops would be refused 429 ``rate_limited`` and the figures would be
refusals'. Every badge must identify carol: a refusal fails the run. The job listing
without UI badges carol first, as the kiosk does, so her price list comes from the
backend with her session (without it the backend refuses and the kiosk prices with its
local list: another path). Any answer of the backend that is not a success during the
run is listed under the report.

Every kiosk runs in its own process (Kivy allows one window per process); this script
re-runs itself with ``--child``. Everything started is stopped in ``finally`` blocks,
also on Ctrl-C or SIGTERM, and a child that hangs is killed with its process group.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
CORPUS_JOBS = REPO.parent / "shared" / "corpus" / "jobs"
sys.path.insert(0, str(REPO))

CARD, USERNAME, DISPLAY_NAME = "1003", "carol", "Carol Staff"  # a demo user (backend.demo)
HELD_DOCUMENTS = ("cups__document-a4.pdf", "cups__onepage-letter.pdf",
                  "pypdf__two-different-pages.pdf")
QUEUE = "kiosk"
RESULT_PREFIX = "BENCH-RESULT "
CHILD_TIMEOUT_S = 90.0
# The bench's badge loops (--http-rounds twice, then two kiosks' --sessions) log in from
# the one demo terminal far faster than people badge at a kiosk; at the demo backend's
# rate (600/min, burst 100) they would be refused 429 rate_limited part-way, and a
# refusal is not a login latency. So the bench's backend allows the loops' rate.
BADGE_LOOP_LOGINS = (10_000, 10_000)  # logins per minute, burst


# --- shared helpers ----------------------------------------------------------------------


def rss_kib() -> int:
    """This process's resident set size in KiB, as the kernel reports it."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError("no VmRSS line in /proc/self/status")


def percentile(samples: list[float], fraction: float) -> float:
    """Nearest-rank percentile: an observed value, no interpolation between runs."""
    ordered = sorted(samples)
    rank = max(1, -(-int(fraction * 1000) * len(ordered) // 1000))
    return ordered[min(rank, len(ordered)) - 1]


# --- the kiosk child (one window per process) ----------------------------------------------


def kiosk_config(spec: dict[str, Any]) -> Any:
    """config/kiosk-mfp.toml as tests/ui/drive_release.py adapts it: our backend, the
    simulated reader, our cupsd queue and price list (or no queue at all), no SNMP."""
    import tomllib

    from terminal.config import parse_kiosk_config

    data = tomllib.loads((REPO / "config" / "kiosk-mfp.toml").read_text(encoding="utf-8"))
    data["backend"]["url"] = spec["backend_url"]
    data["card_reader"] = {"type": "simulated", "debounce_s": 0.0}
    data["printer"]["snmp"] = {"enabled": False}
    data["offline"]["state_dir"] = spec["state_dir"]
    if spec.get("cups_port"):
        data["printer"].update(queue=QUEUE, cups_server="127.0.0.1",
                               cups_port=spec["cups_port"], cups_spool_dir=spec["cups_spool"])
        data["printer"].pop("hold_queue", None)
        data["pricing"] = {
            "price_list": str(REPO / "config" / "pricelists" / "campus-default.toml")
        }
    else:  # no print queue: the home screen shows name and balances only
        data["printer"].pop("queue", None)
        data["printer"].pop("hold_queue", None)
    return parse_kiosk_config(data, "kiosk-mfp.toml (bench)")


def build_app(spec: dict[str, Any]) -> Any:
    """The kiosk app as the UI tests build it, in a 1024x600 window."""
    from kivy.config import Config

    Config.set("graphics", "width", "1024")
    Config.set("graphics", "height", "600")
    from backend.demo import DEMO_TERMINAL_TOKEN
    from kiosk.app import KioskApp
    from printkiosk.commands.demo import demo_cards
    from terminal.wiring import build_terminal

    cards = demo_cards()
    return KioskApp(build_terminal(kiosk_config(spec), DEMO_TERMINAL_TOKEN, demo_cards=cards))


def run_frames(app: Any, on_frame: Callable[[], bool], timeout_s: float) -> str | None:
    """Run the app, calling ``on_frame`` after every flipped frame until it returns True.

    Returns None on success, else what went wrong (an exception's text or a timeout).
    """
    from kivy.base import EventLoop
    from kivy.clock import Clock
    from kivy.core.window import Window

    outcome: dict[str, str | None] = {"error": "the app stopped before the scenario ended"}
    started = time.monotonic()

    def flipped(*_args: Any) -> None:
        if outcome.get("done"):
            return
        try:
            if on_frame():
                outcome.update(error=None, done="yes")
                Clock.schedule_once(lambda _dt: app.stop())
            elif time.monotonic() - started > timeout_s:
                raise TimeoutError(f"scenario not finished within {timeout_s:g} s")
        except Exception as exc:  # reported to the parent, which fails
            outcome.update(error=f"{type(exc).__name__}: {exc}", done="yes")
            Clock.schedule_once(lambda _dt: app.stop())

    def watchdog(_dt: float) -> None:  # frames stop when nothing changes: check anyway
        if not outcome.get("done") and time.monotonic() - started > timeout_s:
            outcome.update(error=f"no frame ended the scenario within {timeout_s:g} s",
                           done="yes")
            app.stop()

    Window.bind(on_flip=flipped)
    Clock.schedule_interval(watchdog, 1.0)
    app.run()
    EventLoop.close()
    return outcome["error"]


def child_cold_start(spec: dict[str, Any]) -> dict[str, Any]:
    """Report when the first frame of the idle screen was flipped (CLOCK_MONOTONIC)."""
    app = build_app(spec)

    def idle_drawn() -> bool:
        return app.manager.current == "idle" and bool(app.idle.heading.text)

    seen: dict[str, float] = {}

    def on_frame() -> bool:
        if idle_drawn():
            seen["idle_at"] = time.monotonic()
            seen["rss_kib"] = rss_kib()
            return True
        return False

    error = run_frames(app, on_frame, timeout_s=60)
    if error:
        raise RuntimeError(error)
    return seen


def child_sessions(spec: dict[str, Any]) -> dict[str, Any]:
    """badge -> home (name, then job list) -> logout -> idle, ``spec['sessions']`` times.

    The next card is presented from a Clock callback once the idle screen is on screen
    again, so each session starts from the state a user walking up would find.
    """
    from harness import tap
    from kivy.clock import Clock
    from kivy.uix.button import Button

    Button.min_state_time = 0
    app = build_app(spec)
    sessions: int = spec["sessions"]
    expected_jobs: int | None = spec.get("expected_jobs")
    rss_every: int = spec["rss_every"]
    result: dict[str, Any] = {"core_ms": [], "name_ms": [], "jobs_ms": [], "logout_ms": [],
                              "rss_kib": {}}
    state: dict[str, Any] = {"phase": "start", "done": 0, "t0": 0.0}

    def identified(view: Any) -> None:
        """On the worker thread, when the terminal core has the identity (before any UI)."""
        if view.identity is not None and state["phase"] == "badge" and "core" not in state:
            state["core"] = (time.perf_counter() - state["t0"]) * 1000

    app.terminal.session.subscribe(identified)

    def home_text() -> str:
        return " ".join(str(getattr(w, "text", "")) for w in app.home.walk(restrict=True))

    def name_shown() -> bool:
        return app.manager.current == "home" and DISPLAY_NAME in app.home.greeting.text

    def jobs_shown() -> bool:
        panel = app.home.jobs
        return (panel is not None and panel.jobs is not None
                and len(panel.jobs.jobs) == expected_jobs
                and len(panel.rows.children) == expected_jobs and bool(panel.total.text))

    def idle_again() -> bool:
        return (app.manager.current == "idle" and not app.home.greeting.text
                and DISPLAY_NAME not in home_text())

    def present(_dt: float) -> None:
        state.pop("core", None)
        state["phase"] = "badge"
        state["t0"] = time.perf_counter()
        app.terminal.typed_card(CARD)

    def logout(_dt: float) -> None:
        state["phase"] = "logout"
        state["t0"] = time.perf_counter()
        tap(app.home.logout_button)

    def on_frame() -> bool:
        now = time.perf_counter()
        phase = state["phase"]
        if phase == "start" and app.manager.current == "idle":
            result["rss_kib"]["0"] = rss_kib()
            state["phase"] = "scheduled"
            Clock.schedule_once(present)
        elif phase == "badge" and name_shown():
            result["name_ms"].append((now - state["t0"]) * 1000)
            result["core_ms"].append(state.get("core", float("nan")))
            state["phase"] = "jobs" if expected_jobs is not None else "home"
        if state["phase"] == "jobs" and jobs_shown():
            result["jobs_ms"].append((now - state["t0"]) * 1000)
            state["phase"] = "home"
        if state["phase"] == "home":
            state["phase"] = "scheduled"
            Clock.schedule_once(logout)
        elif phase == "logout" and idle_again():
            result["logout_ms"].append((now - state["t0"]) * 1000)
            state["done"] += 1
            if state["done"] % rss_every == 0:
                result["rss_kib"][str(state["done"])] = rss_kib()
            if state["done"] == sessions:
                return True
            state["phase"] = "scheduled"
            Clock.schedule_once(present)
        return False

    error = run_frames(app, on_frame, timeout_s=spec["timeout_s"])
    if error:
        raise RuntimeError(f"{error} (phase {state['phase']}, {state['done']} sessions done)")
    return result


def child_main(mode: str, spec_json: str) -> int:
    started = time.monotonic()
    spec = json.loads(spec_json)
    # the UI tests' harness sets Kivy's environment (no argv parsing, no log file, no
    # config file); it must come before the first Kivy import
    sys.path.insert(0, str(REPO / "tests" / "ui"))
    import harness  # noqa: F401
    figures = child_cold_start(spec) if mode == "cold" else child_sessions(spec)
    figures["child_started_at"] = started
    print(RESULT_PREFIX + json.dumps(figures), flush=True)
    return 0


# --- the orchestrator ----------------------------------------------------------------------


def run_child(mode: str, spec: dict[str, Any], timeout_s: float) -> dict[str, Any]:
    """Run one kiosk process; kill its whole process group if it hangs or we are stopped."""
    argv = [sys.executable, str(Path(__file__).resolve()), "--child", mode, json.dumps(spec)]
    spawned_at = time.monotonic()
    process = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               cwd=REPO, start_new_session=True)
    try:
        out, err = process.communicate(timeout=timeout_s)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.communicate()
    lines = [line for line in out.splitlines() if line.startswith(RESULT_PREFIX)]
    if process.returncode != 0 or not lines:
        raise RuntimeError(f"kiosk child ({mode}) exited {process.returncode}:\n{err[-3000:]}")
    figures: dict[str, Any] = json.loads(lines[-1][len(RESULT_PREFIX):])
    figures["spawned_at"] = spawned_at
    return figures


@contextmanager
def output_to(log: Path) -> Iterator[None]:
    """Point this process's stdout/stderr at ``log`` while children are spawned, so the
    backend's access log (one line per request) goes there instead of over the table."""
    sys.stdout.flush()
    sys.stderr.flush()
    saved = [os.dup(1), os.dup(2)]
    with log.open("ab") as target:
        os.dup2(target.fileno(), 1)
        os.dup2(target.fileno(), 2)
    try:
        yield
    finally:
        os.dup2(saved[0], 1)
        os.dup2(saved[1], 2)
        for fd in saved:
            os.close(fd)


def backend_refusals(log: Path) -> tuple[int, list[str]]:
    """How many answers the backend's access log has, and those that were not a success,
    counted by request and status (uvicorn: ``"POST /api/v1/sessions HTTP/1.1" 429``)."""
    import re

    counts: dict[str, int] = {}
    seen = 0
    for line in log.read_text(errors="replace").splitlines():
        found = re.search(r'"([A-Z]+) (\S+) HTTP/[\d.]+" (\d{3})', line)
        seen += found is not None
        if found and not found.group(3).startswith(("2", "3")):
            path = re.sub(r"/[0-9a-f]{16,}|\?.*", "/…", found.group(2))
            key = f"{found.group(1)} {path} {found.group(3)}"
            counts[key] = counts.get(key, 0) + 1
    return seen, [f"{n:>5} x {key}" for key, n in sorted(counts.items())]


@contextmanager
def demo_backend(workdir: Path) -> Iterator[str]:
    from printkiosk.commands.demo import free_port, start_demo_backend, stop_demo_backend

    port = free_port()
    log = workdir / "backend.log"
    try:
        with output_to(log):
            process = start_demo_backend(port, workdir, login_rate=BADGE_LOOP_LOGINS)
    except Exception:
        print(log.read_text(errors="replace")[-3000:], file=sys.stderr)
        raise
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        stop_demo_backend(process)


@contextmanager
def cups_with_held_jobs() -> Iterator[Any]:
    """cupsd + ippeveprinter from the CUPS tests, with HELD_DOCUMENTS held for USERNAME."""
    sys.path.insert(0, str(REPO / "tests" / "drivers" / "cups"))
    from cups_peers import PeerStack, missing_tools, submit

    missing = missing_tools()
    if missing:
        raise RuntimeError(f"CUPS peers missing: {', '.join(missing)}")
    base = Path(tempfile.mkdtemp(prefix="bench-kiosk-cups-"))
    stack = PeerStack(base)
    try:
        stack.start()
        stack.lpadmin("-p", QUEUE, "-E", "-v", stack.printer_uri, "-m", "everywhere")
        for name in HELD_DOCUMENTS:
            submit(stack, QUEUE, USERNAME, CORPUS_JOBS / name, name, "print-color-mode=color")
        yield stack
    finally:
        stack.close()
        shutil.rmtree(base, ignore_errors=True)


def http_badge_ms(backend_url: str, rounds: int) -> list[float]:
    """The peer figure: POST /api/v1/sessions for the same card with requests, keep-alive."""
    import requests

    from backend.demo import DEMO_TERMINAL_TOKEN

    samples: list[float] = []
    with requests.Session() as http:
        http.headers.update({"Authorization": f"Bearer {DEMO_TERMINAL_TOKEN}",
                             "Accept": "application/json"})
        url = f"{backend_url}/api/v1/sessions"
        for round_no in range(rounds + 5):
            started = time.perf_counter()
            response = http.post(url, json={"card": CARD}, timeout=10)
            elapsed = (time.perf_counter() - started) * 1000
            response.raise_for_status()
            if response.json()["user"]["display_name"] != DISPLAY_NAME:
                raise RuntimeError(f"unexpected identity: {response.text[:200]}")
            if round_no >= 5:  # the first requests open the connection and warm the server
                samples.append(elapsed)
    return samples


def client_badge_ms(backend_url: str, rounds: int) -> list[float]:
    """The kiosk's own backend client (identify_card), without any UI around it."""
    from backend.demo import DEMO_TERMINAL_TOKEN
    from terminal.backend_client import HttpBackend

    client = HttpBackend(backend_url, DEMO_TERMINAL_TOKEN)
    samples: list[float] = []
    try:
        for round_no in range(rounds + 5):
            started = time.perf_counter()
            identity = client.identify_card(CARD)
            if round_no >= 5:
                samples.append((time.perf_counter() - started) * 1000)
            if identity.display_name != DISPLAY_NAME:
                raise RuntimeError(f"unexpected identity: {identity}")
    finally:
        client.close()
    return samples


def cups_listing_ms(cups_port: int, spool: str, rounds: int) -> tuple[list[float], list[float]]:
    """The held-jobs question alone: pycups Get-Jobs (the peer), then the kiosk's adapter.

    pycups is CUPS's own C client library behind Python: the floor for asking cupsd.
    The kiosk's ``CupsHoldQueue.held_jobs`` is what the job list starts with, before
    analysis (cached after the first badge), pricing and drawing.
    """
    import cups

    from drivers.cups import CupsHoldQueue

    connection = cups.Connection(host="127.0.0.1", port=cups_port)
    queue = CupsHoldQueue(QUEUE, server="127.0.0.1", port=cups_port, spool_dir=Path(spool))
    peer: list[float] = []
    ours: list[float] = []
    for round_no in range(rounds + 5):
        started = time.perf_counter()
        jobs = connection.getJobs(which_jobs="not-completed", requested_attributes=[
            "job-id", "job-name", "job-originating-user-name", "job-state",
            "job-hold-until", "job-printer-uri", "time-at-creation"])
        mine = [job for job in jobs.values()
                if job.get("job-originating-user-name") == USERNAME]
        middle = time.perf_counter()
        held = queue.held_jobs(USERNAME)
        ended = time.perf_counter()
        if len(mine) != len(HELD_DOCUMENTS) or len(held) != len(HELD_DOCUMENTS):
            raise RuntimeError(f"expected {len(HELD_DOCUMENTS)} held jobs: pycups {len(mine)},"
                               f" adapter {len(held)}")
        if round_no >= 5:
            peer.append((middle - started) * 1000)
            ours.append((ended - middle) * 1000)
    return peer, ours


def core_listing_ms(spec: dict[str, Any], rounds: int) -> tuple[float, list[float]]:
    """The kiosk's job listing (``JobService.list_jobs``) without the UI: the first call
    (documents analysed in child processes) and then warm calls (analyses cached)."""
    from backend.demo import DEMO_TERMINAL_TOKEN
    from terminal.wiring import build_terminal

    terminal = build_terminal(kiosk_config(spec), DEMO_TERMINAL_TOKEN)
    try:
        assert terminal.jobs is not None, "the bench's kiosk config has a queue and prices"
        # carol badges first, as at the kiosk: her session fetches her price list (with
        # none the backend refuses, 401, and the listing would use the local list)
        terminal.backend.identify_card(CARD)
        terminal.backend.user_price_list(USERNAME)  # raises if the backend refuses it
        samples: list[float] = []
        for _ in range(rounds + 1):
            started = time.perf_counter()
            listed = terminal.jobs.list_jobs(USERNAME)
            samples.append((time.perf_counter() - started) * 1000)
            if len(listed.jobs) != len(HELD_DOCUMENTS):
                raise RuntimeError(f"expected {len(HELD_DOCUMENTS)} jobs: {listed}")
    finally:
        terminal.close()
    return samples[0], samples[1:]


def stats_row(label: str, samples: list[float]) -> str:
    return (f"{label:<46} {len(samples):>4} {percentile(samples, 0.50):>9.1f} "
            f"{percentile(samples, 0.95):>9.1f} {max(samples):>9.1f}")


def interrupted(_signum: int, _frame: object) -> None:
    raise KeyboardInterrupt


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sessions", type=int, default=100,
                        help="badge->home->logout sessions per kiosk process (>= 10)")
    parser.add_argument("--cold-runs", type=int, default=5, help="kiosk cold starts")
    parser.add_argument("--http-rounds", type=int, default=200, help="HTTP-only badge rounds")
    args = parser.parse_args(argv)
    if args.sessions < 20 or args.sessions % 10:
        parser.error("--sessions must be a multiple of 10, at least 20 "
                     "(memory is read every 10 sessions)")
    if not os.environ.get("DISPLAY"):
        parser.error("no X display: run it as  xvfb-run -a .venv/bin/python bench/bench_kiosk.py")
    if not CORPUS_JOBS.exists():
        parser.error(f"the shared corpus is absent: {CORPUS_JOBS}")
    # SIGTERM (timeout, CI) unwinds like Ctrl-C, so every finally below runs
    signal.signal(signal.SIGTERM, interrupted)

    began = time.monotonic()
    with ExitStack() as stack:
        work = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="bench-kiosk-")))
        (work / "backend").mkdir()
        backend_url = stack.enter_context(demo_backend(work / "backend"))
        print(f"backend  {backend_url}  (printkiosk backend --demo-data, SQLite)", flush=True)
        cups = stack.enter_context(cups_with_held_jobs())
        print(f"cups     127.0.0.1:{cups.cups_port}  ({len(HELD_DOCUMENTS)} jobs held for "
              f"{USERNAME})", flush=True)

        http = http_badge_ms(backend_url, args.http_rounds)
        client = client_badge_ms(backend_url, args.http_rounds)
        listing = cups_listing_ms(cups.cups_port, str(cups.spool), args.http_rounds)
        print("cups     held-job listing rounds done", flush=True)
        print(f"http     {len(http)} badge round trips done", flush=True)

        base_spec = {"backend_url": backend_url, "cups_port": cups.cups_port,
                     "cups_spool": str(cups.spool)}
        core = core_listing_ms({**base_spec, "state_dir": str(work / "core-state")},
                               args.http_rounds // 4)
        cold: list[dict[str, Any]] = []
        for run in range(args.cold_runs):
            spec = {**base_spec, "state_dir": str(work / "cold-state")}
            cold.append(run_child("cold", spec, timeout_s=CHILD_TIMEOUT_S))
            print(f"cold     run {run + 1}/{args.cold_runs} done", flush=True)

        scenario_s = 30 + 2.0 * args.sessions  # a safety net on a loaded box, not a target
        plain = run_child("sessions", {
            "backend_url": backend_url, "state_dir": str(work / "plain-state"),
            "sessions": args.sessions, "rss_every": 10, "timeout_s": scenario_s,
        }, timeout_s=scenario_s + CHILD_TIMEOUT_S)
        print(f"kiosk    {args.sessions} sessions without a print queue done", flush=True)
        full = run_child("sessions", {
            **base_spec, "state_dir": str(work / "full-state"), "sessions": args.sessions,
            "expected_jobs": len(HELD_DOCUMENTS), "rss_every": 10, "timeout_s": scenario_s,
        }, timeout_s=scenario_s + CHILD_TIMEOUT_S)
        print(f"kiosk    {args.sessions} sessions with CUPS done", flush=True)

        answers, refusals = backend_refusals(work / "backend" / "backend.log")

    report(args, http, client, listing, core, cold, plain, full, time.monotonic() - began)
    print()
    print(f"backend answers that were not a success, of {answers} in its access log:")
    print("\n".join(refusals) if refusals else "  none")
    return 0


def report(args: argparse.Namespace, http: list[float], client: list[float],
           listing: tuple[list[float], list[float]], core: tuple[float, list[float]],
           cold: list[dict[str, Any]],
           plain: dict[str, Any], full: dict[str, Any], wall_s: float) -> None:
    n = args.sessions
    print()
    print(f"printkiosk kiosk benchmark — {os.cpu_count()} CPUs, window 1024x600 on Xvfb, "
          f"demo user {DISPLAY_NAME} (card {CARD})")
    print()
    print(f"{'badge latency (ms)':<46} {'n':>4} {'p50':>9} {'p95':>9} {'max':>9}")
    print("-" * 82)
    print(stats_row("peer: HTTP POST /api/v1/sessions (requests)", http))
    print(stats_row("terminal client identify_card, no UI", client))
    print(stats_row("peer: CUPS Get-Jobs (pycups)", listing[0]))
    print(stats_row("kiosk CUPS adapter held_jobs, no UI", listing[1]))
    print(stats_row("kiosk job listing (list_jobs), no UI", core[1]))
    print(f"{'  first listing (documents analysed)':<46} {1:>4} {core[0]:>9.1f}")
    for label, run in (("backend only", plain), ("backend + CUPS", full)):
        print(f"kiosk, {label}:")
        print(stats_row("  identity in the terminal core (worker)", run["core_ms"][1:]))
        print(stats_row("  name and balances on screen", run["name_ms"][1:]))
        if run["jobs_ms"]:
            print(stats_row(f"  {len(HELD_DOCUMENTS)} held jobs with prices on screen",
                            run["jobs_ms"][1:]))
            print(f"{'    first badge (documents analysed)':<46} {1:>4} "
                  f"{run['jobs_ms'][0]:>9.1f}")
        print(stats_row("  logout tap -> idle screen", run["logout_ms"]))
    print()
    starts = [(r["idle_at"] - r["spawned_at"]) * 1000 for r in cold]
    imports = [(r["idle_at"] - r["child_started_at"]) * 1000 for r in cold]
    print(f"{'cold start to idle screen (ms)':<46} {'runs':>4} {'median':>9} {'min':>9} "
          f"{'max':>9}")
    print("-" * 82)
    print(f"{'process spawn -> first idle frame':<46} {len(starts):>4} "
          f"{statistics.median(starts):>9.0f} {min(starts):>9.0f} {max(starts):>9.0f}")
    print(f"{'  from the first line of the child script':<46} {len(imports):>4} "
          f"{statistics.median(imports):>9.0f} {min(imports):>9.0f} {max(imports):>9.0f}")
    print()
    half = (n // 20) * 10  # a multiple of 10 near the middle: past the warm-up
    print(f"{'resident memory (VmRSS, MiB)':<30} {'idle':>7} {'@10':>7} {f'@{half}':>7} "
          f"{f'@{n}':>7} {f'KiB/s 10-{n}':>11} {f'KiB/s {half}-{n}':>12}")
    print("-" * 82)
    for label, run in (("kiosk, backend only", plain), ("kiosk, backend + CUPS", full)):
        rss = {int(k): v for k, v in run["rss_kib"].items()}
        print(f"{label:<30} {rss[0] / 1024:>7.1f} {rss[10] / 1024:>7.1f} "
              f"{rss[half] / 1024:>7.1f} {rss[n] / 1024:>7.1f} "
              f"{(rss[n] - rss[10]) / (n - 10):>11.1f} {(rss[n] - rss[half]) / (n - half):>12.1f}")
        curve = " ".join(f"{k}:{v / 1024:.1f}" for k, v in sorted(rss.items()))
        print(f"  MiB after sessions  {curve}")
    print()
    print(f"whole run: {wall_s:.0f} s")


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "--child":
        sys.exit(child_main(sys.argv[2], sys.argv[3]))
    try:
        sys.exit(main(sys.argv[1:]))
    except KeyboardInterrupt:
        print("interrupted: everything started was stopped", file=sys.stderr)
        sys.exit(130)
