"""Build a running terminal from its configuration: the one place that picks adapters.

Only this module imports ``drivers``; everything else in the terminal speaks to the
ports of :mod:`terminal.ports`. Construction (sockets, devices, threads) happens here
and nowhere at import time.
"""

from __future__ import annotations

import dataclasses
import logging
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from pydantic import ValidationError

from analysis import (
    DocumentAnalysis,
    FallbackRule,
    analyse_isolated,
    analyse_or_fall_back,
    analysis_from_counts,
    fallback_analysis,
)
from analysis.errors import DocumentAnalysisError
from billing import ConfigError as PriceListError
from billing import load_price_list
from drivers.cards import (
    CardConfigError,
    SimulatedCardReader,
    WedgeCardReader,
    derive_rule,
    reader_from_config,
)
from drivers.cups import CupsError, CupsHoldQueue
from drivers.cups.hold_queue import DEFAULT_SPOOL
from drivers.printers3d import MoonrakerClient, OctoPrintClient, PrinterServerError
from drivers.qr import Modules, qr_modules
from drivers.receipt import (
    ReceiptError,
    ReceiptTargetError,
    check_profile,
    draws_qr_codes,
    parse_target,
    probe_receipt_printer,
)
from drivers.snmp import CommunityAuth, SnmpTarget, SnmpVersion, UsmAuth
from terminal.adapters import (
    CheckingCardReader,
    CupsSpoolQueue,
    EscposReceiptPrinter,
    HttpAnalysisReporter,
    KioskHoldQueue,
    MoonrakerPrinter,
    OctoPrintPrinter,
    SnmpPrinter,
    WedgeCodeScanner,
    snmp_probe,
)
from terminal.backend_client import HttpBackend
from terminal.charges import ChargeBook, OutboxDrainer
from terminal.config import (
    ConfigError,
    KioskConfig,
    PricingSection,
    ReceiptSection,
    SnmpSection,
    Table,
    parse_kiosk_config,
    read_printer3d_api_key,
    read_snmp_v3_keys,
    read_toml,
    snmp_cross_problems,
)
from terminal.config_store import restore_previous, write_atomic
from terminal.http_answers import load_token
from terminal.jobs import BillingPricer, JobService, UserPricer
from terminal.offline import OfflineCache, OfflinePolicy, load_or_create_key
from terminal.outbox import Outbox
from terminal.ports import (
    Balance,
    CardReader,
    CodeScanner,
    DemoCard,
    Print3DJobs,
    ReceiptPrinter,
    ThreeDPrinter,
)
from terminal.print3d import Print3DDesk
from terminal.print3d_follow import Print3DFollower
from terminal.print3d_record import PrintRecordStore
from terminal.print3d_values import ProfileOf, gcode_profile
from terminal.release import ReleaseWorkflow
from terminal.reporting import Reporter, ReportingLoop, ReportSchedule
from terminal.session import SessionController
from terminal.spool_agent import ReportJournal, SpoolAgent, SpoolAgentConfig
from terminal.spool_purge import SpoolPurger
from terminal.technician import DeskDevices, TechnicianBackend, TechnicianMode, install_log_ring
from terminal.technician_pin import LocalPin, read_pin_file
from terminal.technician_settings import as_text
from terminal.technician_types import TECHNICIAN_ROLE
from terminal.topups import TopUpDesk
from terminal.vouchers import VoucherDesk

_log = logging.getLogger(__name__)
TOKEN_ENV = "PRINTKIOSK_TERMINAL_TOKEN"  # noqa: S105 - a variable name, not a secret


