"""The technician desk: the settings and checks the kiosk's technician screens call.

:class:`TechnicianMode` implements :class:`terminal.technician_types.TechnicianDesk`
over the kiosk file on disk (the one source of truth: a change is validated with
doctor's own check and written atomically, the previous version kept for *Restore
previous*) and the devices the wiring gives it as small callables (the SNMP probe, the
CUPS test page, the CUPS queues, the card check's tap, the rule derivation), so that
this module needs no driver. Every action is journalled in the outbox as a technician
report for the backend's audit log: a change made offline, with the local PIN, reaches
the audit when the backend is back.
"""

from __future__ import annotations

import logging
import subprocess
import threading
import time
import tomllib
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

import tomlkit

from terminal.charges import ChargeBook
from terminal.config import ConfigError, KioskConfig, read_secret, read_toml
from terminal.config_store import previous_path, restore_previous, write_atomic
from terminal.outbox import EntryState
from terminal.ports import BackendRejected, BackendUnavailable
from terminal.technician_settings import (
    CATALOGUE,
    NORMALISE,
    SECRET_SHOWN,
    SNMP_KEYS,
    KioskCheck,
    as_text,
    edited,
    is_known,
    is_secret,
    keys_text,
    lookup,
    validate,
)
from terminal.technician_types import (
    BackendCheck,
    CardCheck,
    EnrolResult,
    OutboxStatus,
    Saved,
    SaveRefused,
    SettingValue,
    SnmpProbe,
    Technician,
    TechnicianReport,
    TestPageResult,
)

_log = logging.getLogger(__name__)
LOG_LINES = 200


class TerminalStatusLike(Protocol):
    @property
    def name(self) -> str: ...

    @property
    def server_time(self) -> datetime: ...


class TechnicianBackend(Protocol):
    """What the desk asks the backend (terminal.backend_client.HttpBackend)."""

    def terminal_status(self) -> TerminalStatusLike: ...

    def enrol_terminal(self, enrolment_key: str, name: str) -> tuple[str, str]: ...

    def report_technician(self, report: TechnicianReport) -> None: ...


class CardTap(Protocol):
    """The card reader's check mode: while watched, reads go to ``on_check`` (raw and
    normalised) instead of the session."""

    def watch(self, on_check: Callable[[CardCheck], None]) -> Callable[[], None]: ...


class LogRing(logging.Handler):
    """The last :data:`LOG_LINES` formatted log lines, for the technician's log view."""

    def __init__(self, size: int = LOG_LINES) -> None:
        super().__init__(logging.INFO)
        self.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        self._lines: deque[str] = deque(maxlen=size)
        self._guard = threading.Lock()

    def emit(self, record: logging.LogRecord) -> None:
        try:
            line = self.format(record)
        except Exception:  # a bad log call must never break the caller
            self.handleError(record)
            return
        with self._guard:
            self._lines.append(line)

    def lines(self, limit: int = LOG_LINES) -> list[str]:
        with self._guard:
            return list(self._lines)[-limit:] if limit > 0 else []


_RING: LogRing | None = None
_RING_LOCK = threading.Lock()


def install_log_ring() -> LogRing:
    """The root logger's ring buffer, installed once per process (kiosk start)."""
    global _RING
    with _RING_LOCK:
        if _RING is None:
            _RING = LogRing()
            root = logging.getLogger()
            if not root.handlers:
                # what logging's last resort did (warnings to stderr, so to journald):
                # once the ring is a handler, the last resort is no longer used
                stderr = logging.StreamHandler()
                stderr.setLevel(logging.WARNING)
                root.addHandler(stderr)
            root.addHandler(_RING)
            if root.level > logging.INFO or root.level == logging.NOTSET:
                root.setLevel(logging.INFO)  # the ring keeps INFO lines too
        return _RING


Derive = Callable[[Sequence[tuple[str, str]]], tuple[dict[str, str], str]]


@dataclass
class DeskDevices:
    """The devices and peers the wiring lends the desk; None where the kiosk has none."""

    snmp_probe: Callable[[], SnmpProbe]
    queues: Callable[[], list[str]] | None = None
    # sends a PDF to the kiosk's queue as the technician, never held: the CUPS job id
    test_page: Callable[[bytes, str], int] | None = None
    cards: CardTap | None = None
    derive: Derive | None = None
    run: Callable[[list[str]], object] = field(
        default=lambda argv: subprocess.Popen(argv))


