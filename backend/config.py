"""The backend configuration file (TOML), validated field by field on load.

Why pydantic with ``extra="forbid"`` and strict types: a typo in a key (``prot = 8470``)
or a quoted number must stop the server at start with a message naming the file, the key,
the bad value and what is allowed, instead of silently falling back to a default.
``printkiosk doctor`` calls :func:`load_backend_config` and prints ``.problems``.
"""

from __future__ import annotations

import os
import re
import tomllib
from decimal import Decimal
from pathlib import Path
from typing import Any, Literal, get_args

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

DEFAULT_PORT = 8470
SECRET_ENV = "PRINTKIOSK_BACKEND_SECRET_KEY"  # noqa: S105 (a variable name, not a secret)


def default_data_dir() -> Path:
    from platformdirs import user_data_dir

    return Path(user_data_dir("printkiosk"))


def default_database_url() -> str:
    return f"sqlite:///{(default_data_dir() / 'backend.sqlite3').as_posix()}"


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class ServerSettings(_Section):
    host: str = Field(default="127.0.0.1", min_length=1)
    port: int = Field(default=DEFAULT_PORT, ge=1, le=65535)
    # The largest request body accepted, refused with 413 before it is parsed. 4 MiB
    # holds the largest legitimate body: a job analysis of 100 000 pages (~3.3 MB).
    max_body_bytes: int = Field(default=4 * 1024 * 1024, ge=1024, le=64 * 1024 * 1024)


class DatabaseSettings(_Section):
    # None means "SQLite file under the user's data directory" (resolved at start).
    url: str | None = None
    pool_size: int = Field(default=10, ge=1, le=200)

    @field_validator("url")
    @classmethod
    def _known_scheme(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("sqlite://", "postgresql")):
            raise ValueError("not a sqlite:/// or postgresql:// URL")
        return value


class SecuritySettings(_Section):
    # The key of the card-number HMAC and token hashes. None: PRINTKIOSK_BACKEND_SECRET_KEY,
    # else a file created (mode 0600) beside the default database.
    secret_key_file: str | None = None
    pin_max_attempts: int = Field(default=5, ge=1, le=100)
    pin_lockout_s: int = Field(default=300, ge=1, le=86400)


class LedgerSettings(_Section):
    currency: str = Field(default="EUR", pattern=r"^[A-Z]{3}$")
    consumption_order: Literal["virtual_first", "personal_first"] = "virtual_first"


class RefillSettings(_Section):
    enabled: bool = True
    check_interval_s: int = Field(default=60, ge=1, le=86400)


class HoldSettings(_Section):
    # Open holds older than this are voided by the server's schedule (a kiosk that died
    # mid-release would otherwise block the user's credit for ever). A release takes
    # minutes; a day leaves a kiosk that was down overnight time to settle its own.
    expire_after_h: int = Field(default=24, ge=1, le=720)
    check_interval_s: int = Field(default=300, ge=1, le=86400)


class SessionSettings(_Section):
    """User sessions at terminals, what a terminal may do without one, and rate limits.

    ``offline_limit`` is what a terminal may let one user spend with no valid session
    (holds the kiosk decided offline, or whose session expired before they were sent),
    summed over ``offline_window_h``; a kiosk may report a lower limit at enrolment.
    The rate limits are per terminal and per backend process (see docs/api.md).
    """

    idle_timeout_s: int = Field(default=900, ge=30, le=86400)
    offline_limit: str = "5.00"
    offline_window_h: int = Field(default=24, ge=1, le=720)
    logins_per_minute: int = Field(default=30, ge=1, le=10_000)
    login_burst: int = Field(default=10, ge=1, le=10_000)
    card_enrolments_per_hour: int = Field(default=20, ge=1, le=10_000)
    card_enrolment_burst: int = Field(default=5, ge=1, le=10_000)
    # 3D uploads (each analysed in a child process): per terminal.
    print3d_uploads_per_hour: int = Field(default=120, ge=1, le=100_000)
    print3d_upload_burst: int = Field(default=20, ge=1, le=10_000)
    # Technician reports (audit rows): a kiosk's outbox drains those made offline in a
    # burst; a stolen token must not fill the audit log.
    technician_reports_per_hour: int = Field(default=600, ge=1, le=100_000)
    technician_report_burst: int = Field(default=100, ge=1, le=10_000)

    @field_validator("offline_limit")
    @classmethod
    def _amount(cls, value: str) -> str:
        from backend.money import parse_amount

        parse_amount(value)
        return value

    @property
    def offline_limit_amount(self) -> Decimal:
        from backend.money import parse_amount

        return parse_amount(self.offline_limit)