@dataclass
class Terminal:
    """A terminal core ready for a UI: its configuration, session controller and reader."""

    config: KioskConfig
    session: SessionController
    backend: HttpBackend
    executor: ThreadPoolExecutor
    card_reader: CardReader
    # Set when the reader is the simulated one: numbers typed on screen go through it
    # (and so through the same normalisation and debounce as a real read).
    typed_card: Callable[[str], None] | None = None
    demo_cards: list[DemoCard] = field(default_factory=list)
    # the demo's redeemable voucher codes, shown on its idle screen: asked again each time
    # the idle screen is shown, so that a code just redeemed is not offered again
    demo_vouchers: Callable[[], list[str]] | None = None
    # Redeeming vouchers (always online); the grabbed 2D scanner, when configured: the
    # UI starts it with the voucher screen's callback, close() stops it.
    vouchers: VoucherDesk | None = None
    voucher_scanner: CodeScanner | None = None
    # Topping up with a payment QR code (always online, like vouchers); the QR's modules
    # for the kiosk to draw (the kiosk may not import drivers)
    topups: TopUpDesk | None = None
    qr_modules: Callable[[str], Modules] = field(default=qr_modules)
    # Held jobs and their release; None on a kiosk with no print queue.
    jobs: JobService | None = None
    release: ReleaseWorkflow | None = None
    # The durable money path: every hold/capture/void journalled before it is sent.
    charges: ChargeBook | None = None
    drainer: OutboxDrainer | None = None
    offline_cache: OfflineCache | None = None
    reporting: ReportingLoop | None = None
    # Purges held jobs nobody released (their documents) after [printer] spool_max_age_h.
    purger: SpoolPurger | None = None
    # The [receipt] printer; None when the kiosk file has none (no "Print receipt").
    receipt_printer: ReceiptPrinter | None = None
    # The settling of what a previous run left (set by start): its keys when done.
    recovery: Future[list[str]] | None = field(default=None, init=False, repr=False)
    _started: bool = field(default=False, init=False, repr=False)
    # Job listing and release get their own workers: a release followed for minutes
    # must never delay the next badge's identification on ``executor``.
    jobs_executor: ThreadPoolExecutor = field(
        default_factory=lambda: ThreadPoolExecutor(max_workers=2, thread_name_prefix="jobs")
    )
    # A 3D kiosk's listing and release, and the follower of its one print.
    print3d: Print3DDesk | None = None
    follower: Print3DFollower | None = None
    # what stops the 3D printer adapter's own threads (OctoPrint's event channel)
    close_printer3d: Callable[[], None] | None = None
    # The technician desk over the kiosk file this terminal was built from (None when
    # built from a configuration alone), and the factory that restarts it after a change.
    technician: TechnicianMode | None = None
    factory: TerminalFactory | None = None

    def start(self) -> None:
        self._started = True
        if self.drainer is not None:
            self.drainer.start()  # sends what a previous run journalled and did not send
        if self.release is not None and self.charges is not None:
            # holds a previous run left open, read before anyone can release again; jobs
            # still printing are followed to their end, so this runs in the background
            self.recovery = self.jobs_executor.submit(
                self.release.recover, self.charges.unsettled())
        if self.print3d is not None and self.follower is not None and self.charges is not None:
            # the open 3D hold a previous run left is followed again (or settled) before
            # anyone can release; then the follower polls the printer on its own thread
            desk, follower, holds = self.print3d, self.follower, self.charges.unsettled()

            def take_up() -> list[str]:
                desk.recover(holds)
                follower.start()
                return []

            self.recovery = self.jobs_executor.submit(take_up)
        if self.reporting is not None:
            self.reporting.start()
        if self.purger is not None:
            self.purger.start()
        self.card_reader.start(self.session.present_card)

    def close(self) -> None:
        if self.release is not None:
            self.release.closing.set()  # a followed job is left to the next start
        self.card_reader.stop()
        if self.voucher_scanner is not None:
            self.voucher_scanner.stop()
        if self.reporting is not None and self._started:
            self.reporting.stop()
        if self.purger is not None and self._started:
            self.purger.stop()
        self.executor.shutdown(wait=False, cancel_futures=True)
        self.jobs_executor.shutdown(wait=False, cancel_futures=True)
        if self.follower is not None and self._started:
            self.follower.stop()  # the print's record stays for the next start
        if self.close_printer3d is not None:
            self.close_printer3d()
        if self.drainer is not None and self._started:
            self.drainer.stop()
        if self.recovery is not None:  # let a settlement in flight reach the journal
            wait([self.recovery], timeout=5.0)
        if self.charges is not None:
            self.charges.outbox.close()
        if self.offline_cache is not None:
            self.offline_cache.close()
        self.backend.close()


def build_card_reader(config: KioskConfig, file_label: str = "kiosk.toml") -> CheckingCardReader:
    """The configured reader, not started, with the technician's card check; its table
    is checked by the reader library."""
    try:
        return CheckingCardReader(reader_from_config(config.card_reader))
    except CardConfigError as exc:
        raise ConfigError([f"{file_label}: {exc}"]) from exc


