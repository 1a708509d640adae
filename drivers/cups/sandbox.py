"""A private CUPS server with a virtual IPP Everywhere printer on loopback, for demos and tests.

Why it exists: the demo and the tests need a real cupsd holding real jobs, without
touching the machine's CUPS and without clashing with other sandboxes started at the
same time (parallel test runs, a demo beside a test run).

ippeveprinter (the virtual printer) will not start without Avahi, and Avahi needs a
system bus. dbus-daemon and avahi-daemon have machine-wide fixed paths
(/run/dbus/system_bus_socket, /run/avahi-daemon/), so the sandbox shares nothing with
the machine's: a private dbus-daemon listens on a socket in the sandbox directory,
every child gets ``DBUS_SYSTEM_BUS_ADDRESS`` pointing at it, and avahi-daemon runs
under ``unshare -n -m`` with a private tmpfs on /run (no network traffic, no clash
with another avahi's pid file or socket). cupsd gets its own config, spool, cache and
state directories and listens on a free loopback port.

cupsd runs its filters as ``lp`` and checks ownership, so the sandbox needs root
(``chown root:lp``) and a directory ``lp`` can reach (:func:`filters_can_reach`; not
a 0700 home or pytest's temp dir, or every print fails with a bare filter status 1).

Everything started is recorded and stopped in reverse order by
:meth:`CupsSandbox.close`, which callers run in ``finally`` even when start-up failed
half-way. :func:`sandbox_tools_missing` says which binaries are absent before trying.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import stat
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType

START_TIMEOUT_S = 20.0  # a safety net for a loaded machine, not a speed requirement

SANDBOX_TOOLS = (
    "dbus-daemon",
    "avahi-daemon",
    "ippeveprinter",
    "cupsd",
    "unshare",
    "lpadmin",
    "lp",
    "cupsenable",
    "cupsaccept",
    "cupsdisable",
)


def sandbox_tools_missing() -> list[str]:
    """The binaries the sandbox runs that are not on PATH (empty when it can start)."""
    return [tool for tool in SANDBOX_TOOLS if shutil.which(tool) is None]


def free_port() -> int:
    """A TCP port free on 127.0.0.1 right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def filters_can_reach(path: Path) -> bool:
    """Whether every existing ancestor of ``path`` is traversable by others (``lp``).

    Conservative: a directory reachable only through group ``lp`` counts as unreachable.
    """
    for directory in path.resolve().parents:
        if not directory.exists():
            continue
        if not directory.stat().st_mode & stat.S_IXOTH:
            return False
    return True


# How long a busy cupsd's refusal is retried before it counts as a failure.
_BUSY_RETRY_SECONDS = 15.0


def _wait_until(
    check: Callable[[], bool], what: str, process: subprocess.Popen[bytes], log: Path
) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{what} exited with {process.returncode}: {_tail(log)}")
        if check():
            return
        time.sleep(0.05)
    raise RuntimeError(f"{what} not ready after {START_TIMEOUT_S:g} s: {_tail(log)}")


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

# Open policy: anyone on loopback may submit as any user and manage any job, which is
# what a demo and a test need (the kiosk releases jobs it did not submit).
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
class CupsSandbox:
    """The started processes and where they live; ``close()`` always stops all of them.

    ``base`` must be empty or absent; the sandbox writes its configs, logs and spools there.
    """

    base: Path
    printer_name: str = "Kiosk Test Printer"
    printer_port: int = 0
    cups_port: int = 0
    spool: Path = field(init=False)
    printer_spool: Path = field(init=False)
    env: dict[str, str] = field(default_factory=dict)
    processes: list[tuple[str, subprocess.Popen[bytes]]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.spool = self.base / "cups-spool"
        self.printer_spool = self.base / "printer-spool"

    def __enter__(self) -> CupsSandbox:
        try:
            self.start()
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    # -- start ---------------------------------------------------------------------------

    def _spawn(self, name: str, argv: list[str]) -> tuple[subprocess.Popen[bytes], Path]:
        log = self.base / f"{name}.log"
        with log.open("wb") as out:
            # own session: a Ctrl-C at the terminal does not kill the daemons under the
            # caller's feet; close() stops them in order
            process = subprocess.Popen(
                argv, stdout=out, stderr=subprocess.STDOUT, env=self.env, start_new_session=True
            )
        self.processes.append((name, process))
        return process, log

    def start(self) -> None:
        """Start dbus, avahi, ippeveprinter and cupsd; return once each answers."""
        self.base.mkdir(parents=True, exist_ok=True)
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
                self.printer_name,
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

    # -- use -----------------------------------------------------------------------------

    @property
    def printer_uri(self) -> str:
        return f"ipp://localhost:{self.printer_port}/ipp/print"

    def lpadmin(self, *args: str) -> None:
        self.run("lpadmin", *args)

    def run(self, tool: str, *args: str) -> str:
        """Run a CUPS command-line tool against our cupsd; a failure raises with its output.

        cupsd answers ``server-error-service-unavailable`` while it is still busy with
        the previous change (writing a queue's generated PPD, once in a CI run), so that
        one answer is retried for a few seconds; every other failure raises at once.
        """
        deadline = time.monotonic() + _BUSY_RETRY_SECONDS
        while True:
            result = subprocess.run(
                [tool, "-h", f"127.0.0.1:{self.cups_port}", *args],
                capture_output=True, text=True, env=self.env, timeout=30, check=False,
            )
            if result.returncode == 0:
                return result.stdout
            output = result.stderr or result.stdout
            if "service-unavailable" not in output or time.monotonic() > deadline:
                raise RuntimeError(f"{tool} {' '.join(args)}: {output}")
            time.sleep(0.25)

    def add_queue(self, name: str, *, enabled: bool = True) -> None:
        """A CUPS queue printing to the virtual printer through the IPP Everywhere driver.

        ``enabled=False`` makes a stopped queue: it accepts jobs and prints none.
        """
        self.lpadmin("-p", name, "-v", self.printer_uri, "-m", "everywhere")
        self.run("cupsaccept", name)
        self.run("cupsenable" if enabled else "cupsdisable", name)

    def submit(
        self,
        queue: str,
        user: str,
        document: Path,
        title: str,
        *options: str,
        hold: bool = True,
    ) -> int:
        """Print ``document`` as ``user`` (requesting-user-name) with ``lp``; the job id.

        Held with ``job-hold-until=indefinite`` unless ``hold=False``; each option is an
        ``lp -o`` ``name=value``.
        """
        args = ["-U", user, "-d", queue, "-t", title]
        if hold:
            args += ["-H", "indefinite"]
        for option in options:
            args += ["-o", option]
        out = self.run("lp", *args, str(document))
        # "request id is kiosk-12 (1 file(s))"
        return int(out.split("request id is ", 1)[1].split()[0].rsplit("-", 1)[1])

    # -- stop ----------------------------------------------------------------------------

    def close(self) -> None:
        """Stop every started process (each in its own process group), newest first."""
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
