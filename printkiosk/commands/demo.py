"""Run the demo: the backend on SQLite with demo users, cards and balances on 127.0.0.1,
a private CUPS server with held print jobs for those users, and the kiosk window with a
simulated card reader (type a demo card number on the idle screen; the numbers are
shown there).

The backend runs as a child process with its own SQLite file under the user's data
directory. The print server is :class:`drivers.cups.CupsSandbox` (cupsd and a virtual
IPP Everywhere printer on loopback ports) with a kiosk queue and a follow-me queue; the
sample documents are written at start, so the demo needs nothing outside the
repository. Both stop when the kiosk window closes, on Ctrl-C and on SIGTERM. Without
the CUPS tools (or root, which cupsd's filters need) the demo says so in one line and
runs without held jobs. Every mail the backend sends (low balance, charge alerts,
device alerts) goes to a local SMTP server saving it in ``<demo folder>/mail/new``
(:mod:`printkiosk.commands.demo_mail`), printed at start.

Everything the demo keeps lives in one folder, :func:`demo_data_dir` (printed at start):
the backend's database and config, the kiosk's outbox and offline cache, the CUPS
sandbox. A second run goes on where the first stopped (balances, charges, an outbox
still to drain); ``--reset`` deletes the folder first, so the demo starts from the seeded
users and balances and the held jobs of this run only.
"""

from __future__ import annotations

import argparse
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, Any

from printkiosk import REPO_CONFIG

if TYPE_CHECKING:
    from drivers.cups.sandbox import CupsSandbox
    from kiosk.run import TerminalSource
    from printkiosk.commands.demo_snmp import DemoSnmpAgent
    from printkiosk.commands.octoprint_peer import OctoPrintInstance
    from terminal.config import KioskConfig
    from terminal.ports import DemoCard


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--port", type=int, default=0, help="backend port (default: a free one)")
    parser.add_argument(
        "--language", choices=("en", "fr"), default="en", help="language of the first session"
    )
    parser.add_argument(
        "--lan", action="store_true",
        help="let a phone on this network pay a top-up QR: the backend listens on every "
             "interface and the QR carries this machine's LAN address (default: 127.0.0.1 "
             "only, so only a browser on this machine can pay)",
    )
    parser.add_argument(
        "--3d", dest="print3d", action="store_true",
        help="a 3D kiosk instead: OctoPrint with its virtual printer (slowed down so a demo "
             "job prints in about a minute) and the demo users' uploaded 3D jobs",
    )
    parser.add_argument(
        "--reset", action="store_true",
        help="start from fresh demo data: delete the demo's backend database, the kiosk's "
             "outbox and offline cache, and earlier runs' print jobs (see README)",
    )


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def wait_for_port(port: int, process: subprocess.Popen[bytes], timeout_s: float = 30.0) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the backend exited with code {process.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"the backend did not listen on 127.0.0.1:{port} within {timeout_s:g} s")


def demo_data_dir() -> Path:
    from platformdirs import user_data_dir

    path = Path(user_data_dir("printkiosk")) / "demo"
    path.mkdir(parents=True, exist_ok=True)
    return path


def reset_demo_data(data_dir: Path) -> Path:
    """Delete everything an earlier demo run left in ``data_dir`` and recreate it empty.

    The folder holds only what the demo itself made (database, kiosk state, CUPS
    sandbox), all of it rebuilt at start; the backend's card-hash key lives outside it,
    in the backend's own data folder, and is not demo data.
    """
    if data_dir.exists():
        shutil.rmtree(data_dir)
    data_dir.mkdir(parents=True)
    return data_dir


def prepare_demo_data(reset: bool) -> Path:
    """The demo's data folder, emptied first when ``reset``; says on stderr where it is."""
    data_dir = demo_data_dir()
    if reset:
        reset_demo_data(data_dir)
        print(f"demo: fresh demo data in {data_dir}", file=sys.stderr)
    else:
        print(f"demo: demo data in {data_dir} (printkiosk demo --reset starts afresh)",
              file=sys.stderr)
    return data_dir


# The demo prices with the campus lists: the default one and the staff group's one.
DEMO_PRICE_LISTS = ("campus-default.toml", "staff.toml")