class PricingSettings(_Section):
    # A directory of price-list TOML files (billing's format); None: no pricing endpoints.
    price_lists_dir: str | None = None
    # Accounting periods start on this day of the month (seed 001: price changes apply
    # from the start of the current period).
    period_start_day: int = Field(default=1, ge=1, le=28)


class VoucherSettings(_Section):
    """Guessing limits on voucher redemption, and the day vouchers expire.

    A well-formed code that matches no voucher is a guess; ``max_failed_attempts`` of them
    within ``failure_window_min`` lock that terminal and that user out of redemption
    until the oldest of them leaves the window (a typo, caught by the check character,
    never counts). ``timezone``: whose calendar day ``expires_on`` is (None: UTC).
    ``expire_check_interval_s``: how often the server posts the breakage of expired ones.
    """

    max_failed_attempts: int = Field(default=5, ge=1, le=1000)
    failure_window_min: int = Field(default=10, ge=1, le=10_080)
    timezone: str | None = None
    expire_check_interval_s: int = Field(default=3600, ge=1, le=86400)
    # Printed on every card (printkiosk vouchers cards), with the card's language.
    site_name: str = Field(default="printkiosk", min_length=1, max_length=60)
    card_language: Literal["en", "fr"] = "en"

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str | None) -> str | None:
        if value is not None:
            from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

            try:
                ZoneInfo(value)
            except (ZoneInfoNotFoundError, ValueError) as exc:
                raise ValueError("not a known IANA time zone") from exc
        return value


def _check_amount(value: str) -> str:
    from backend.money import parse_amount

    if parse_amount(value) <= 0:
        raise ValueError("must be > 0")
    return value


class StripeSettings(_Section):
    """The Stripe account: its secret API key and the webhook endpoint's signing secret,
    each in a file readable by the backend's user only (never in backend.toml)."""

    secret_key_file: str | None = None
    webhook_secret_file: str | None = None
    # Stripe's API; a test points it at a local emulator (localstripe).
    api_base: str = Field(default="https://api.stripe.com", pattern=r"^https?://")
    webhook_tolerance_s: int = Field(default=300, ge=1, le=3600)


class BankTransferSettings(_Section):
    """The account a GiroCode pays into (the bank_transfer adapter checks the values)."""

    iban: str | None = None
    bic: str | None = None
    beneficiary: str | None = None
    remittance_prefix: str = "PK"


class DemoGatewaySettings(_Section):
    # The simulated payment page moves no money: it must be switched on by name.
    enabled: bool = False


class PaymentSettings(_Section):
    """Top-ups paid by QR code (docs/payments.md). ``gateway`` None: no top-ups.

    Amounts are decimal strings like every amount in the configuration files; the
    currency is the ledger's. ``public_base_url`` is what a phone can reach: the demo's
    pay page and the gateways' return pages are under it.
    """

    gateway: Literal["demo", "stripe", "bank_transfer"] | None = None
    min_amount: str = "1.00"
    max_amount: str = "100.00"
    presets: list[str] = ["2.00", "5.00", "10.00", "20.00"]
    expire_after_min: int = Field(default=10, ge=1, le=1440)
    public_base_url: str | None = Field(default=None, pattern=r"^https?://[^\s/]+")
    reconcile_after_min: int = Field(default=5, ge=1, le=10_080)
    check_interval_s: int = Field(default=60, ge=1, le=86400)
    stripe: StripeSettings = StripeSettings()
    bank_transfer: BankTransferSettings = BankTransferSettings()
    demo: DemoGatewaySettings = DemoGatewaySettings()

    _amount = field_validator("min_amount", "max_amount")(_check_amount)

    @field_validator("presets")
    @classmethod
    def _presets(cls, value: list[str]) -> list[str]:
        for preset in value:
            _check_amount(preset)
        return value

    @model_validator(mode="after")
    def _consistent(self) -> PaymentSettings:
        low, high = self.min_decimal, self.max_decimal
        if low > high:
            raise ValueError(f"min_amount {self.min_amount} is above max_amount "
                             f"{self.max_amount}")
        outside = [preset for preset in self.presets if not low <= Decimal(preset) <= high]
        if outside:
            raise ValueError(f"presets {', '.join(outside)} are outside min_amount.."
                             f"max_amount ({self.min_amount}..{self.max_amount})")
        if self.gateway == "demo" and not self.demo.enabled:
            raise ValueError('gateway "demo" is a simulation that moves no money: it also '
                             "needs [payments.demo] enabled = true")
        if self.gateway == "stripe" and not (self.stripe.secret_key_file
                                             and self.stripe.webhook_secret_file):
            raise ValueError('gateway "stripe" needs [payments.stripe] secret_key_file and '
                             "webhook_secret_file")
        if self.gateway in ("demo", "stripe") and self.public_base_url is None:
            raise ValueError(f'gateway "{self.gateway}" needs public_base_url (the backend\'s '
                             "address as a phone reaches it, such as \"http://192.0.2.10:8470\")")
        return self

    @property
    def min_decimal(self) -> Decimal:
        return Decimal(self.min_amount)

    @property
    def max_decimal(self) -> Decimal:
        return Decimal(self.max_amount)