class TechnicianMode:
    """The :class:`~terminal.technician_types.TechnicianDesk` of one running terminal."""

    def __init__(self, config_path: Path, config: KioskConfig, check: KioskCheck,
                 charges: ChargeBook | None, backend: TechnicianBackend,
                 devices: DeskDevices, logs: LogRing | None = None,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._path = config_path
        self._config = config
        self._check = check
        self._charges = charges
        self._backend = backend
        self._devices = devices
        self._logs = logs
        self._clock = clock
        self._write_lock = threading.Lock()

    # --- settings ------------------------------------------------------------------

    def settings(self) -> list[SettingValue]:
        data = self._current()
        keys_file = lookup(data, "printer.snmp.keys_file")
        keys = self._keys(Path(keys_file)) if isinstance(keys_file, str) else {}
        return [SettingValue(spec, self._shown(spec.key, keys.get(spec.key)
                                               if spec.key in SNMP_KEYS
                                               else lookup(data, spec.key)))
                for spec in CATALOGUE]

    def choices(self, key: str) -> list[str]:
        spec = next((s for s in CATALOGUE if s.key == key), None)
        if spec is None:
            raise KeyError(f"{key} is not a technician setting")
        if not spec.dynamic:
            return list(spec.choices)
        found = [] if self._devices.queues is None else self._devices.queues()
        current = as_text(lookup(self._current(), key))
        if current and current not in found:  # CUPS away, or a queue it lost
            found = [current, *found]
        return ([""] if key == "printer.hold_queue" else []) + found

    def save(self, technician: Technician, changes: Mapping[str, str]) -> Saved | SaveRefused:
        """Validate and write ``changes`` (key -> text); a key whose value is already
        the file's is no change. Nothing changed: nothing written, no restart. The
        SNMPv3 keys go to ``printer.snmp.keys_file`` (0600), never to the kiosk file."""
        unknown = [key for key in changes if not is_known(key)]
        if unknown:
            return SaveRefused(tuple(f"{key}: is not a setting technician mode can change"
                                     for key in unknown))
        in_file = {key: text for key, text in changes.items() if key not in SNMP_KEYS}
        with self._write_lock:
            text = self._path.read_text(encoding="utf-8")
            before = self._current()
            document = edited(text, in_file)
            after = document.unwrap()
            changed = [key for key in in_file if lookup(before, key) != lookup(after, key)]
            keys = self._new_keys(after, {k: t for k, t in changes.items() if k in SNMP_KEYS})
            if isinstance(keys, SaveRefused):
                return keys
            old_keys, new_keys, keys_file = keys
            changed += [key for key in SNMP_KEYS if old_keys.get(key) != new_keys.get(key)]
            if not changed:
                return Saved((), restart=False)
            keys_written = None if new_keys == old_keys or keys_file is None else (
                keys_file, keys_text(new_keys["printer.snmp.auth_key"],
                                     new_keys["printer.snmp.priv_key"]))
            problems = validate(self._path, document, self._check, keys_written)
            if problems:
                return SaveRefused(tuple(problems))
            if keys_written is not None:
                write_atomic(keys_written[0], keys_written[1], mode=0o600)
            if any(key not in SNMP_KEYS for key in changed):
                write_atomic(self._path, document.as_string(), mode=self._mode())
        listed = tuple((key, self._shown(key, old_keys.get(key), masked=True),
                        self._shown(key, new_keys.get(key), masked=True)) if key in SNMP_KEYS
                       else self._listed([key], before, after)[0] for key in changed)
        self._journal(technician, "settings.change",
                      {"changes": [list(change) for change in listed]})
        return Saved(listed)

    def _new_keys(self, after: Mapping[str, Any], changes: Mapping[str, str]) -> tuple[
        dict[str, str], dict[str, str], Path | None
    ] | SaveRefused:
        """(the keys now, the keys after ``changes``, the keys file) by setting key."""
        name = lookup(after, "printer.snmp.keys_file")
        if not isinstance(name, str):
            if changes:
                return SaveRefused((f"{self._path.name}: printer.snmp.keys_file: not set: "
                                    "the SNMPv3 keys are kept in the 0600 file it names, "
                                    "never in the kiosk file",))
            return {}, {}, None
        current = self._keys(Path(name))
        return current, {**current, **{key: text.strip() for key, text in changes.items()}}, \
            Path(name)

    @staticmethod
    def _keys(path: Path) -> dict[str, str]:
        """The SNMPv3 keys file's keys by setting key ({} when unreadable)."""
        try:
            data = tomllib.loads(read_secret(path))
        except (ConfigError, OSError, ValueError):
            return {}
        return {key: data[name] for key, name in SNMP_KEYS.items()
                if isinstance(data.get(name), str)}

    def can_restore(self) -> bool:
        return previous_path(self._path).exists()

    def restore_previous(self, technician: Technician) -> Saved | SaveRefused:
        """Swap the version before the last write back in, after the same check as a
        change (under the file's own name); the current one becomes the previous."""
        previous = previous_path(self._path)
        with self._write_lock:
            if not previous.exists():
                return SaveRefused((f"{previous.name}: there is no previous version to "
                                    "restore",))
            before = self._current()
            try:
                document = tomlkit.parse(previous.read_text(encoding="utf-8"))
            except (OSError, ValueError) as exc:
                return SaveRefused((f"{previous.name}: cannot be read: {exc}",))
            problems = validate(self._path, document, self._check)
            if problems:
                return SaveRefused(tuple(problems))
            restore_previous(self._path)
        after = document.unwrap()
        changed = [spec.key for spec in CATALOGUE
                   if lookup(before, spec.key) != lookup(after, spec.key)]
        listed = self._listed(changed, before, after)
        self._journal(technician, "settings.restore",
                      {"changes": [list(change) for change in listed]})
        return Saved(listed)

    def _listed(self, keys: Sequence[str], before: Mapping[str, Any],
                after: Mapping[str, Any]) -> tuple[tuple[str, str, str], ...]:
        return tuple((key, self._shown(key, lookup(before, key), masked=True),
                      self._shown(key, lookup(after, key), masked=True)) for key in keys)

    def enrol(self, technician: Technician, enrolment_key: str) -> EnrolResult:
        token_file = self._config.backend.token_file
        if token_file is None:
            return EnrolResult("no_token_file", detail=f"{self._path.name}: backend.token_file:"
                               " not set: the token would have nowhere to go")
        try:
            terminal_id, token = self._backend.enrol_terminal(enrolment_key,
                                                              self._config.terminal.name)
        except BackendRejected as exc:
            return EnrolResult(exc.code, detail=exc.detail)
        except BackendUnavailable as exc:
            return EnrolResult("backend_unavailable", detail=str(exc))
        # no .previous: a replaced token is of no use and is one more secret on the disk
        write_atomic(Path(token_file), token + "\n", mode=0o600, keep_previous=False)
        self._journal(technician, "enrolment", {"terminal_id": terminal_id})
        return EnrolResult(None, terminal_id=terminal_id)

    def derive_normalisation(self, pairs: Sequence[tuple[str, str]]) -> dict[str, str] | str:
        """The ``card_reader.normalise.*`` settings (every field, for :meth:`save`) of
        the simplest rule mapping each (raw, printed) pair; or why none does."""
        if self._devices.derive is None:
            return "no rule derivation on this kiosk"
        try:
            settings, _description = self._devices.derive(pairs)
        except ValueError as exc:  # too few pairs, an empty side, no rule fits
            return str(exc)
        return {NORMALISE + name: text for name, text in settings.items()}

    # --- checks --------------------------------------------------------------------

    def watch_cards(self, on_card: Callable[[CardCheck], None]) -> Callable[[], None]:
        if self._devices.cards is None:
            return lambda: None
        return self._devices.cards.watch(on_card)

    def probe_snmp(self) -> SnmpProbe:
        return self._devices.snmp_probe()

    def print_test_page(self, technician: Technician) -> TestPageResult:
        queue = self._config.printer.queue
        if self._devices.test_page is None or queue is None:
            return TestPageResult("printer_unavailable", detail="this kiosk has no print queue")
        document = make_test_page(self._config.terminal.name, datetime.now(UTC))
        try:
            job_id = self._devices.test_page(document, "printkiosk test page")
        except Exception as exc:  # the adapter's translated error, shown as is
            _log.warning("test page to %s failed: %s", queue, exc)
            return TestPageResult("printer_unavailable", detail=str(exc), queue=queue)
        self._journal(technician, "test_page", {"queue": queue, "job_id": job_id})
        return TestPageResult(None, job_id=job_id, queue=queue)

    def check_backend(self) -> BackendCheck:
        url = self._config.backend.url
        sent = datetime.now(UTC)
        start = self._clock()
        try:
            status = self._backend.terminal_status()
        except BackendRejected as exc:
            elapsed = (self._clock() - start) * 1000
            invalid = exc.status == 401
            return BackendCheck(url, True, round(elapsed, 1),
                                token_valid=False if invalid else None, detail=exc.code)
        except BackendUnavailable as exc:
            return BackendCheck(url, False, detail=str(exc))
        elapsed_s = self._clock() - start
        midpoint = sent + (datetime.now(UTC) - sent) / 2
        skew = (status.server_time - midpoint).total_seconds()
        return BackendCheck(url, True, round(elapsed_s * 1000, 1), round(skew, 3), True,
                            status.name)

    def outbox_status(self) -> OutboxStatus:
        if self._charges is None:
            return OutboxStatus(0)
        outbox = self._charges.outbox
        pending = outbox.counts()[EntryState.PENDING]
        oldest = outbox.oldest_pending()
        last = self._charges.last_drain
        return OutboxStatus(
            pending,
            None if oldest is None else datetime.fromisoformat(oldest.recorded_at),
            None if last is None else last[0],
            None if oldest is None else oldest.last_error)

    def drain_now(self) -> OutboxStatus:
        if self._charges is not None:
            self._charges.drain()
        return self.outbox_status()

    def log_lines(self, limit: int = LOG_LINES) -> list[str]:
        return [] if self._logs is None else self._logs.lines(limit)

    def reboot(self, technician: Technician) -> str | None:
        command = list(self._config.technician.reboot_command)
        if not command:
            return "reboot_unavailable"
        self._journal(technician, "reboot", {"command": command})
        try:
            self._devices.run(command)
        except OSError as exc:
            _log.error("reboot command %s failed: %s", command, exc)
            return "reboot_unavailable"
        return None

    # --- helpers -------------------------------------------------------------------

    def _current(self) -> dict[str, Any]:
        try:
            return read_toml(self._path)
        except ConfigError:
            return {}

    def _mode(self) -> int:
        try:
            return self._path.stat().st_mode & 0o777
        except OSError:
            return 0o644

    @staticmethod
    def _shown(key: str, value: object, masked: bool = False) -> str:
        if is_secret(key):
            if masked:
                return SECRET_SHOWN if value is not None else ""
            return "set" if value is not None else ""
        return as_text(value)

    def _journal(self, technician: Technician, action: str, details: dict[str, object]) -> None:
        if self._charges is None:
            return
        self._charges.record_technician({
            "technician": technician.username, "via": technician.via, "action": action,
            "details": details, "at": datetime.now(UTC).isoformat()})


def make_test_page(terminal_name: str, moment: datetime) -> bytes:
    """A one-page A4 PDF saying which kiosk printed it and when (no library needed)."""
    def escaped(text: str) -> str:
        safe = text.encode("latin-1", "replace").decode("latin-1")
        return safe.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")

    lines = ["printkiosk test page", f"Terminal: {terminal_name}",
             f"Time: {moment.strftime('%Y-%m-%d %H:%M:%S %Z')}"]
    body = "BT /F1 24 Tf 72 760 Td 30 TL " + " ".join(
        f"({escaped(line)}) '" for line in lines) + " ET"
    stream = body.encode("latin-1")
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] "
        b"/Resources << /Font << /F1 5 0 R >> >> /Contents 4 0 R >>",
        b"<< /Length " + str(len(stream)).encode() + b" >>\nstream\n" + stream
        + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, content in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n".encode() + content + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    for offset in offsets:
        out += f"{offset:010d} 00000 n \n".encode()
    out += (f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n"
            "%%EOF\n").encode()
    return bytes(out)
