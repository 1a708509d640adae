"""What the technician mode shows and answers: the values shared by the terminal's
technician desk (``terminal.technician``), the backend client and the kiosk's screens.

They live apart from ``terminal.ports`` because they are answers the UI renders, not
ports an adapter implements; each names its failure with a stable ``code`` the kiosk
translates, and keeps the foreign detail (a validator's line, an SNMP error) in
``detail`` for the technician to read as is.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal, Protocol

TECHNICIAN_ROLE = "technician"
# the technician a local-PIN entry stands for: the backend could not say who it was
LOCAL_TECHNICIAN = "local-technician"

EntryWay = Literal["card", "pin", "local_pin"]
SettingKind = Literal["text", "choice", "number", "toggle", "secret"]


@dataclass(frozen=True)
class Technician:
    """Who is in technician mode, and how they got in (audited with every change)."""

    username: str
    display_name: str
    via: EntryWay


@dataclass(frozen=True)
class TechnicianRefusal:
    """Why an entry was refused: ``code`` is one of ``pin_invalid``, ``pin_locked``,
    ``not_a_technician``, ``backend_unavailable``, ``no_local_pin``; ``retry_after_s``
    is set while locked."""

    code: str
    retry_after_s: int | None = None


@dataclass(frozen=True)
class SettingSpec:
    """One setting of the kiosk file the technician may change.

    ``key`` is its dotted path in the TOML file (``printer.snmp.host``); ``label`` and
    ``help`` are English msgids the kiosk translates; ``group`` is the section it is
    shown under (``printer``, ``snmp``, ``backend``, ``terminal``, ``card_reader``).
    A ``choice`` lists ``choices`` (or asks the desk for them when ``dynamic``: the CUPS
    queues, for instance); a ``number`` has ``minimum``/``maximum``/``step``; a
    ``secret`` is never shown back, only whether it is set.
    """

    key: str
    label: str
    group: str
    kind: SettingKind
    help: str = ""
    choices: tuple[str, ...] = ()
    dynamic: bool = False
    minimum: float | None = None
    maximum: float | None = None
    step: float | None = None


@dataclass(frozen=True)
class SettingValue:
    """A setting with its value as the file has it now, as text ("" when unset;
    ``"set"``/``""`` for a secret)."""

    spec: SettingSpec
    value: str


@dataclass(frozen=True)
class Saved:
    """A change written and kept: each ``(key, old, new)`` (secrets masked), and whether
    the terminal core must restart to apply it (always, today)."""

    changes: tuple[tuple[str, str, str], ...]
    restart: bool = True


@dataclass(frozen=True)
class SaveRefused:
    """A change not written, the file untouched: one line per problem, from the same
    validators as ``printkiosk doctor`` (English, they name the key and the value)."""

    problems: tuple[str, ...]


@dataclass(frozen=True)
class CardCheck:
    """One card badged during the reader check: as the reader gave it and as the
    kiosk's normalisation turns it into the number the backend looks up."""

    raw: str
    normalised: str
    error: str | None = None


@dataclass(frozen=True)
class SupplyLevel:
    name: str
    percent: int | None  # None: the printer does not say
    state: str = "ok"  # ok | low | empty | unknown


@dataclass(frozen=True)
class SnmpProbe:
    """The printer as SNMP reports it now; ``code`` is set when it could not be read
    (``snmp_disabled``, ``snmp_unreachable``) with the driver's words in ``detail``."""

    host: str
    code: str | None = None
    detail: str = ""
    status: str = ""
    counters: tuple[tuple[str, int], ...] = ()
    supplies: tuple[SupplyLevel, ...] = ()
    alerts: tuple[str, ...] = ()


@dataclass(frozen=True)
class TestPageResult:
    """A technician test page sent to the kiosk's queue (never charged)."""

    code: str | None = None  # None when sent; else printer_unavailable, ...
    detail: str = ""
    job_id: int | None = None
    queue: str = ""


@dataclass(frozen=True)
class BackendCheck:
    url: str
    reachable: bool
    latency_ms: float | None = None
    clock_skew_s: float | None = None  # backend clock minus ours
    token_valid: bool | None = None  # None: could not tell (unreachable)
    terminal_name: str | None = None
    detail: str = ""


@dataclass(frozen=True)
class OutboxStatus:
    pending: int
    oldest_at: datetime | None = None
    last_drain_at: datetime | None = None
    last_error: str | None = None


@dataclass(frozen=True)
class EnrolResult:
    """An enrolment with a one-time key: ``code`` None when the token is written."""

    code: str | None = None  # enrolment_key_invalid | enrolment_key_used | backend_unavailable
    terminal_id: str | None = None
    detail: str = ""


@dataclass(frozen=True)
class TechnicianReport:
    """One technician action for the backend's audit log, journalled in the outbox so
    that a change made offline (local PIN) still reaches it; ``key`` makes it idempotent."""

    key: str
    technician: str
    via: EntryWay
    action: str  # settings.change | settings.restore | enrolment | test_page | reboot ...
    details: dict[str, object] = field(default_factory=dict)
    at: datetime | None = None


class TechnicianDesk(Protocol):
    """What the kiosk's technician screens call (``terminal.technician`` implements it).

    Every method may block (files, CUPS, SNMP, the backend): the kiosk calls them off
    the Kivy thread. Entering is not here: a technician card or username + PIN goes
    through the session controller like any login (an account with the ``technician``
    role gives ``SessionState.TECHNICIAN``), and so does the offline local PIN
    (``SessionController.enter_local_technician``).
    """

    def settings(self) -> list[SettingValue]: ...

    def choices(self, key: str) -> list[str]: ...

    def save(self, technician: Technician, changes: Mapping[str, str]) -> Saved | SaveRefused: ...

    def can_restore(self) -> bool: ...

    def restore_previous(self, technician: Technician) -> Saved | SaveRefused: ...

    def enrol(self, technician: Technician, enrolment_key: str) -> EnrolResult: ...

    def watch_cards(self, on_card: Callable[[CardCheck], None]) -> Callable[[], None]: ...

    def probe_snmp(self) -> SnmpProbe: ...

    def print_test_page(self, technician: Technician) -> TestPageResult: ...

    def check_backend(self) -> BackendCheck: ...

    def outbox_status(self) -> OutboxStatus: ...

    def drain_now(self) -> OutboxStatus: ...

    def log_lines(self, limit: int = 200) -> list[str]: ...

    def reboot(self, technician: Technician) -> str | None: ...