Print3DPolicy = Literal["charge_printed", "refund", "setup_only"]
_MATERIAL = r"^[A-Za-z0-9][A-Za-z0-9+._-]{0,31}$"


class Print3DGroup(_Section):
    """A group of identical 3D printers: the model its files must be sliced for and the
    materials loaded in them (a job for another model or material is flagged)."""

    name: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
    printer_model: str | None = Field(default=None, min_length=1, max_length=100)
    materials: list[str] = Field(min_length=1)
    # g/cm3 per material, used when the slicer states none (decimal strings).
    density: dict[str, str] = {}

    @field_validator("materials")
    @classmethod
    def _materials(cls, value: list[str]) -> list[str]:
        for material in value:
            if not re.fullmatch(_MATERIAL, material):
                raise ValueError(f"material {material!r} is not a name such as \"PLA\"")
        if len({m.casefold() for m in value}) != len(value):
            raise ValueError("a material is listed twice")
        return value

    @field_validator("density")
    @classmethod
    def _density(cls, value: dict[str, str]) -> dict[str, str]:
        for material, text in value.items():
            if not re.fullmatch(r"[0-9]{1,2}(\.[0-9]{1,4})?", text) or not (
                    Decimal("0.5") <= Decimal(text) <= Decimal("20")):
                raise ValueError(f"density of {material} {text!r} is not a decimal string "
                                 "between \"0.5\" and \"20\" (g/cm3), such as \"1.24\"")
        return value

    @model_validator(mode="after")
    def _densities_of_loaded(self) -> Print3DGroup:
        loaded = {material.casefold() for material in self.materials}
        stray = sorted(m for m in self.density if m.casefold() not in loaded)
        if stray:
            raise ValueError(f"group {self.name}: density of {', '.join(stray)}, which is "
                             f"not in materials ({', '.join(self.materials)})")
        return self

    def density_of(self, material: str | None) -> Decimal | None:
        wanted = (material or "").casefold()
        return next((Decimal(text) for name, text in self.density.items()
                     if name.casefold() == wanted), None)


def _fraction(value: str, low: str, high: str) -> str:
    if not re.fullmatch(r"[0-9]{1,3}(\.[0-9]{1,4})?", value) or not (
            Decimal(low) <= Decimal(value) <= Decimal(high)):
        raise ValueError(f"not a decimal string between \"{low}\" and \"{high}\"")
    return value


class Print3DSettings(_Section):
    """3D jobs (docs/print3d-backend.md): where uploads are stored, their limits, the
    hold's margin on time, what a cancelled or failed print costs, the printer groups.

    The hold is the price plus ``time_margin`` of the estimated printer time (a print
    runs longer than the slicer says); ``cancel_policy`` / ``failure_policy``: a
    cancelled print (the user's choice) / a failed one (the printer's error, run-out,
    power loss) is charged for what was printed, refunded, or charged the set-up fee.
    ``min_charge_fraction``: a print charged for its printed part costs at least this
    fraction of its full price."""

    storage_dir: str | None = None  # None: <data dir>/print3d
    max_file_mb: int = Field(default=200, ge=1, le=4096)
    max_jobs_per_user: int = Field(default=10, ge=1, le=1000)
    time_margin: str = "0.25"
    cancel_policy: Print3DPolicy = "charge_printed"
    failure_policy: Print3DPolicy = "refund"
    min_charge_fraction: str = "0"
    analysis_timeout_s: int = Field(default=300, ge=1, le=3600)
    groups: list[Print3DGroup] = Field(min_length=1)

    @field_validator("time_margin")
    @classmethod
    def _margin(cls, value: str) -> str:
        return _fraction(value, "0", "10")

    @field_validator("min_charge_fraction")
    @classmethod
    def _min_fraction(cls, value: str) -> str:
        return _fraction(value, "0", "1")

    @model_validator(mode="after")
    def _unique_groups(self) -> Print3DSettings:
        names = [group.name for group in self.groups]
        twice = sorted({name for name in names if names.count(name) > 1})
        if twice:
            raise ValueError(f"group {', '.join(twice)} is defined twice")
        return self

    @property
    def storage_path(self) -> Path:
        return Path(self.storage_dir) if self.storage_dir else default_data_dir() / "print3d"

    @property
    def max_file_bytes(self) -> int:
        return self.max_file_mb * 1024 * 1024

    def group(self, name: str) -> Print3DGroup | None:
        return next((group for group in self.groups if group.name == name), None)