def build_voucher_scanner(config: KioskConfig) -> CodeScanner | None:
    """The grabbed 2D scanner of ``[voucher_scanner]``, not started; None without one."""
    section = config.voucher_scanner
    if section is None:
        return None
    return WedgeCodeScanner(WedgeCardReader(section.device, terminator=section.terminator,
                                            pause_s=section.pause_s, debounce_s=0.0))


def terminal_token(config: KioskConfig) -> str:
    """The per-terminal token: from the environment, else from the 0600 secrets file."""
    return load_token(TOKEN_ENV, config.backend.token_file, "backend.token_file")


def load_checked_config(path: Path) -> KioskConfig:
    """Load a kiosk file and check the parts only the device libraries can judge."""
    config, problems = check_kiosk_file(path)
    if config is None or problems:
        raise ConfigError(problems)
    return config


def check_kiosk_file(path: Path) -> tuple[KioskConfig | None, list[str]]:
    """The file's configuration (None if invalid) and every problem of it, in one pass:
    its keys (types, ranges, across keys), then what it refers to -- the card reader's
    table and files, the price list, the SNMPv3 keys -- each checked as far as its own
    section is valid, even when another section is not."""
    try:
        data = read_toml(path)
    except ConfigError as exc:
        return None, exc.problems
    problems: list[str] = []
    config: KioskConfig | None = None
    try:
        config = parse_kiosk_config(data, path.name)
    except ConfigError as exc:
        problems.extend(exc.problems)
    partial = config if config is not None else _valid_sections(data)
    checks: list[Callable[[], object]] = [
        lambda: reader_from_config(data.get("card_reader", {"type": "simulated"})),
        lambda: partial.pricing is None or load_pricer(partial, path.name),
        lambda: partial.printer is None or snmp_target(partial, path.name),
    ]
    for check in checks:
        try:
            check()
        except CardConfigError as exc:
            problems.append(f"{path.name}: {exc}")
        except ConfigError as exc:
            problems.extend(exc.problems)
    receipt = data.get("receipt")
    if isinstance(receipt, Mapping):  # judged even when another of its keys is bad
        problems.extend(receipt_problems(receipt.get("target"), receipt.get("profile"),
                                         path.name))
    problems.extend(local_pin_problems(data.get("technician"), path.name))
    return (config if not problems else None), problems


def local_pin_problems(technician: object, file_label: str) -> list[str]:
    """What is wrong with the local technician PIN file a ``[technician]`` table names:
    readable by others (refused like the token file) or not a PIN hash. A file not
    written yet is no problem here (the entry answers ``no_local_pin``; doctor warns)."""
    if not isinstance(technician, Mapping):
        return []
    name = technician.get("local_pin_file")
    if not isinstance(name, str) or not name.strip() or not Path(name).exists():
        return []
    try:
        read_pin_file(Path(name))
    except ConfigError as exc:
        return [f"{file_label}: technician.local_pin_file: {p}" for p in exc.problems]
    return []


def _valid_sections(data: Mapping[str, Any]) -> Any:
    """Each section of the file that is valid on its own (None for the others), so that the
    files a valid section names are checked although another section is not valid."""
    def section(model: type[Table], table: object) -> Any:
        try:
            return model.model_validate(table if table is not None else {})
        except ValidationError:
            return None

    printer = data.get("printer")
    snmp = section(SnmpSection, printer.get("snmp") if isinstance(printer, Mapping) else None)
    if snmp_cross_problems(data, ""):
        snmp = None  # its keys contradict each other: already reported, nothing to poll
    return SimpleNamespace(
        pricing=section(PricingSection, data.get("pricing")),
        printer=None if snmp is None else SimpleNamespace(snmp=snmp),
    )


def snmp_target(config: KioskConfig, file_label: str = "kiosk.toml") -> SnmpTarget | None:
    """The printer's SNMP agent and credentials, or None when SNMP is off. SNMPv3 reads
    its keys here (environment or the 0600 keys file): a missing key stops the kiosk
    with the reason instead of silently counting impressions."""
    snmp = config.printer.snmp
    if not snmp.enabled:
        return None
    auth: CommunityAuth | UsmAuth
    if snmp.version == "3":
        if snmp.v3_user is None:
            raise ConfigError([f'{file_label}: printer.snmp.v3_user: is required with '
                               'version = "3"'])
        keys = read_snmp_v3_keys(snmp, file_label)
        auth = UsmAuth(user=snmp.v3_user, auth_key=keys.auth_key, priv_key=keys.priv_key,
                       auth_protocol=snmp.auth_protocol, priv_protocol=snmp.priv_protocol,
                       context_name=snmp.context)
    else:
        version = SnmpVersion.V1 if snmp.version == "1" else SnmpVersion.V2C
        auth = CommunityAuth(snmp.community, version)
    return SnmpTarget(snmp.host, snmp.port, auth, timeout_s=snmp.timeout_s,
                      retries=snmp.retries)