# The demo's one terminal token is shared by every kiosk (and test) started against this
# loopback backend: its login rate limit is that of many kiosks.
DEMO_LOGIN_RATE = (600, 100)


def lan_address() -> str:
    """This machine's address on its network: the source address of a route outwards
    (a UDP "connection" sends nothing). A clear error when there is no network."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect(("192.0.2.1", 9))  # TEST-NET-1: routed, never answered
        except OSError as exc:
            raise RuntimeError(f"--lan: this machine has no network route ({exc})") from exc
        address: str = probe.getsockname()[0]
    if address.startswith("127."):
        raise RuntimeError("--lan: this machine has no network address other than 127.0.0.1")
    return address


def demo_backend_toml(port: int, database: str, price_lists: Path,
                      login_rate: tuple[int, int], lan: str | None,
                      notifications: str = "") -> str:
    """The demo backend's configuration (see :func:`start_demo_backend`);
    ``notifications``: a ``[notifications]`` section (the demo mailbox's)."""
    from backend.demo import DEMO_PRINT3D_GROUP

    return (
        "[server]\n"
        f'host = "{"0.0.0.0" if lan else "127.0.0.1"}"\n'  # noqa: S104 (--lan only)
        f"port = {port}\n\n"
        "[database]\n"
        f'url = "sqlite:///{database}"\n\n'
        "[pricing]\n"
        f'price_lists_dir = "{price_lists.as_posix()}"\n\n'
        "[sessions]\n"
        f"logins_per_minute = {login_rate[0]}\n"
        f"login_burst = {login_rate[1]}\n\n"
        # Top-ups on the simulated payment page (it announces itself as not for
        # production on every page): the QR's URL is this backend's.
        "[payments]\n"
        'gateway = "demo"\n'
        f'public_base_url = "http://{lan or "127.0.0.1"}:{port}"\n\n'
        "[payments.demo]\n"
        "enabled = true\n\n"
        # 3D jobs: the demo's uploads (backend.demo.seed_demo_print3d) for the 3D kiosk's
        # printer group, whose printer (OctoPrint's virtual printer) is "an MK4 with PLA".
        "[print3d]\n"
        f'storage_dir = "{(Path(database).parent / "print3d").as_posix()}"\n\n'
        "[[print3d.groups]]\n"
        f'name = "{DEMO_PRINT3D_GROUP}"\n'
        'printer_model = "MK4"\n'
        'materials = ["PLA"]\n'
        + (f"\n{notifications}" if notifications else "")
    )


def start_demo_backend(port: int, data_dir: Path,
                       login_rate: tuple[int, int] = DEMO_LOGIN_RATE,
                       lan: str | None = None,
                       notifications: str = "",
                       history: bool = False) -> subprocess.Popen[bytes]:
    """Start ``printkiosk backend`` with demo data on 127.0.0.1:port; return once it listens.
    ``login_rate``: logins per minute and burst of its terminal (a benchmark's badge loop
    goes faster than any kiosk). ``lan``: this machine's LAN address, for ``--lan``: the
    backend then listens on every interface and the payment QR carries that address.
    ``history``: also the past jobs of the usage reports (the demo command's; tests that
    count the holds they make leave it off)."""
    config = data_dir / "backend.toml"
    database = (data_dir / "backend.sqlite3").as_posix()
    price_lists = data_dir / "pricelists"
    price_lists.mkdir(exist_ok=True)
    for name in DEMO_PRICE_LISTS:
        shutil.copyfile(REPO_CONFIG / "pricelists" / name, price_lists / name)
    config.write_text(demo_backend_toml(port, database, price_lists, login_rate, lan,
                                        notifications), encoding="utf-8")
    process = subprocess.Popen(
        [sys.executable, "-m", "printkiosk", "backend", "--config", str(config), "--demo-data",
         *(["--demo-history"] if history else [])],
    )
    try:
        wait_for_port(port, process)
    except Exception:
        stop_demo_backend(process)
        raise
    return process


def stop_demo_backend(process: subprocess.Popen[bytes]) -> None:
    """Ask the backend to stop, and kill it if it has not within 10 s."""
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


# -- the demo's print server ---------------------------------------------------------------

DEMO_QUEUE = "kiosk"
DEMO_FOLLOW_ME = "followme"
# a second queue on the same server, for a technician to re-point the kiosk to
DEMO_ANNEX_QUEUE = "annex-mfp"


@dataclass(frozen=True)
class DemoJob:
    """One held job of the demo: who prints what, where, and which pages are in colour."""

    user: str
    title: str
    colour_pages: tuple[bool, ...]
    follow_me: bool = False
    queue: str | None = None  # another queue than the kiosk's (or the follow-me one)

    @property
    def colour_mode(self) -> str:
        return "color" if any(self.colour_pages) else "monochrome"


DEMO_JOBS = (
    DemoJob("alice", "Thesis chapter 2", (False, False, False)),
    DemoJob("alice", "Lab slides", (True, False)),
    DemoJob("bob", "Concert poster", (True,)),
    DemoJob("carol", "Board minutes", (False,), follow_me=True),
    DemoJob("alice", "Annex handout", (False,), queue=DEMO_ANNEX_QUEUE),
)


def _pdf_text(text: str) -> str:
    return text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")


def sample_pdf(title: str, colour_pages: Sequence[bool]) -> bytes:
    """A small valid A4 PDF: black text on each page, plus a red band on colour pages.

    Written by hand (no PDF library, no file from outside the repository) so the demo
    has documents whose pages and colours the kiosk's analysis really finds.
    """
    count = len(colour_pages)
    page_numbers = [4 + 2 * index for index in range(count)]
    kids = " ".join(f"{number} 0 R" for number in page_numbers)
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        f"<< /Type /Pages /Kids [{kids}] /Count {count} >>".encode(),
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    for index, colour in enumerate(colour_pages):
        lines = [
            "0 g",
            f"BT /F1 24 Tf 72 760 Td ({_pdf_text(title)}) Tj ET",
            f"BT /F1 12 Tf 72 730 Td (printkiosk demo - page {index + 1} of {count}) Tj ET",
            "0.6 g 72 420 451 260 re f",  # a grey block: still a mono page
        ]
        if colour:
            lines.append("0.85 0.1 0.1 rg 72 120 451 260 re f")
        content = "\n".join(lines).encode()
        objects.append(
            f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] "
            f"/Resources << /Font << /F1 3 0 R >> >> /Contents {page_numbers[index] + 1} 0 R >>"
            .encode()
        )
        objects.append(
            b"<< /Length %d >>\nstream\n" % len(content) + content + b"\nendstream"
        )
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    for offset in offsets:
        out += b"%010d 00000 n \n" % offset
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        xref,
    )
    return bytes(out)