class CashDeskSettings(_Section):
    """``[web.cash_desk]``: the desk's receipt printer (``file:/dev/usb/lp0`` or
    ``tcp:HOST:PORT``), printed after every operation; none: PDF receipts only."""

    receipt_printer: str | None = None
    receipt_profile: str = "TM-T88III"

    @field_validator("receipt_printer")
    @classmethod
    def _printer(cls, value: str | None) -> str | None:
        if value is not None:
            from backend.cash_desk_receipts import parse_printer

            parse_printer(value)
        return value


class WebSettings(_Section):
    """``[web]``: the staff pages (cash desk, administration) and the user's own page."""

    # A staff session ends after this long without a request (the next clerk at the
    # desk must not act as the last one); the user's own page allows longer.
    staff_idle_timeout_s: int = Field(default=900, ge=60, le=86400)
    me_idle_timeout_s: int = Field(default=1800, ge=60, le=86400)
    # Wrong passwords in a row for one username before it is locked, and for how long.
    login_max_failures: int = Field(default=5, ge=1, le=100)
    login_lockout_s: int = Field(default=900, ge=10, le=86400)
    # Login attempts per minute from one client address (any usernames).
    logins_per_minute_per_address: int = Field(default=20, ge=1, le=10_000)
    # "auto": cookies are Secure over HTTPS and on loopback (browsers accept Secure
    # cookies from http://127.0.0.1), plain over HTTP on a LAN address (the demo's
    # --lan). "always": Secure everywhere (behind a TLS proxy: set it).
    secure_cookies: Literal["auto", "always"] = "auto"
    # The client address is the proxy's X-Forwarded-For only when the peer is one of
    # these (a reverse proxy in front of the backend).
    trusted_proxies: list[str] = []
    cash_desk: CashDeskSettings = CashDeskSettings()


class SmtpSettings(_Section):
    """``[notifications.smtp]``: the mail server the outbox worker hands mails to.

    ``security``: "starttls" (port 587, the usual submission), "tls" (implicit TLS, port
    465) or "none" (a relay on the same machine only). The password is never in
    backend.toml: ``password_file`` names a file readable by the backend's user only.
    """

    host: str | None = None
    port: int = Field(default=587, ge=1, le=65535)
    security: Literal["starttls", "tls", "none"] = "starttls"
    # A CA bundle to verify the server with (a site's own CA); default: the system's.
    ca_file: str | None = None
    username: str | None = None
    password_file: str | None = None
    timeout_s: int = Field(default=30, ge=1, le=600)


class Print3DNotificationSettings(_Section):
    """``[notifications.print3d]``: the mails a 3D user gets about their print.

    Nearly done is sent once per job when the kiosk reports at most ``nearly_done_minutes``
    left or at least ``nearly_done_percent`` done (whichever comes first; 0 turns that
    test off). ``collect_at`` says, per printer group, where the user collects the print
    (a mail without it names the printer only)."""

    enabled: bool = True
    nearly_done_minutes: int = Field(default=15, ge=0, le=1440)
    nearly_done_percent: int = Field(default=90, ge=0, le=100)
    collect_at: dict[str, str] = {}