def receipt_problems(target: object, profile: object, file_label: str) -> list[str]:
    """What the printer library says of a [receipt] target and profile (text values
    only: other types are the configuration model's to report). Judged here, by the one
    library that knows its target forms and its printer database, so that a misspelt one
    stops the kiosk (and fails ``printkiosk doctor``) instead of the first receipt."""
    problems = []
    if isinstance(target, str):
        try:
            parse_target(target)
        except ReceiptTargetError as exc:
            problems.append(f"{file_label}: receipt.target: {exc}")
    if profile is None or isinstance(profile, str):
        try:
            check_profile(profile)
        except ReceiptTargetError as exc:
            problems.append(f"{file_label}: receipt.profile: {exc}")
    return problems


def build_receipt_printer(config: KioskConfig,
                          file_label: str = "kiosk.toml") -> EscposReceiptPrinter | None:
    """The [receipt] printer (not opened: it is opened for each receipt), or None when
    the kiosk file has none."""
    section = config.receipt
    if section is None:
        return None
    problems = receipt_problems(section.target, section.profile, file_label)
    if problems:
        raise ConfigError(problems)
    return EscposReceiptPrinter(section.target, profile=section.profile,
                                native_qr=section.native_qr, timeout_s=section.timeout_s)


def receipt_printer_status(section: ReceiptSection) -> tuple[bool, str]:
    """(reachable, what to tell the operator) about a valid [receipt] printer, printing
    nothing: a network or USB printer is opened and closed, a file checked writable."""
    qr = ("QR codes drawn by the printer" if section.native_qr and
          draws_qr_codes(section.profile) else "QR codes sent as images")
    about = f"receipt printer {section.target} (profile {section.profile or 'default'}, {qr})"
    try:
        probe_receipt_printer(section.target, profile=section.profile,
                              timeout_s=section.timeout_s)
    except ReceiptError as exc:
        return False, f"{exc}; receipts cannot be printed until it is fixed"
    return True, f"{about}: reachable"


def _printer3d_clients(
    config: KioskConfig, file_label: str,
) -> OctoPrintClient | MoonrakerClient:
    printer = config.printer
    if printer.kind != "3d" or (printer.octoprint is None and printer.moonraker is None):
        raise ConfigError([f"{file_label}: printer: kind = {printer.kind!r} names no 3D "
                           'printer server (kind = "3d" with [printer.octoprint] or '
                           "[printer.moonraker])"])
    key = read_printer3d_api_key(printer, file_label)
    if printer.octoprint is not None:
        assert key is not None  # read_printer3d_api_key refuses an OctoPrint without one
        return OctoPrintClient(printer.octoprint.url, key, printer.octoprint.timeout_s)
    assert printer.moonraker is not None
    return MoonrakerClient(printer.moonraker.url, key, printer.moonraker.timeout_s)


def build_3d_printer(config: KioskConfig, file_label: str = "kiosk.toml") -> ThreeDPrinter:
    """The kiosk's 3D printer behind its server ([printer.octoprint] or
    [printer.moonraker]); opens nothing until the first call (the OctoPrint adapter's
    event channel starts then). A missing or too open API key file is a ConfigError."""
    client = _printer3d_clients(config, file_label)
    if isinstance(client, OctoPrintClient):
        return OctoPrintPrinter(client)
    return MoonrakerPrinter(client)


def printer3d_status(config: KioskConfig, file_label: str = "kiosk.toml") -> tuple[bool, str]:
    """(reachable, what to tell the operator) about the kiosk's 3D printer server: its
    version and the printer's state, asked once (``printkiosk doctor``). What is wrong
    names the file and the key."""
    try:
        client = _printer3d_clients(config, file_label)
    except ConfigError as exc:
        return False, "; ".join(exc.problems)
    try:
        if isinstance(client, OctoPrintClient):
            version = client.version().get("text", "OctoPrint")
            state = client.job().state
            return True, f"3D printer: {version} at {client.url} answers; printer {state}"
        info = client.server_info()
        status = client.status()
        state = status.print_stats.get("state", "unknown") if status.klippy_ready else \
            f"Klippy {info.get('klippy_state')}"
        return True, (f"3D printer: Moonraker {info.get('moonraker_version')} at {client.url} "
                      f"answers; printer {state}")
    except PrinterServerError as exc:
        server = "octoprint" if isinstance(client, OctoPrintClient) else "moonraker"
        return False, f"{file_label}: printer.{server}.url: the 3D printer's server: {exc}"