@dataclass
class DemoPrinter:
    """The demo's running print server and its queues; ``close()`` stops it all."""

    sandbox: CupsSandbox
    queue: str = DEMO_QUEUE
    hold_queue: str = DEMO_FOLLOW_ME
    annex_queue: str = DEMO_ANNEX_QUEUE
    job_ids: list[int] = field(default_factory=list)
    scratch: Path | None = None  # a temp dir to remove on close, when one was needed

    def printer_config(self) -> dict[str, Any]:
        """The kiosk config's [printer] keys that point the kiosk at this server."""
        return {
            "cups_server": "127.0.0.1",
            "cups_port": self.sandbox.cups_port,
            "queue": self.queue,
            "hold_queue": self.hold_queue,
            "cups_spool_dir": str(self.sandbox.spool),
        }

    def close(self) -> None:
        self.sandbox.close()
        if self.scratch is not None:
            shutil.rmtree(self.scratch, ignore_errors=True)


def demo_printer_dir(data_dir: Path) -> tuple[Path, Path | None]:
    """Where the sandbox lives, and the temp dir to remove afterwards (if one is used).

    The data dir's ``cups`` when cupsd's filters (run as ``lp``) can reach it; under a
    0700 home they cannot, and a temp dir is used instead.
    """
    from drivers.cups.sandbox import filters_can_reach

    preferred = data_dir / "cups"
    if filters_can_reach(preferred):
        shutil.rmtree(preferred, ignore_errors=True)  # the last run's spool and logs
        return preferred, None
    scratch = Path(tempfile.mkdtemp(prefix="printkiosk-demo-cups-"))
    return scratch, scratch