class DeviceNotificationSettings(_Section):
    """``[notifications.devices]``: device problems mailed to the administrators.

    ``mode``: "immediate" (one mail when a problem opens) or "digest" (one mail a day at
    ``digest_hour``, the site's local hour, listing what opened and cleared). A kiosk
    unheard of for ``heartbeat_missing_min`` minutes is a problem; so is a hold still
    open after ``stale_hold_h`` hours (before hold expiry voids it).
    """

    enabled: bool = True
    mode: Literal["immediate", "digest"] = "immediate"
    digest_hour: int = Field(default=8, ge=0, le=23)
    heartbeat_missing_min: int = Field(default=15, ge=1, le=10080)
    stale_hold_h: int = Field(default=2, ge=1, le=720)
    # Low toner (and a supply at or below low_supply_percent) is worth a mail on a site
    # that changes cartridges itself; others turn it off and hear only of empty ones.
    low_toner: bool = True
    low_supply_percent: int = Field(default=10, ge=1, le=50)
    check_interval_s: int = Field(default=60, ge=1, le=3600)


class LowBalanceSettings(_Section):
    """``[notifications.low_balance]``: a mail when a user's available credit falls below
    ``threshold`` (a user may set their own, or turn it off); sent once, then again only
    after the credit rose above ``threshold + margin`` (hysteresis: a balance hovering
    around the threshold does not mail at every print)."""

    enabled: bool = True
    threshold: str = "2.00"
    margin: str = "1.00"

    @field_validator("threshold", "margin")
    @classmethod
    def _amount(cls, value: str) -> str:
        from backend.money import parse_amount

        parse_amount(value)
        return value

    @property
    def threshold_amount(self) -> Decimal:
        from backend.money import parse_amount

        return parse_amount(self.threshold)

    @property
    def margin_amount(self) -> Decimal:
        from backend.money import parse_amount

        return parse_amount(self.margin)


class TransactionAlertSettings(_Section):
    """``[notifications.transactions]``: a mail for each movement of a user's credit, for
    the users who opted in (``default``: the choice of a user who made none). The first
    movement after a quiet period is mailed at once; the next ones within
    ``group_minutes`` go into one mail at the end of that window. ``not_you``: what to do
    when a movement was not the user's (default: contact the cash desk, change the PIN)."""

    default: bool = False
    group_minutes: int = Field(default=10, ge=1, le=1440)
    not_you: str | None = Field(default=None, min_length=1, max_length=500)


class NotificationSettings(_Section):
    """``[notifications]``: e-mail to users and administrators (docs/notifications.md).

    Nothing is recorded while ``enabled`` is false; with it true, ``smtp.host`` and
    ``from_address`` are required.
    """

    enabled: bool = False
    from_address: str | None = None
    # A folder of templates that replace the shipped ones file by file
    # (``<language>/<name>.txt`` ...); doctor compiles every file in it.
    templates_dir: str | None = None
    # Where administrators' mails go (device problems, failed deliveries), besides the
    # e-mail of every user with the administrator role.
    admin_addresses: list[str] = []
    # How often the outbox worker looks for due mails.
    check_interval_s: int = Field(default=15, ge=1, le=3600)
    # The outbox worker's retries after a temporary failure (server down, 4xx): the first
    # after retry_initial_s, each next one twice as long, at most retry_max_s apart; a
    # mail still not accepted give_up_after_h after it was recorded is failed.
    retry_initial_s: int = Field(default=60, ge=1, le=86400)
    retry_max_s: int = Field(default=3600, ge=1, le=86400)
    give_up_after_h: int = Field(default=72, ge=1, le=720)
    smtp: SmtpSettings = SmtpSettings()
    print3d: Print3DNotificationSettings = Print3DNotificationSettings()
    devices: DeviceNotificationSettings = DeviceNotificationSettings()
    low_balance: LowBalanceSettings = LowBalanceSettings()
    transactions: TransactionAlertSettings = TransactionAlertSettings()

    @model_validator(mode="after")
    def _complete(self) -> NotificationSettings:
        if self.enabled and not self.smtp.host:
            raise ValueError("enabled = true needs smtp.host (the mail server)")
        if self.enabled and not self.from_address:
            raise ValueError("enabled = true needs from_address (the sender of the mails)")
        return self


class FleetSettings(_Section):
    """``[fleet]``: supply forecasts (docs/fleet.md). A supply forecast to run out within
    ``supply_alert_days`` opens a device problem (one mail to the administrators until
    it clears); the forecast is a line through the levels of the last
    ``forecast_window_days`` (since the last refill), with at least ``forecast_min_points``
    readings."""

    supply_alert_days: int = Field(default=14, ge=1, le=365)
    forecast_window_days: int = Field(default=90, ge=2, le=730)
    forecast_min_points: int = Field(default=3, ge=2, le=1000)


