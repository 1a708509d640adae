"""The real CUPS peers for the tests, on loopback: D-Bus, Avahi, ippeveprinter and cupsd.

ippeveprinter will not start without Avahi, and Avahi needs a system bus. Other engineers'
tests may run (and kill) their own dbus-daemon and avahi-daemon at the same time, and both
daemons have machine-wide fixed paths (/run/dbus/system_bus_socket, /run/avahi-daemon/).
So this stack shares nothing with them: a private dbus-daemon listens on a socket in our
temp dir, every child gets ``DBUS_SYSTEM_BUS_ADDRESS`` pointing at it, and avahi-daemon
runs under ``unshare -n -m`` with a private tmpfs on /run (no network traffic, no clash
with another avahi's pid file or socket). cupsd gets its own config, spool, cache and
state directories, so it is not the machine's CUPS either.

Everything started is recorded and stopped in reverse order by :meth:`PeerStack.close`,
which the fixture calls in ``finally`` even when start-up failed half-way.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

# the queues the session fixture creates (here, not in conftest.py: several conftest
# modules exist in this suite, and "from conftest import" could find another one)
KIOSK = "kiosk"
FOLLOW_ME = "followme"
PAUSED_FOLLOW_ME = "followme-paused"

START_TIMEOUT_S = 20.0  # a safety net for a loaded machine, not a speed requirement


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def missing_tools() -> list[str]:
    tools = ["dbus-daemon", "avahi-daemon", "ippeveprinter", "cupsd", "unshare", "lpadmin"]
    return [tool for tool in tools if shutil.which(tool) is None]


def _wait_until(check: object, what: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{what} exited with {process.returncode}: {_tail(log)}")
        if check():  # type: ignore[operator]
            return
        time.sleep(0.05)
    raise RuntimeError(f"{what} not ready after {START_TIMEOUT_S} s: {_tail(log)}")


def _tail(log: Path) -> str:
    try:
        return log.read_text(errors="replace")[-2000:]
    except OSError:
        return "(no log)"


def _port_open(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.2):
            return True
    except OSError:
        return False


_DBUS_CONF = """<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>system</type>
  <listen>unix:path={socket}</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow user="*"/>
    <allow own="*"/>
    <allow send_destination="*" eavesdrop="true"/>
    <allow receive_sender="*"/>
  </policy>
</busconfig>
"""

_AVAHI_CONF = """[server]
use-ipv4=yes
use-ipv6=yes
enable-dbus=yes
[wide-area]
enable-wide-area=no
[publish]
publish-hinfo=no
publish-workstation=no
"""

_CUPSD_CONF = """Listen 127.0.0.1:{port}
LogLevel debug
MaxLogSize 0
Browsing No
WebInterface No
ErrorPolicy abort-job
DefaultAuthType None
PreserveJobHistory Yes
PreserveJobFiles Yes
DefaultPolicy open
<Location />
  Order allow,deny
  Allow all
</Location>
<Policy open>
  JobPrivateAccess all
  JobPrivateValues none
  SubscriptionPrivateAccess all
  SubscriptionPrivateValues none
  <Limit All>
    Order deny,allow
  </Limit>