def start_demo_printer(data_dir: Path, jobs: Sequence[DemoJob] = DEMO_JOBS) -> DemoPrinter:
    """Start the private CUPS server, create the kiosk and follow-me queues, submit ``jobs``
    held (``job-hold-until=indefinite``) as their users. Raises if anything fails, having
    stopped whatever had started.
    """
    from drivers.cups.sandbox import CupsSandbox

    base, scratch = demo_printer_dir(data_dir)
    printer = DemoPrinter(CupsSandbox(base, printer_name="printkiosk demo printer"),
                          scratch=scratch)
    try:
        printer.sandbox.start()
        printer.sandbox.add_queue(printer.queue)
        printer.sandbox.add_queue(printer.hold_queue)
        printer.sandbox.add_queue(printer.annex_queue)
        documents = base / "documents"
        documents.mkdir()
        for number, job in enumerate(jobs, start=1):
            document = documents / f"{number:02d}-{job.user}.pdf"
            document.write_bytes(sample_pdf(job.title, job.colour_pages))
            queue = job.queue or (printer.hold_queue if job.follow_me else printer.queue)
            printer.job_ids.append(
                printer.sandbox.submit(
                    queue, job.user, document, job.title, f"print-color-mode={job.colour_mode}"
                )
            )
    except BaseException:
        printer.close()
        raise
    return printer


def start_demo_printer_or_none(data_dir: Path) -> DemoPrinter | None:
    """:func:`start_demo_printer`, or ``None`` after one clear line when it cannot start."""
    from drivers.cups.sandbox import sandbox_tools_missing

    missing = sandbox_tools_missing()
    if missing:
        print(f"demo: no print jobs (CUPS sandbox tools missing: {', '.join(missing)})",
              file=sys.stderr)
        return None
    try:
        printer = start_demo_printer(data_dir)
    except (OSError, RuntimeError, subprocess.SubprocessError) as exc:
        first_line = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        print(f"demo: no print jobs (the CUPS sandbox did not start: {first_line})",
              file=sys.stderr)
        return None
    print(f"demo: {len(printer.job_ids)} held print jobs on a private CUPS server at "
          f"127.0.0.1:{printer.sandbox.cups_port} ({printer.sandbox.base}); queues "
          f"{printer.queue}, {printer.hold_queue} (follow-me) and {printer.annex_queue} "
          "(to re-point the kiosk to in technician mode)", file=sys.stderr)
    return printer


def _exit_on_sigterm(signum: int, _frame: FrameType | None) -> None:
    # SIGTERM's default kills the process without running ``finally``: the backend and
    # the CUPS sandbox (own sessions) would be left behind.
    raise SystemExit(128 + signum)


def demo_cards() -> list[DemoCard]:
    """The demo users as the demo idle screen lists them: card, name, username and PIN."""
    from backend.demo import DEMO_USERS
    from terminal.ports import DemoCard

    return [DemoCard(user.card, user.display_name, user.username, user.pin)
            for user in DEMO_USERS]


def demo_vouchers(data_dir: Path, limit: int = 3) -> list[str]:
    """The demo batch's codes still redeemable, for the demo idle screen: read from the
    demo backend's database (already seeded: the backend seeds before it listens)."""
    from backend.db import Database
    from backend.demo import demo_voucher_codes

    database = Database.from_url(f"sqlite:///{(data_dir / 'backend.sqlite3').as_posix()}")
    try:
        return demo_voucher_codes(database, limit=limit)
    finally:
        database.engine.dispose()