class StatementSettings(_Section):
    """Client statements (docs/statements.md): days to pay an issued statement, and the
    days after a payment request is sent on which a reminder goes out (each once)."""

    due_days: int = Field(default=30, ge=0, le=365)
    reminder_days: list[int] = Field(default=[7, 14], max_length=10)
    check_interval_s: int = Field(default=3600, ge=1, le=86400)

    @field_validator("reminder_days")
    @classmethod
    def _rising(cls, days: list[int]) -> list[int]:
        if any(day < 1 or day > 365 for day in days) or list(days) != sorted(set(days)):
            raise ValueError("reminder_days must be distinct rising days between 1 and 365")
        return days


class BackendConfig(_Section):
    server: ServerSettings = ServerSettings()
    database: DatabaseSettings = DatabaseSettings()
    security: SecuritySettings = SecuritySettings()
    ledger: LedgerSettings = LedgerSettings()
    refill: RefillSettings = RefillSettings()
    holds: HoldSettings = HoldSettings()
    pricing: PricingSettings = PricingSettings()
    sessions: SessionSettings = SessionSettings()
    vouchers: VoucherSettings = VoucherSettings()
    payments: PaymentSettings = PaymentSettings()
    print3d: Print3DSettings | None = None
    web: WebSettings = WebSettings()
    notifications: NotificationSettings = NotificationSettings()
    fleet: FleetSettings = FleetSettings()
    statements: StatementSettings = StatementSettings()

    @property
    def database_url(self) -> str:
        return self.database.url or default_database_url()

    def secret_key_path(self) -> Path | None:
        """The key file, or None when the key comes from the environment."""
        if os.environ.get(SECRET_ENV):
            return None
        if self.security.secret_key_file:
            return Path(self.security.secret_key_file)
        return default_data_dir() / "backend-secret.key"

    def secret_key(self) -> bytes:
        """The HMAC key: from the environment, the configured file, or a generated file.

        An existing key file readable by group or others is refused: whoever reads it can
        turn the stored card hashes back into card numbers by trying every number.
        """
        from_env = os.environ.get(SECRET_ENV)
        if from_env:
            return from_env.encode("utf-8")
        path = self.secret_key_path()
        assert path is not None
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w", encoding="ascii") as out:
                out.write(os.urandom(32).hex())
        if path.stat().st_mode & 0o077:
            raise BackendConfigError([
                f"{path}: the secret key file must be readable by its owner only "
                f"(chmod 600 {path})"])
        return path.read_text(encoding="ascii").strip().encode("ascii")