def state_dir(config: KioskConfig) -> Path:
    """Where the outbox, offline cache and its key live (``[offline] state_dir``)."""
    if config.offline.state_dir:
        return Path(config.offline.state_dir)
    from platformdirs import user_data_dir

    return Path(user_data_dir("printkiosk")) / "kiosk"


def load_pricer(config: KioskConfig, file_label: str = "kiosk.toml") -> BillingPricer | None:
    """The kiosk's price list (``[pricing] price_list``), or None when none is named."""
    name = config.pricing.price_list
    if name is None:
        return None
    path = Path(name)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(
            [f"{file_label}: pricing.price_list = {name!r}: cannot be read: {exc.strerror}"]
        ) from exc
    try:
        return BillingPricer(load_price_list(text, str(path)))
    except PriceListError as exc:
        problems = [f"{file_label}: pricing.price_list = {name!r}: {p}" for p in exc.problems]
        raise ConfigError(problems) from exc


def build_monitor(config: KioskConfig, file_label: str = "kiosk.toml") -> SnmpPrinter | None:
    target = snmp_target(config, file_label)
    return None if target is None else SnmpPrinter(target)


def _analyse(path: Path | None, reported_pages: int | None) -> DocumentAnalysis:
    """Analyse in a child process (files come from strangers); fall back by rule."""
    rule = FallbackRule()
    if path is None:
        unreachable = DocumentAnalysisError(Path("-"), "document not reachable from the kiosk")
        return fallback_analysis(unreachable, rule, reported_pages)
    return analyse_or_fall_back(path, rule, reported_pages, analyse=analyse_isolated)


def _reported(backend: HttpBackend, job_uuid: str) -> DocumentAnalysis | None:
    """The print server's analysis of a job whose spool file this kiosk cannot read."""
    counts = backend.reported_analysis(job_uuid)
    return None if counts is None else analysis_from_counts(counts, f"job {job_uuid}")


