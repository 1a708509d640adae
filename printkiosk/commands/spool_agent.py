"""Run the spool agent on the print-server host: analyse held jobs, report to the backend.

  printkiosk spool-agent --config /etc/printkiosk/spool-agent.toml
  printkiosk spool-agent --config spool-agent.toml --once    # one pass, then exit

For kiosks that do not share a host with CUPS: the agent reads each new held job's spool
file, analyses it (pages, colour, paper size) and reports it once to the backend, where
kiosks read it by the job's uuid. The token comes from PRINTKIOSK_SPOOL_AGENT_TOKEN or
the configured 0600 token file (enrol the agent like a terminal).

Exit status: 0 stopped cleanly (SIGTERM / Ctrl-C) or --once done, 2 bad configuration,
3 --once and the pass could not reach CUPS or the backend.

Under systemd (printkiosk-spool-agent.service, Type=notify) it says READY=1 once built
and pings the watchdog while it waits between passes: a pass stuck for longer than
WatchdogSec (a hung CUPS or backend call past its timeouts) gets the agent restarted.
"""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading
from pathlib import Path

from printkiosk.systemd_notify import Watchdog

EXIT_OK = 0
EXIT_CONFIG = 2
EXIT_UNREACHABLE = 3


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", type=Path, required=True, help="spool agent TOML file")
    parser.add_argument("--once", action="store_true",
                        help="run one pass (list, analyse, report) and exit")


def run(args: argparse.Namespace) -> int:
    from terminal.config import ConfigError
    from terminal.spool_agent import agent_token, load_spool_agent_config
    from terminal.wiring import build_spool_agent

    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    try:
        config = load_spool_agent_config(args.config)
        agent = build_spool_agent(config, agent_token(config, args.config.name))
    except ConfigError as exc:
        for problem in exc.problems:
            print(problem, file=sys.stderr)
        return EXIT_CONFIG
    try:
        if args.once:
            result = agent.run_once()
            print(f"analysed {result.analysed}, reported {result.reported}, "
                  f"refused {result.refused}, waiting {result.pending}")
            return EXIT_UNREACHABLE if result.pending or result.queue_error else EXIT_OK
        watchdog = Watchdog()
        watchdog.beat()
        stop = BeatingEvent(watchdog)

        def on_sigterm(_signum: int, _frame: object) -> None:
            watchdog.stopping()  # now, not once the current pass has ended
            stop.set()

        signal.signal(signal.SIGTERM, on_sigterm)
        try:
            agent.run_until(stop, config.spool_agent.poll_interval_s)
        except KeyboardInterrupt:
            stop.set()
        watchdog.stopping()
        return EXIT_OK
    finally:
        agent.close()


class BeatingEvent(threading.Event):
    """The agent's stop event: its loop waits on it between passes, so the wait is where
    the loop beats (in slices no longer than the watchdog's interval)."""

    def __init__(self, watchdog: Watchdog) -> None:
        super().__init__()
        self._watchdog = watchdog

    def wait(self, timeout: float | None = None) -> bool:
        step = self._watchdog.interval_s()
        if step is None or timeout is None:
            return super().wait(timeout)
        remaining = timeout
        while remaining > 0:
            self._watchdog.beat()
            if super().wait(min(step, remaining)):
                return True
            remaining -= step
        self._watchdog.beat()
        return self.is_set()