# What each key allows, in words, for the error messages.
EXPECTED: dict[str, str] = {
    "server.host": "a non-empty host name or address",
    "server.port": "an integer between 1 and 65535",
    "server.max_body_bytes": "an integer between 1024 and 67108864 (bytes)",
    "database.url": "a sqlite:/// or postgresql:// URL (a string)",
    "database.pool_size": "an integer between 1 and 200",
    "security.secret_key_file": "a file path (a string)",
    "security.pin_max_attempts": "an integer between 1 and 100",
    "security.pin_lockout_s": "an integer between 1 and 86400 (seconds)",
    "ledger.currency": "a three-letter ISO 4217 code in capitals, such as \"EUR\"",
    "ledger.consumption_order": "one of \"virtual_first\", \"personal_first\"",
    "refill.enabled": "true or false",
    "refill.check_interval_s": "an integer between 1 and 86400 (seconds)",
    "holds.expire_after_h": "an integer between 1 and 720 (hours)",
    "holds.check_interval_s": "an integer between 1 and 86400 (seconds)",
    "pricing.price_lists_dir": "a directory path (a string)",
    "pricing.period_start_day": "an integer between 1 and 28 (day of the month)",
    "sessions.idle_timeout_s": "an integer between 30 and 86400 (seconds)",
    "sessions.offline_limit": "an amount as a decimal string such as \"5.00\"",
    "sessions.offline_window_h": "an integer between 1 and 720 (hours)",
    "sessions.logins_per_minute": "an integer between 1 and 10000",
    "sessions.login_burst": "an integer between 1 and 10000",
    "sessions.card_enrolments_per_hour": "an integer between 1 and 10000",
    "sessions.card_enrolment_burst": "an integer between 1 and 10000",
    "sessions.print3d_uploads_per_hour": "an integer between 1 and 100000",
    "sessions.print3d_upload_burst": "an integer between 1 and 10000",
    "sessions.technician_reports_per_hour": "an integer between 1 and 100000",
    "sessions.technician_report_burst": "an integer between 1 and 10000",
    "vouchers.max_failed_attempts": "an integer between 1 and 1000",
    "vouchers.failure_window_min": "an integer between 1 and 10080 (minutes)",
    "vouchers.timezone": "an IANA time zone name such as \"Europe/Paris\" (a string)",
    "vouchers.expire_check_interval_s": "an integer between 1 and 86400 (seconds)",
    "vouchers.site_name": "a name of 1 to 60 characters (a string)",
    "vouchers.card_language": "one of \"en\", \"fr\"",
    "statements.due_days": "an integer between 0 and 365 (days)",
    "statements.reminder_days": "a list of rising days between 1 and 365, such as [7, 14]",
    "statements.check_interval_s": "an integer between 1 and 86400 (seconds)",
    "payments.gateway": "one of \"demo\", \"stripe\", \"bank_transfer\"",
    "payments.min_amount": "an amount > 0 as a decimal string such as \"1.00\"",
    "payments.max_amount": "an amount > 0 as a decimal string such as \"100.00\"",
    "payments.presets": "a list of amounts > 0 as decimal strings such as [\"5.00\"]",
    "payments.expire_after_min": "an integer between 1 and 1440 (minutes)",
    "payments.public_base_url": "an http:// or https:// URL (a string)",
    "payments.reconcile_after_min": "an integer between 1 and 10080 (minutes)",
    "payments.check_interval_s": "an integer between 1 and 86400 (seconds)",
    "payments.stripe.secret_key_file": "a file path (a string)",
    "payments.stripe.webhook_secret_file": "a file path (a string)",
    "payments.stripe.api_base": "an http:// or https:// URL (a string)",
    "payments.stripe.webhook_tolerance_s": "an integer between 1 and 3600 (seconds)",
    "payments.demo.enabled": "true or false",
    "print3d.storage_dir": "a directory path (a string)",
    "print3d.max_file_mb": "an integer between 1 and 4096 (MiB)",
    "print3d.max_jobs_per_user": "an integer between 1 and 1000",
    "print3d.time_margin": "a decimal string between \"0\" and \"10\", such as \"0.25\"",
    "print3d.cancel_policy": "one of \"charge_printed\", \"refund\", \"setup_only\"",
    "print3d.failure_policy": "one of \"charge_printed\", \"refund\", \"setup_only\"",
    "print3d.min_charge_fraction": "a decimal string between \"0\" and \"1\", such as \"0.5\"",
    "print3d.analysis_timeout_s": "an integer between 1 and 3600 (seconds)",
    "print3d.groups": "a non-empty list of [[print3d.groups]] tables",
    "print3d.groups.N.name": "a group name of letters, digits, '.', '_', '-' (a string)",
    "print3d.groups.N.printer_model": "a printer model such as \"MK4\" (a string)",
    "notifications.enabled": "true or false",
    "notifications.from_address": "an e-mail address such as \"print@example.org\"",
    "notifications.templates_dir": "a directory path (a string)",
    "notifications.admin_addresses": "a list of e-mail addresses (strings)",
    "notifications.check_interval_s": "an integer between 1 and 3600 (seconds)",
    "notifications.retry_initial_s": "an integer between 1 and 86400 (seconds)",
    "notifications.retry_max_s": "an integer between 1 and 86400 (seconds)",
    "notifications.give_up_after_h": "an integer between 1 and 720 (hours)",
    "notifications.smtp.host": "a mail server's host name or address (a string)",
    "notifications.smtp.port": "an integer between 1 and 65535",
    "notifications.smtp.security": "one of \"starttls\", \"tls\", \"none\"",
    "notifications.smtp.ca_file": "a file path (a string)",
    "notifications.smtp.username": "a user name (a string)",
    "notifications.smtp.password_file": "a file path (a string)",
    "notifications.smtp.timeout_s": "an integer between 1 and 600 (seconds)",
    "notifications.print3d.enabled": "true or false",
    "notifications.print3d.nearly_done_minutes":
        "an integer between 0 and 1440 (minutes left; 0: not by time)",
    "notifications.print3d.nearly_done_percent":
        "an integer between 0 and 100 (percent done; 0: not by percent)",
    "notifications.print3d.collect_at":
        "a table of printer group name = where to collect the print (strings)",
    "notifications.devices.enabled": "true or false",
    "notifications.devices.mode": "one of \"immediate\", \"digest\"",
    "notifications.devices.digest_hour": "an integer between 0 and 23 (the local hour)",
    "notifications.devices.heartbeat_missing_min": "an integer between 1 and 10080 (minutes)",
    "notifications.devices.stale_hold_h": "an integer between 1 and 720 (hours)",
    "notifications.devices.low_toner": "true or false",
    "notifications.devices.low_supply_percent": "an integer between 1 and 50 (percent)",
    "notifications.devices.check_interval_s": "an integer between 1 and 3600 (seconds)",
    "notifications.low_balance.enabled": "true or false",
    "notifications.low_balance.threshold": "an amount as a decimal string such as \"2.00\"",
    "notifications.low_balance.margin": "an amount as a decimal string such as \"1.00\"",
    "notifications.transactions.default": "true or false (opted in unless a user says no)",
    "notifications.transactions.group_minutes": "an integer between 1 and 1440 (minutes)",
    "notifications.transactions.not_you": "a text of 1 to 500 characters",
    "print3d.groups.N.materials": "a non-empty list of material names such as [\"PLA\"]",
    "fleet.supply_alert_days": "an integer between 1 and 365 (days ahead)",
    "fleet.forecast_window_days": "an integer between 2 and 730 (days of history)",
    "fleet.forecast_min_points": "an integer between 2 and 1000 (readings)",
}
SECTIONS: dict[str, type[_Section]] = {
    "server": ServerSettings,
    "database": DatabaseSettings,
    "security": SecuritySettings,
    "ledger": LedgerSettings,
    "refill": RefillSettings,
    "holds": HoldSettings,
    "pricing": PricingSettings,
    "sessions": SessionSettings,
    "vouchers": VoucherSettings,
    "payments": PaymentSettings,
    "print3d": Print3DSettings,
    "notifications": NotificationSettings,
    "fleet": FleetSettings,
}


