"""Time to poll one printer (counters + supplies + status) with SnmpPrinterMonitor, and
net-snmp's ``snmpbulkwalk`` / ``snmpwalk`` of the same subtrees, in the same run, against
the same snmpsim agent serving the same corpus recording.

    .venv/bin/python bench/bench_snmp.py [--recording sharp] [--runs 21]

Figures are medians of ``--runs`` polls. "ours, warm" reuses one monitor (its SNMP engine
is built once, as in the kiosk, which polls the same printer every few seconds); "ours,
cold" is ``poll_printer()`` from scratch each time (engine set-up included, as the CLI
does). net-snmp runs one process per subtree, one after the other, as a shell script
would: a GET of sysDescr/sysObjectID (and the vendor counters), then a walk of each
Printer-MIB / Host-Resources subtree the monitor walks.
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from drivers.snmp import (  # noqa: E402
    CommunityAuth,
    SnmpPrinterMonitor,
    SnmpTarget,
    poll_printer,
)
from drivers.snmp.oids import (  # noqa: E402
    HR_DEVICE_DESCR,
    POLLED_SUBTREES,
    PRT_GENERAL_SERIAL_NUMBER,
    SYS_DESCR,
    SYS_OBJECT_ID,
    dotted,
)
from drivers.snmp.vendors import VENDOR_COUNTERS  # noqa: E402
from tests.drivers.snmp.snmpsim_peer import (  # noqa: E402
    corpus_recordings,
    free_udp_port,
    start_snmpsim,
    stop,
)


def median_ms(samples: list[float]) -> str:
    return f"{statistics.median(samples) * 1000:8.1f} ms"


def ours_warm(target: SnmpTarget, runs: int) -> tuple[list[float], int]:
    async def polls() -> tuple[list[float], int]:
        times = []
        async with SnmpPrinterMonitor(target) as monitor:
            first = await monitor.poll()  # builds the engine; not timed
            assert first.reachable, first.reason
            for _ in range(runs):
                started = time.perf_counter()
                result = await monitor.poll()
                times.append(time.perf_counter() - started)
                assert result.reachable, result.reason
        return times, len(first.supplies)

    return asyncio.run(polls())


def ours_cold(target: SnmpTarget, runs: int) -> list[float]:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        result = poll_printer(target)
        times.append(time.perf_counter() - started)
        assert result.reachable, result.reason
    return times


def net_snmp(tool: str, address: str, community: str, vendor: str | None,
             runs: int) -> tuple[list[float], int]:
    gets = [dotted(SYS_DESCR), dotted(SYS_OBJECT_ID), f"{dotted(HR_DEVICE_DESCR)}.1",
            f"{dotted(PRT_GENERAL_SERIAL_NUMBER)}.1",
            *(dotted(c.oid) for c in VENDOR_COUNTERS.get(vendor or "", ()))]
    walk_options = ["-Cr40"] if tool == "snmpbulkwalk" else []
    commands = [["snmpget", "-v2c", "-c", community, "-On", "-Oq", address, *gets]]
    commands += [[tool, "-v2c", "-c", community, "-On", "-Oq", *walk_options, address,
                  dotted(subtree)] for subtree in POLLED_SUBTREES]
    times, lines = [], 0
    for _ in range(runs):
        started = time.perf_counter()
        outputs = [subprocess.run(command, capture_output=True, text=True, check=False).stdout
                   for command in commands]
        times.append(time.perf_counter() - started)
        lines = sum(1 for out in outputs for line in out.splitlines()
                    if line.startswith(".") and "No Such" not in line)
    return times, lines


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--recording", default="sharp", choices=corpus_recordings())
    parser.add_argument("--runs", type=int, default=21)
    args = parser.parse_args()
    for tool in ("snmpget", "snmpwalk", "snmpbulkwalk"):
        if shutil.which(tool) is None:
            print(f"net-snmp's {tool} is not installed (Debian package snmp)", file=sys.stderr)
            return 1
    port = free_udp_port()
    with tempfile.TemporaryDirectory(prefix="bench-snmp-") as root:
        agent = start_snmpsim(Path(root), port)
        try:
            target = SnmpTarget("127.0.0.1", port, CommunityAuth(args.recording), timeout_s=5)
            warm, supplies = ours_warm(target, args.runs)
            cold = ours_cold(target, args.runs)
            vendor_result = poll_printer(target)
            vendor = vendor_result.identity.vendor if vendor_result.identity else None
            address = f"127.0.0.1:{port}"
            bulk, bulk_values = net_snmp("snmpbulkwalk", address, args.recording, vendor,
                                         args.runs)
            walk, walk_values = net_snmp("snmpwalk", address, args.recording, vendor,
                                         args.runs)
        finally:
            stop(agent)
    print(f"recording {args.recording} (vendor {vendor}, {supplies} supplies), "
          f"snmpsim on {address}, median of {args.runs} polls, SNMP v2c")
    print(f"  ours, warm (SnmpPrinterMonitor.poll)      {median_ms(warm)}")
    print(f"  ours, cold (poll_printer, engine set-up)  {median_ms(cold)}")
    print(f"  net-snmp snmpget + snmpbulkwalk x{len(POLLED_SUBTREES)}      {median_ms(bulk)}"
          f"   ({bulk_values} values)")
    print(f"  net-snmp snmpget + snmpwalk x{len(POLLED_SUBTREES)}          {median_ms(walk)}"
          f"   ({walk_values} values)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