</Policy>
"""

_CUPS_FILES_CONF = """ServerRoot {root}
RequestRoot {spool}
TempDir {temp}
CacheDir {cache}
StateDir {state}
DataDir /usr/share/cups
ServerBin /usr/lib/cups
ErrorLog {logs}/error_log
AccessLog {logs}/access_log
PageLog {logs}/page_log
SystemGroup root
User lp
Group lp
"""


@dataclass
class PeerStack:
    """The started processes and where they live; ``close()`` always stops all of them."""

    base: Path
    printer_port: int = 0
    cups_port: int = 0
    spool: Path = field(init=False)
    printer_spool: Path = field(init=False)
    env: dict[str, str] = field(default_factory=dict)
    processes: list[tuple[str, subprocess.Popen[bytes]]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.spool = self.base / "cups-spool"
        self.printer_spool = self.base / "printer-spool"

    # -- start ---------------------------------------------------------------------------

    def _spawn(self, name: str, argv: list[str]) -> tuple[subprocess.Popen[bytes], Path]:
        log = self.base / f"{name}.log"
        with log.open("wb") as out:
            process = subprocess.Popen(
                argv, stdout=out, stderr=subprocess.STDOUT, env=self.env, start_new_session=True
            )
        self.processes.append((name, process))
        return process, log

    def start(self) -> None:
        # filters and backends run as lp: they must reach the PPDs and spool files
        self.base.chmod(0o755)
        self.env = {**os.environ}
        bus = self.base / "system_bus_socket"
        (self.base / "dbus.conf").write_text(_DBUS_CONF.format(socket=bus))
        process, log = self._spawn(
            "dbus", ["dbus-daemon", "--nofork", f"--config-file={self.base / 'dbus.conf'}"]
        )
        _wait_until(bus.exists, "dbus-daemon", process, log)
        self.env["DBUS_SYSTEM_BUS_ADDRESS"] = f"unix:path={bus}"

        (self.base / "avahi.conf").write_text(_AVAHI_CONF)
        avahi = (
            "mount -t tmpfs tmpfs /run && exec avahi-daemon -f {conf} --no-drop-root "
            "--no-chroot --no-rlimits"
        ).format(conf=self.base / "avahi.conf")
        process, log = self._spawn("avahi", ["unshare", "-n", "-m", "sh", "-c", avahi])
        _wait_until(
            lambda: "Server startup complete" in _tail(log), "avahi-daemon", process, log
        )

        self.printer_port = free_port()
        self.printer_spool.mkdir()
        process, log = self._spawn(
            "ippeveprinter",
            [
                "ippeveprinter", "-p", str(self.printer_port), "-n", "localhost",
                "-d", str(self.printer_spool), "-k", "-c", "/bin/true", "-2", "-s", "20,10",
                "-f", "application/pdf,application/postscript,image/pwg-raster,"
                "application/octet-stream",
                "-D", f"ipp://localhost:{self.printer_port}/ipp/print",
                "Kiosk Test Printer",
            ],
        )
        _wait_until(lambda: _port_open(self.printer_port), "ippeveprinter", process, log)
        self._start_cupsd()

    def _start_cupsd(self) -> None:
        root = self.base / "cups-conf"
        dirs = {name: self.base / f"cups-{name}" for name in ("temp", "cache", "state", "logs")}
        for directory in (root, self.spool, *dirs.values()):
            directory.mkdir()
        # cupsd runs filters as lp and checks ownership: TempDir and spool root:lp, 0710
        # like Debian's, and cache/state readable by the scheduler.
        for directory in (self.spool, dirs["temp"]):
            shutil.chown(directory, "root", "lp")
            directory.chmod(0o1770)
        self.cups_port = free_port()
        (root / "cupsd.conf").write_text(_CUPSD_CONF.format(port=self.cups_port))
        (root / "cups-files.conf").write_text(
            _CUPS_FILES_CONF.format(root=root, spool=self.spool, **dirs)
        )
        (root / "ppd").mkdir()
        process, log = self._spawn(
            "cupsd",
            ["cupsd", "-f", "-c", str(root / "cupsd.conf"), "-s", str(root / "cups-files.conf")],
        )
        _wait_until(lambda: _port_open(self.cups_port), "cupsd", process, log)

    @property
    def printer_uri(self) -> str:
        return f"ipp://localhost:{self.printer_port}/ipp/print"

    def lpadmin(self, *args: str) -> None:
        self.run("lpadmin", *args)

    def run(self, tool: str, *args: str) -> str:
        """Run a CUPS command-line tool against our cupsd; a failure raises with its output."""
        result = subprocess.run(
            [tool, "-h", f"127.0.0.1:{self.cups_port}", *args],
            capture_output=True, text=True, env=self.env, timeout=30, check=False,
        )
        if result.returncode != 0:
            raise RuntimeError(f"{tool} {' '.join(args)}: {result.stderr or result.stdout}")
        return result.stdout

    # -- stop ----------------------------------------------------------------------------

    def close(self) -> None:
        for _name, process in reversed(self.processes):
            if process.poll() is None:
                try:
                    os.killpg(process.pid, signal.SIGTERM)
                except ProcessLookupError:
                    continue
        for _name, process in reversed(self.processes):
            try:
                process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=5)
        self.processes.clear()


# -- helpers the tests use on a started stack --------------------------------------------


def submit(
    stack: PeerStack,
    queue: str,
    user: str,
    document: Path,
    title: str,
    *options: str,
    hold: bool = True,
) -> int:
    """Print ``document`` as ``user`` with ``lp`` (held unless ``hold=False``); the job id."""
    args = ["-U", user, "-d", queue, "-t", title]
    if hold:
        args += ["-H", "indefinite"]
    for option in options:
        args += ["-o", option]
    out = stack.run("lp", *args, str(document))
    # "request id is kiosk-12 (1 file(s))"
    return int(out.split("request id is ", 1)[1].split()[0].rsplit("-", 1)[1])


def add_queue(stack: PeerStack, name: str, *, enabled: bool = True) -> None:
    """A CUPS queue printing to the ippeveprinter through the IPP Everywhere driver."""
    stack.lpadmin("-p", name, "-v", stack.printer_uri, "-m", "everywhere")
    if enabled:
        stack.run("cupsenable", name)
        stack.run("cupsaccept", name)
    else:  # takes jobs, prints none: a stopped queue
        stack.run("cupsaccept", name)
        stack.run("cupsdisable", name)


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