class BackendConfigError(Exception):
    """A backend configuration file that cannot be used; ``problems`` lists every reason."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


def _table_at(path: tuple[Any, ...]) -> type[BaseModel]:
    """The model of the table at ``path`` (("payments", "stripe") -> StripeSettings)."""
    model: type[BaseModel] = BackendConfig
    for part in path:
        if isinstance(part, int):  # an item of a list of tables ([[print3d.groups]])
            continue
        field = model.model_fields.get(str(part))
        table = None if field is None else _model_in(field.annotation)
        if table is None:
            break
        model = table
    return model


def _model_in(annotation: Any) -> type[BaseModel] | None:
    """The table model of a field: ``X``, ``X | None`` or ``list[X]``."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in get_args(annotation):
        found = _model_in(arg)
        if found is not None:
            return found
    return None


def _describe(file_name: str, error: Any) -> str:
    loc = ".".join(str(part) for part in error["loc"])
    if error["type"] == "extra_forbidden":
        allowed = sorted(_table_at(error["loc"][:-1]).model_fields)
        return f"{file_name}: {loc}: unknown key (allowed: {', '.join(allowed)})"
    message = str(error["msg"]).removeprefix("Value error, ")
    if error["type"] == "value_error" and loc in SECTIONS:  # a check across its keys
        return f"{file_name}: [{loc}]: {message}"
    generic = ".".join("N" if isinstance(part, int) else str(part) for part in error["loc"])
    expected = EXPECTED.get(loc) or EXPECTED.get(generic)
    if error["type"] == "missing":
        return f"{file_name}: {loc}: missing ({expected or 'required'})"
    if error["type"] == "value_error" and expected is None:
        return f"{file_name}: {loc}: {message}"
    if expected is None:
        expected = "a table" if loc in SECTIONS else str(error["msg"])
    return f"{file_name}: {loc}: {error['input']!r} is not {expected}"


def parse_backend_config(data: dict[str, Any], file_name: str) -> BackendConfig:
    """Validate already-parsed TOML; raise :class:`BackendConfigError` with every problem."""
    try:
        return BackendConfig.model_validate(data)
    except ValidationError as exc:
        raise BackendConfigError([_describe(file_name, err) for err in exc.errors()]) from exc


def load_backend_config(path: Path | str) -> BackendConfig:
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise BackendConfigError([f"{path}: cannot be read: {exc.strerror}"]) from exc
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise BackendConfigError([f"{path.name}: is not valid TOML: {exc}"]) from exc
    return parse_backend_config(data, path.name)