def build_terminal(
    config: KioskConfig,
    token: str,
    demo_cards: list[DemoCard] | None = None,
    file_label: str = "kiosk.toml",
    demo_vouchers: Callable[[], list[str]] | None = None,
    config_path: Path | None = None,
) -> Terminal:
    """A terminal core from a valid configuration, not started; ``config_path`` (the
    kiosk file it came from) gives it its technician desk."""
    card_reader = build_card_reader(config, file_label)
    pricer = load_pricer(config, file_label)
    receipt_printer = build_receipt_printer(config, file_label)  # before opening anything
    printer3d = build_3d_printer(config, file_label) if config.printer.kind == "3d" else None
    backend = HttpBackend(
        config.backend.url,
        token,
        connect_timeout_s=config.backend.connect_timeout_s,
        read_timeout_s=config.backend.read_timeout_s,
        retries=config.backend.retries,
    )
    state = state_dir(config)
    offline_cache = OfflineCache(
        state / "offline.sqlite",
        load_or_create_key(state / "offline.key"),
        max_age_s=config.offline.cache_max_age_h * 3600.0,
    )
    charges = ChargeBook(
        Outbox(state / "outbox.sqlite"),
        backend,
        OfflinePolicy(config.offline.enabled, config.offline.spending_limit),
        offline_cache,
    )
    executor = ThreadPoolExecutor(max_workers=2, thread_name_prefix="terminal")
    session = SessionController(
        backend,
        executor,
        clock=time.monotonic,
        idle_timeout_s=config.terminal.idle_timeout_s,
        warning_s=config.terminal.logout_warning_s,
        offline_cache=offline_cache,
        default_language=config.terminal.language,
        local_pin=LocalPin(Path(config.technician.local_pin_file)
                           if config.technician.local_pin_file else None, state),
    )
    source = getattr(card_reader, "source", None)
    typed = source.present if isinstance(source, SimulatedCardReader) else None
    terminal = Terminal(
        config, session, backend, executor, card_reader, typed, list(demo_cards or []),
        charges=charges, drainer=OutboxDrainer(charges), offline_cache=offline_cache,
        demo_vouchers=demo_vouchers, vouchers=VoucherDesk(backend), topups=TopUpDesk(backend),
        voucher_scanner=build_voucher_scanner(config),
        receipt_printer=receipt_printer,
    )
    # The offline banner follows every call's outcome and the heartbeat's probe.
    backend.on_reachability(lambda up: session.set_offline(not up))
    monitor = build_monitor(config, file_label)
    terminal.reporting = ReportingLoop(
        Reporter(
            charges,
            monitor,
            backend.health,
            ReportSchedule(config.backend.heartbeat_s, config.backend.report_interval_s),
        )
    )
    printer = config.printer
    if printer.kind == "mfp" and printer.queue is not None:
        queue = KioskHoldQueue(CupsHoldQueue(
            printer.queue,
            server=printer.cups_server,
            port=printer.cups_port,
            follow_me_queues=(printer.hold_queue,) if printer.hold_queue else (),
            spool_dir=Path(printer.cups_spool_dir) if printer.cups_spool_dir else DEFAULT_SPOOL,
        ))
        # each user is priced with the list the backend applies to them and their included
        # pages left, as last seen while the backend is away; the configured list (worst
        # case, optional) only for a user never seen, offline
        user_pricer = UserPricer(backend, pricer, offline_cache)
        terminal.jobs = JobService(
            queue, user_pricer, _analyse, reported=lambda uuid: _reported(backend, uuid),
            technician=session.is_technician,
        )
        terminal.release = ReleaseWorkflow(
            terminal.jobs, queue, charges, backend.balance,
            monitor=monitor if printer.snmp.count_pages else None,
            running=session.release_running,
        )
        terminal.purger = SpoolPurger(queue, timedelta(hours=printer.spool_max_age_h))
    if printer3d is not None and printer.group is not None:
        # the backend client is the 3D job store and where 3D settlements are sent
        attach_print3d(terminal, printer3d, backend, printer.group, printer.poll_s,
                       gcode_profile, backend.balance)
        if isinstance(printer3d, OctoPrintPrinter):
            terminal.close_printer3d = printer3d.close
    # technician reports go to the backend's audit log, through the outbox
    charges.use_technician_audit(backend)
    if config_path is not None:
        terminal.technician = build_technician(terminal, config_path, card_reader, backend,
                                               file_label)
    return terminal


def build_technician(terminal: Terminal, config_path: Path, card_reader: CheckingCardReader,
                     backend: TechnicianBackend, file_label: str) -> TechnicianMode:
    """The technician desk of ``terminal``: its devices lent as small callables."""
    config = terminal.config
    printer = config.printer
    target = snmp_target(config, file_label)
    cups: CupsHoldQueue | None = None
    if printer.kind == "mfp" and printer.queue is not None:
        cups = CupsHoldQueue(printer.queue, server=printer.cups_server, port=printer.cups_port)

    def queues() -> list[str]:
        if cups is None:
            return []
        try:
            return cups.queue_names()
        except CupsError as exc:  # the screen still offers the queue the file names
            _log.warning("technician: CUPS queues unavailable: %s", exc)
            return []

    def test_page(document: bytes, title: str) -> int:
        assert cups is not None  # print_test_page asks only a kiosk with a queue
        return cups.print_now(document, title, TECHNICIAN_ROLE)

    devices = DeskDevices(
        snmp_probe=lambda: snmp_probe(target, printer.snmp.host),
        queues=queues, test_page=None if cups is None else test_page,
        cards=card_reader, derive=derive_normalisation)
    return TechnicianMode(config_path, config, check_kiosk_file, terminal.charges, backend,
                          devices, install_log_ring())


def derive_normalisation(pairs: Sequence[tuple[str, str]]) -> tuple[dict[str, str], str]:
    """Every field of the simplest rule mapping the (raw, printed) pairs, as setting
    texts ("" for an unset extract), and its description; ValueError when none fits."""
    derivation = derive_rule(pairs)
    rule = derivation.rule
    texts = {f.name: as_text(getattr(rule, f.name)) for f in dataclasses.fields(rule)}
    return texts, derivation.description


@dataclass(frozen=True)
class RestartFailed:
    """A restart whose new core could not be built or started: the previous kiosk file
    is back, and ``terminal`` is the core rebuilt (and started) from it."""

    problems: tuple[str, ...]
    terminal: Terminal


