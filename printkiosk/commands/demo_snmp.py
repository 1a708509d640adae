"""The demo's SNMP agent: snmpsim serving a printer recording the demo writes itself.

The technician's SNMP probe needs an agent to read. The recording is written here, by
hand, in snmpsim's ``.snmprec`` format (OID|type|value, in OID order): a colour MFP
running and idle, its page counter, four toners at different levels (magenta low) and
one alert saying so. No recording from outside the repository is copied. Without
snmpsim (it comes with the dev extras, ``scripts/setup.sh``) the demo says so in one
line and runs with SNMP off.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from backend.demo_fleet import DEMO_PRINTER_PAGES, DEMO_PRINTER_TONERS

DEMO_COMMUNITY = "demo-printer"  # snmpsim: the community is the recording's name
SNMPSIM = Path(sys.executable).parent / "snmpsim-command-responder"
DEMO_PAGES = DEMO_PRINTER_PAGES  # the recording and the demo fleet's history agree


def demo_recording() -> str:
    """The demo printer as snmpsim serves it (type codes: 2 integer, 4 string,
    4x hex string, 6 OID, 65 Counter32, 67 TimeTicks)."""
    lines = [
        "1.3.6.1.2.1.1.1.0|4|printkiosk demo colour MFP (recording written by the demo)",
        "1.3.6.1.2.1.1.2.0|6|1.3.6.1.4.1.641.2",
        "1.3.6.1.2.1.1.3.0|67|4242000",
        "1.3.6.1.2.1.1.5.0|4|demo-mfp",
        "1.3.6.1.2.1.25.3.2.1.2.1|6|1.3.6.1.2.1.25.3.1.5",  # a printer
        "1.3.6.1.2.1.25.3.2.1.3.1|4|printkiosk demo colour MFP",
        "1.3.6.1.2.1.25.3.2.1.5.1|2|3",  # warning: a toner is low
        "1.3.6.1.2.1.25.3.5.1.1.1|2|3",  # idle
        "1.3.6.1.2.1.25.3.5.1.2.1|4x|20",  # lowToner
        "1.3.6.1.2.1.43.10.2.1.3.1.1|2|7",  # impressions
        f"1.3.6.1.2.1.43.10.2.1.4.1.1|65|{DEMO_PAGES}",
    ]
    columns: list[list[str]] = [[] for _ in range(7)]
    for number, (colour, level) in enumerate(DEMO_PRINTER_TONERS, start=1):
        supply = f"1.{number}"
        columns[0].append(f"1.3.6.1.2.1.43.11.1.1.3.{supply}|2|{number}")  # colorant
        columns[1].append(f"1.3.6.1.2.1.43.11.1.1.4.{supply}|2|3")  # consumed
        columns[2].append(f"1.3.6.1.2.1.43.11.1.1.5.{supply}|2|3")  # toner
        columns[3].append(f"1.3.6.1.2.1.43.11.1.1.6.{supply}|4|{colour.title()} toner")
        columns[4].append(f"1.3.6.1.2.1.43.11.1.1.7.{supply}|2|19")  # percent
        columns[5].append(f"1.3.6.1.2.1.43.11.1.1.8.{supply}|2|100")
        columns[6].append(f"1.3.6.1.2.1.43.11.1.1.9.{supply}|2|{level}")
    for column in columns:
        lines.extend(column)
    lines += [f"1.3.6.1.2.1.43.12.1.1.4.1.{n}|4|{colour}"
              for n, (colour, _level) in enumerate(DEMO_PRINTER_TONERS, start=1)]
    lines += [
        "1.3.6.1.2.1.43.18.1.1.2.1.1|2|4",  # warning
        "1.3.6.1.2.1.43.18.1.1.4.1.1|2|11",  # marker supplies
        "1.3.6.1.2.1.43.18.1.1.5.1.1|2|3",  # the magenta toner
        "1.3.6.1.2.1.43.18.1.1.7.1.1|2|1104",  # markerTonerAlmostEmpty
        "1.3.6.1.2.1.43.18.1.1.8.1.1|4|Magenta toner low",
        "1.3.6.1.2.1.43.18.1.1.9.1.1|67|4200000",
    ]
    return "\n".join(lines) + "\n"


@dataclass
class DemoSnmpAgent:
    """snmpsim on 127.0.0.1:port with the demo recording; ``close()`` stops it."""

    process: subprocess.Popen[bytes]
    port: int
    community: str = DEMO_COMMUNITY

    def printer_snmp(self) -> dict[str, object]:
        """The kiosk file's ``[printer.snmp]`` keys that point at this agent. It serves a
        recording, not the demo's virtual printer, so its page counter never moves:
        ``count_pages = false`` charges by the impressions the print server reports (with
        the counter, every demo job printed "nothing" and was free)."""
        return {"enabled": True, "host": "127.0.0.1", "port": self.port, "version": "2c",
                "community": self.community, "count_pages": False}

    def close(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def _free_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def start_demo_snmp(base: Path, timeout_s: float = 20.0) -> DemoSnmpAgent:
    """Write the recording under ``base`` and start snmpsim on a free UDP port; return
    once it has indexed the recording (it says so in its log). Raises RuntimeError."""
    data, cache = base / "data", base / "cache"
    for folder in (data, cache):
        folder.mkdir(parents=True, exist_ok=True)
    (data / f"{DEMO_COMMUNITY}.snmprec").write_text(demo_recording(), encoding="utf-8")
    port = _free_udp_port()
    log_path = base / "snmpsim.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [str(SNMPSIM), f"--data-dir={data}", f"--cache-dir={cache}",
             f"--agent-udpv4-endpoint=127.0.0.1:{port}", "--logging-method=stdout",
             "--log-level=info"],
            stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
            env={**os.environ, "SNMPSIM_ALLOW_ROOT": "true"},
        )
    agent = DemoSnmpAgent(process, port)
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"snmpsim exited with code {process.returncode} "
                               f"(see {log_path})")
        if "Listening at" in log_path.read_text(encoding="utf-8", errors="replace"):
            return agent
        time.sleep(0.1)
    agent.close()
    raise RuntimeError(f"snmpsim did not listen on 127.0.0.1:{port} within {timeout_s:g} s")


def start_demo_snmp_or_none(base: Path) -> DemoSnmpAgent | None:
    """:func:`start_demo_snmp`, or ``None`` after one clear line when it cannot start."""
    if not SNMPSIM.exists():
        print("demo: no SNMP agent for the technician's probe (snmpsim is not installed: "
              "scripts/setup.sh installs it with the dev extras)", file=sys.stderr)
        return None
    try:
        agent = start_demo_snmp(base)
    except (OSError, RuntimeError) as exc:
        print(f"demo: no SNMP agent ({exc})", file=sys.stderr)
        return None
    print(f"demo: SNMP agent (snmpsim) for the demo printer at 127.0.0.1:{agent.port}, "
          f"community {agent.community}", file=sys.stderr)
    return agent