def demo_changes(port: int, data_dir: Path, printer: DemoPrinter | None, language: str = "en",
                 snmp: DemoSnmpAgent | None = None) -> dict[tuple[str, ...], Any]:
    """What the demo changes in the shipped ``config/kiosk-mfp.toml``, as (table path,
    key) -> value; a dict value replaces the whole table.

    Only what must differ on a demo machine: this run's backend, the simulated reader, a
    window instead of full screen, the billing-code picker on, the SNMP agent the demo
    started (off without one: page counts then come from the virtual printer's completed
    impressions), the campus list as the offline fallback, and the demo's print server.
    """
    changes: dict[tuple[str, ...], Any] = {
        ("backend", "url"): f"http://127.0.0.1:{port}",
        ("terminal", "language"): language,
        # the demo shows the billing-code picker (the shipped file has it off): ACME's
        # codes are paid by the client, GLOBEX's by the user
        ("terminal", "billing_code"): "optional",
        ("card_reader",): {"type": "simulated", "debounce_s": 0.0},
        # the kiosk's outbox and offline cache belong with the demo backend's database
        ("offline", "state_dir"): str(data_dir / "kiosk"),
        ("pricing",): {"price_list": str(REPO_CONFIG / "pricelists" / "campus-default.toml")},
        ("printer", "snmp"): snmp.printer_snmp() if snmp is not None else {"enabled": False},
        ("display", "fullscreen"): False,
    }
    if printer is not None:
        changes.update({("printer", key): value
                        for key, value in printer.printer_config().items()})
    return changes


def apply_changes(document: Any, changes: dict[tuple[str, ...], Any]) -> Any:
    """Set each change in a TOML document (a dict, or a tomlkit document keeping the
    shipped file's comments)."""
    for path, value in changes.items():
        table = document
        for name in path[:-1]:
            table = table[name]
        table[path[-1]] = value
    return document


def demo_kiosk_config(
    port: int, data_dir: Path, printer: DemoPrinter | None, language: str = "en",
    snmp: DemoSnmpAgent | None = None,
) -> KioskConfig:
    """The shipped ``config/kiosk-mfp.toml`` with :func:`demo_changes`, as the demo writes
    its kiosk file. The UI tests of the demo's paths build their kiosk with this same
    function and the demo's SNMP agent, so what they prove is what a new user gets."""
    import tomllib

    from terminal.config import parse_kiosk_config

    data = tomllib.loads((REPO_CONFIG / "kiosk-mfp.toml").read_text(encoding="utf-8"))
    apply_changes(data, demo_changes(port, data_dir, printer, language, snmp))
    return parse_kiosk_config(data, "kiosk-mfp.toml (demo)")


DEMO_KIOSK_FILE = "kiosk.toml"
DEMO_TOKEN_FILE = "terminal-token"  # noqa: S105 - a file name, not a secret
# the demo kiosk's local technician PIN (the offline fallback of technician mode), hashed
# into a 0600 file beside the kiosk file as `printkiosk technician set-pin` does
DEMO_LOCAL_PIN = "4321"
DEMO_PIN_FILE = "technician-pin"


def _run_keys(changes: dict[tuple[str, ...], Any]) -> dict[tuple[str, ...], Any]:
    """The changes that follow this run (ports and paths of what the demo just
    started): refreshed in a file a technician may have edited; the rest is theirs."""
    kept: dict[tuple[str, ...], Any] = {("backend", "url"): changes[("backend", "url")]}
    for key in ("cups_server", "cups_port", "cups_spool_dir"):
        if ("printer", key) in changes:
            kept[("printer", key)] = changes[("printer", key)]
    snmp = changes[("printer", "snmp")]
    if snmp.get("enabled"):
        kept[("printer", "snmp", "host")] = snmp["host"]
        kept[("printer", "snmp", "port")] = snmp["port"]
        # a demo file written before count_pages existed charged nothing (see demo_snmp)
        kept[("printer", "snmp", "count_pages")] = snmp["count_pages"]
    return kept


