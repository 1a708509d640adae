"""The real CUPS peers for the tests: the product's sandbox under the tests' old names.

The machinery (private D-Bus, Avahi in namespaces, ippeveprinter, a private cupsd on free
loopback ports) lives in :mod:`drivers.cups.sandbox`, which the demo uses too. This module
keeps the names the tests and bench/ import, plus the helpers only tests need.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from drivers.cups.sandbox import CupsSandbox as PeerStack
from drivers.cups.sandbox import free_port
from drivers.cups.sandbox import sandbox_tools_missing as missing_tools

# the queues the session fixture creates (here, not in conftest.py: several conftest
# modules exist in this suite, and "from conftest import" could find another one)
KIOSK = "kiosk"
FOLLOW_ME = "followme"
PAUSED_FOLLOW_ME = "followme-paused"

# the old free functions, now the sandbox's methods: submit(stack, queue, user, ...)
submit = PeerStack.submit
add_queue = PeerStack.add_queue

__all__ = [
    "FOLLOW_ME",
    "KIOSK",
    "PAUSED_FOLLOW_ME",
    "PeerStack",
    "add_queue",
    "free_port",
    "missing_tools",
    "printer_jobs",
    "running_queue",
    "set_state_reasons",
    "submit",
]


@contextmanager
def running_queue(queue: str, prefix: str) -> Iterator[PeerStack]:
    """cupsd with ``queue`` printing to ippeveprinter, for a test module's fixture.

    Not under pytest's temp dir: that is 0700, and CUPS filters run as ``lp`` must reach
    the spooled documents (pdftopdf then fails with a bare status 1). Skips the test when
    the peers are not installed.
    """
    if missing_tools():
        pytest.skip(f"CUPS peers missing: {', '.join(missing_tools())}")
    base = Path(tempfile.mkdtemp(prefix=prefix))
    stack = PeerStack(base)
    try:
        stack.start()
        stack.lpadmin("-p", queue, "-E", "-v", stack.printer_uri, "-m", "everywhere")
        yield stack
    finally:
        stack.close()
        shutil.rmtree(base, ignore_errors=True)


# -- helpers the tests use on a started stack --------------------------------------------


def set_state_reasons(stack: PeerStack, queue: str, *reasons: str) -> None:
    """Set printer-state-reasons on a CUPS queue, as a backend reporting a jam would."""
    from drivers.cups import ipp

    request = ipp.encode_request(
        0x4003,  # CUPS-Add-Modify-Printer
        1,
        {
            "printer-uri": ipp.attr(ipp.URI, f"ipp://localhost:{stack.cups_port}/printers/{queue}"),
            "requesting-user-name": ipp.attr(ipp.NAME, "root"),
        },
        printer_attrs={"printer-state-reasons": ipp.attr(ipp.KEYWORD, *reasons)},
    )
    response = ipp.post("127.0.0.1", stack.cups_port, "/admin/", request)
    if not response.ok:
        raise RuntimeError(f"setting {reasons} on {queue}: {response.message}")


def printer_jobs(stack: PeerStack) -> dict[str, dict[str, list[object]]]:
    """Every job the ippeveprinter has received, by job name, asked with IPP Get-Jobs."""
    from drivers.cups import ipp

    request = ipp.encode_request(
        ipp.GET_JOBS,
        1,
        {
            "printer-uri": ipp.attr(ipp.URI, stack.printer_uri),
            "requesting-user-name": ipp.attr(ipp.NAME, "root"),
            "which-jobs": ipp.attr(ipp.KEYWORD, "all"),
            "requested-attributes": ipp.attr(
                ipp.KEYWORD,
                "job-name",
                "job-state",
                "job-originating-user-name",
                "print-color-mode",
                "sides",
            ),
        },
    )
    response = ipp.post("127.0.0.1", stack.printer_port, "/ipp/print", request)
    if not response.ok:
        raise RuntimeError(f"Get-Jobs on ippeveprinter: {response.message}")
    return {str(job["job-name"][0]): job for job in response.group("job")}