class TerminalFactory:
    """Builds the terminal core from its kiosk file, and rebuilds it after a change.

    ``token_for`` reads the terminal's token (the environment or the 0600 file);
    ``extras`` are the keyword arguments of :func:`build_terminal` a demo adds (its
    cards and vouchers), passed again at every restart. The factory remembers the file
    as the last core was built from it: that version is known to work, and is what a
    failed restart puts back.
    """

    def __init__(self, config_path: Path,
                 token_for: Callable[[KioskConfig], str] | None = None,
                 extras: Mapping[str, Any] | None = None) -> None:
        self.config_path = config_path
        self._token_for = token_for or terminal_token
        self._extras = dict(extras or {})
        self._built_from: bytes | None = None

    def build(self) -> Terminal:
        """A terminal from the file as it is now, not started (ConfigError if invalid)."""
        raw = self.config_path.read_bytes()
        config = load_checked_config(self.config_path)
        terminal = build_terminal(config, self._token_for(config),
                                  file_label=self.config_path.name,
                                  config_path=self.config_path, **self._extras)
        terminal.factory = self
        self._built_from = raw
        return terminal

    def restart(self, terminal: Terminal) -> Terminal | RestartFailed:
        """Close ``terminal`` and start a new one from the file (a setting applied
        without a reboot). If the new one cannot be built or started -- an invalid
        file, a reader that does not open, a token that cannot be read -- the file the
        closed core ran with is written back (atomically; the one that failed is kept
        as ``.previous``) and a core is started from it. When the file did not change
        since, it is not what failed, and the error is raised."""
        working = self._built_from
        terminal.close()
        try:
            return self._started()
        except Exception as exc:  # whatever the new file breaks, the kiosk must come back
            problems = tuple(exc.problems) if isinstance(exc, ConfigError) else (
                f"{self.config_path.name}: {exc.__class__.__name__}: {exc}",)
            _log.error("restart with %s failed: %s", self.config_path, "; ".join(problems))
            if working is None:
                if not restore_previous(self.config_path):
                    raise
            elif self.config_path.read_bytes() == working:
                raise
            else:
                write_atomic(self.config_path, working, mode=self.config_path.stat().st_mode
                             & 0o777)
            return RestartFailed(problems, self._started())

    def _started(self) -> Terminal:
        terminal = self.build()
        try:
            terminal.start()
        except Exception:
            terminal.close()
            raise
        return terminal


def attach_print3d(
    terminal: Terminal, printer: ThreeDPrinter, jobs: Print3DJobs, group: str,
    poll_s: float, profile_of: ProfileOf, balance_of: Callable[[str], Balance],
) -> None:
    """Give a terminal its 3D release and follower: ``printer`` (the configured server),
    ``jobs`` (the backend's 3D job store, also where the charge book sends settlements),
    the printer group whose jobs it lists, how often the print is followed."""
    charges = terminal.charges
    if charges is None:
        raise ValueError("a 3D kiosk needs its charge book (the outbox) first")
    charges.use_print3d(jobs)
    state = state_dir(terminal.config)
    store = PrintRecordStore(state / "print3d.json")
    follower = Print3DFollower(printer, charges, store, profile_of, poll_s=poll_s)
    terminal.follower = follower
    terminal.print3d = Print3DDesk(jobs, printer, charges, follower, store, profile_of, group,
                                   state / "print3d", balance_of)


def build_spool_agent(config: SpoolAgentConfig, token: str) -> SpoolAgent:
    """The agent from its configuration: CUPS queue, backend reporter, local journal.

    Every watched queue is a hold queue here (a job merely pending in a stopped one
    counts as waiting too), and none is printed to: the agent only reads.
    """
    agent = config.spool_agent
    queue = CupsSpoolQueue(CupsHoldQueue(
        agent.queues[0],
        server=agent.cups_server,
        port=agent.cups_port,
        follow_me_queues=agent.queues,
        spool_dir=Path(agent.spool_dir),
        check_device=False,
    ))
    reporter = HttpAnalysisReporter(
        config.backend.url,
        token,
        connect_timeout_s=config.backend.connect_timeout_s,
        read_timeout_s=config.backend.read_timeout_s,
    )
    journal = ReportJournal(Path(agent.state_dir) / "reports.sqlite")
    return SpoolAgent(queue, reporter, journal, config.fallback.rule(),
                      analyse=config.analysis.analyser())