def write_demo_kiosk_file(port: int, data_dir: Path, printer: DemoPrinter | None,
                          language: str = "en", snmp: DemoSnmpAgent | None = None) -> Path:
    """``<data dir>/kiosk.toml``, the file the demo kiosk runs from (and a technician
    edits): written from the shipped file with :func:`demo_changes` the first time;
    later runs keep it (a technician's changes survive a restart without --reset) and
    refresh only this run's backend URL, CUPS port and SNMP port. The terminal token
    goes in a 0600 ``terminal-token`` beside it, named by backend.token_file."""
    import tomlkit

    from backend.demo import DEMO_TERMINAL_TOKEN
    from terminal.config_store import previous_path, write_atomic
    from terminal.technician_pin import write_pin_file

    token = data_dir / DEMO_TOKEN_FILE
    if not token.exists():  # an enrolment in technician mode replaces it: kept then
        write_atomic(token, DEMO_TERMINAL_TOKEN + "\n", mode=0o600, keep_previous=False)
    path = data_dir / DEMO_KIOSK_FILE
    changes = demo_changes(port, data_dir, printer, language, snmp)
    if not path.exists():
        document = tomlkit.parse((REPO_CONFIG / "kiosk-mfp.toml").read_text(encoding="utf-8"))
        changes[("backend", "token_file")] = str(token)
        pin_file = data_dir / DEMO_PIN_FILE
        write_pin_file(pin_file, DEMO_LOCAL_PIN)
        changes[("technician",)] = {"local_pin_file": str(pin_file)}
        write_atomic(path, tomlkit.dumps(apply_changes(document, changes)),
                     keep_previous=False)
        return path
    # the file and the version Restore previous would bring back both get this run's
    # ports (an earlier run's would point at servers that are gone)
    for version in (path, previous_path(path)):
        if version.exists():
            document = tomlkit.parse(version.read_text(encoding="utf-8"))
            write_atomic(version, tomlkit.dumps(apply_changes(document, _run_keys(changes))),
                         keep_previous=False)
    return path


def demo_factory(path: Path, data_dir: Path, cards: list[DemoCard]) -> TerminalSource:
    """The demo kiosk's core from its file, with the demo's cards and vouchers listed
    on the idle screen, built again the same way after a technician's change."""
    from terminal.wiring import TerminalFactory

    return TerminalFactory(path, extras={"demo_cards": cards,
                                         "demo_vouchers": lambda: demo_vouchers(data_dir)})


def demo_enrolment_key(data_dir: Path) -> str | None:
    """A one-time enrolment key made by the demo backend's own CLI, to type on the
    technician's enrolment screen (shown there like the demo vouchers); None if the CLI
    could not make one (said on stderr)."""
    import re

    result = subprocess.run(
        [sys.executable, "-m", "printkiosk", "backend", "enrolment-key",
         "--config", str(data_dir / "backend.toml")],
        capture_output=True, text=True, timeout=60, check=False)
    found = re.search(r"\b[A-Za-z0-9_-]{40,}\b", result.stdout)
    if result.returncode != 0 or found is None:
        print(f"demo: no demo enrolment key ({(result.stderr or result.stdout).strip()[-200:]})",
              file=sys.stderr)
        return None
    return found.group(0)


# OctoPrint's virtual printer sleeps a tenth of each move's duration: the demo cube
# (about 580 s of moves in 800 lines, backend.demo) takes about 32 s on its own. The
# throttle's sleep after each move line sent overlaps that (measured: 0.04 s changes
# nothing), so it sets the pace once longer: 0.075 s x 800 lines, about a minute.
DEMO_3D_THROTTLE_S = 0.075


def demo_kiosk_3d_config(port: int, data_dir: Path, octoprint: OctoPrintInstance,
                         language: str = "en") -> KioskConfig:
    """The shipped ``config/kiosk-3d.toml`` pointed at the demo's backend and OctoPrint.

    Only what must differ on a demo machine changes: the simulated reader, a window, the
    demo's 3D printer group, and OctoPrint's URL with its API key in a 0600 file of the
    demo's data folder."""
    import tomllib

    from backend.demo import DEMO_PRINT3D_GROUP
    from terminal.config import parse_kiosk_config

    data = tomllib.loads((REPO_CONFIG / "kiosk-3d.toml").read_text(encoding="utf-8"))
    data["backend"]["url"] = f"http://127.0.0.1:{port}"
    data["terminal"]["language"] = language
    data["card_reader"] = {"type": "simulated", "debounce_s": 0.0}
    data["offline"]["state_dir"] = str(data_dir / "kiosk-3d")
    data["display"]["fullscreen"] = False
    key_file = octoprint.write_key_file(data_dir / "octoprint-api-key")
    printer = data["printer"]
    printer.pop("moonraker", None)
    printer["group"] = DEMO_PRINT3D_GROUP
    printer["poll_s"] = 1.0
    printer["octoprint"] = {"url": octoprint.url, "api_key_file": str(key_file)}
    return parse_kiosk_config(data, "kiosk-3d.toml (demo)")


def run_3d(args: argparse.Namespace, port: int, data_dir: Path) -> int:
    """The 3D demo: OctoPrint and the 3D kiosk, against the demo backend already up."""
    from backend.demo import DEMO_TERMINAL_TOKEN
    from kiosk.run import ConfigTerminals, run_kiosk
    from printkiosk.commands.octoprint_peer import PeerStartError, start_octoprint
    from terminal.wiring import build_terminal

    try:
        octoprint = start_octoprint(data_dir / "octoprint", throttle=DEMO_3D_THROTTLE_S)
    except PeerStartError as exc:
        print(f"demo --3d: OctoPrint did not start: {exc}", file=sys.stderr)
        return 1
    print(f"demo: OctoPrint with its virtual printer at {octoprint.url} "
          f"({octoprint.base_dir})", file=sys.stderr)
    try:
        config = demo_kiosk_3d_config(port, data_dir, octoprint, args.language)
        run_kiosk(ConfigTerminals(lambda: build_terminal(
            config, DEMO_TERMINAL_TOKEN, demo_cards=demo_cards(),
            demo_vouchers=lambda: demo_vouchers(data_dir))))
    finally:
        octoprint.stop()
    return 0


def web_pages_hint(base_url: str) -> str:
    """Where the demo's web pages are and the accounts that open them (all public)."""
    from backend.demo_web import DEMO_STAFF, demo_user_password

    staff = ", ".join(f"{who.username} / {who.password} ({who.role})" for who in DEMO_STAFF)
    return (f"demo: web pages at {base_url}/ -- staff sign-in {base_url}/login: {staff}; "
            f"a user's own page {base_url}/me: alice / {demo_user_password('alice')} "
            "(also bob, carol)")


def run(args: argparse.Namespace) -> int:
    from kiosk.run import run_kiosk
    from printkiosk.commands.demo_mail import mails_line, start_demo_mailbox
    from printkiosk.commands.demo_snmp import start_demo_snmp_or_none

    signal.signal(signal.SIGTERM, _exit_on_sigterm)
    port = args.port or free_port()
    data_dir = prepare_demo_data(args.reset)
    lan = lan_address() if args.lan else None
    if lan:
        print(f"demo: --lan: the backend listens on every interface; phones pay top-ups at "
              f"http://{lan}:{port}/pay/... (anyone on this network can reach the demo, "
              "whose terminal token is public)", file=sys.stderr)
    mailbox = start_demo_mailbox(data_dir / "mail")
    print(mails_line(mailbox), file=sys.stderr)
    try:
        backend = start_demo_backend(port, data_dir, lan=lan,
                                     notifications=mailbox.notifications_toml(), history=True)
    except BaseException:
        mailbox.close()
        raise
    print(web_pages_hint(f"http://{lan or '127.0.0.1'}:{port}"), file=sys.stderr)
    printer: DemoPrinter | None = None
    snmp: DemoSnmpAgent | None = None
    try:
        if getattr(args, "print3d", False):
            return run_3d(args, port, data_dir)
        printer = start_demo_printer_or_none(data_dir)
        snmp = start_demo_snmp_or_none(data_dir / "snmp")
        path = write_demo_kiosk_file(port, data_dir, printer, args.language, snmp)
        print(f"demo: the kiosk runs from {path} (technician mode: card 1009, tess / "
              f"9012, or the local PIN {DEMO_LOCAL_PIN})", file=sys.stderr)
        key = demo_enrolment_key(data_dir)
        run_kiosk(demo_factory(path, data_dir, demo_cards()), demo_enrolment_key=lambda: key)
    except KeyboardInterrupt:
        return 130  # Ctrl-C is the usual way to stop the demo: no traceback
    finally:
        if snmp is not None:
            snmp.close()
        if printer is not None:
            printer.close()
        stop_demo_backend(backend)
        mailbox.close()
    return 0
