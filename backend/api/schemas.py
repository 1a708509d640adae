"""Request bodies of the terminal API, validated here so that bad input is a 422 naming
the field, before any effect.

Three rules hold for every body, each written once:

* amounts are :data:`Amount` (``backend.money.parse_amount``; the spec declares the string
  pattern, so the spec and the server refuse the same inputs);
* no text field holds a control character (:class:`_Body` checks every ``str`` field,
  nested bodies included; ``backend.api.params`` does the same for query and path);
* free JSON (an event's ``payload``, a capture's ``details``) is bounded in size and depth
  and holds no NUL (:data:`BoundedJson`).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    WithJsonSchema,
    field_validator,
    model_validator,
)

from backend.money import AMOUNT_PATTERN, MAX_AMOUNT, parse_amount
from backend.text import control_character_error

# The largest id a database integer holds (a larger one failed in the driver: a 500).
DATABASE_ID_MAX = 2**63 - 1
IdempotencyKey = Field(min_length=8, max_length=200, pattern=r"^[A-Za-z0-9._:-]+$")

_AMOUNT_SCHEMA = {"type": "string", "pattern": AMOUNT_PATTERN, "examples": ["1.50"],
                  "description": f"a decimal string, at most 2 decimals, <= {MAX_AMOUNT}"}
# 0.00 is a real hold: a free job (included pages, free mono) is released and captured
# like a paid one, so its pages count toward the period volume.
Amount = Annotated[Decimal, BeforeValidator(parse_amount), WithJsonSchema(_AMOUNT_SCHEMA)]
PositiveAmount = Annotated[Decimal,
                           BeforeValidator(lambda raw: parse_amount(raw, allow_zero=False)),
                           WithJsonSchema({**_AMOUNT_SCHEMA, "description": "as amount, > 0"})]

# Free JSON a terminal sends and the backend stores as sent: bounded so that one event
# cannot fill the database or make a report walk a 5 000-deep structure.
JSON_MAX_BYTES = 65_536  # a printer with every alert of its table active stays far below
JSON_MAX_DEPTH = 8


def _bounded_json(value: dict[str, Any]) -> dict[str, Any]:
    try:
        size = len(json.dumps(value, ensure_ascii=False, allow_nan=False).encode())
    except UnicodeEncodeError as exc:
        raise ValueError("holds a lone surrogate, which is not text") from exc
    except ValueError as exc:  # PostgreSQL's json refuses NaN: it is not JSON
        raise ValueError("holds NaN or Infinity, which JSON cannot carry") from exc
    if size > JSON_MAX_BYTES:
        raise ValueError(f"is {size} bytes of JSON, more than {JSON_MAX_BYTES}")
    stack: list[tuple[object, int]] = [(value, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > JSON_MAX_DEPTH:
            raise ValueError(f"is nested deeper than {JSON_MAX_DEPTH} levels")
        if isinstance(node, dict):
            for key, item in node.items():
                if "\x00" in key:
                    raise ValueError(f"key {key!r} holds a NUL character")
                stack.append((item, depth + 1))
        elif isinstance(node, list):
            stack.extend((item, depth + 1) for item in node)
        elif isinstance(node, str) and "\x00" in node:
            raise ValueError(f"string {node[:40]!r} holds a NUL character")
    return value


BoundedJson = Annotated[dict[str, Any], AfterValidator(_bounded_json)]

# A moment a terminal reports: not before 2000 (an epoch 0 or a kiosk clock never set),
# not more than a day ahead (a clock gone wrong); numbers are refused, the spec says
# an ISO 8601 string.
EARLIEST_MOMENT = datetime(2000, 1, 1, tzinfo=UTC)
FUTURE_SLACK = timedelta(days=1)


def _iso_string(value: object) -> object:
    if not isinstance(value, str | datetime):
        raise ValueError("must be an ISO 8601 date-time string with a time zone")
    return value


def _sane_moment(value: datetime) -> datetime:
    if value < EARLIEST_MOMENT:
        raise ValueError(f"{value.isoformat()} is before {EARLIEST_MOMENT.date()}")
    latest = datetime.now(UTC) + FUTURE_SLACK
    if value > latest:
        raise ValueError(f"{value.isoformat()} is more than {FUTURE_SLACK} in the future")
    return value


Moment = Annotated[AwareDatetime, BeforeValidator(_iso_string), AfterValidator(_sane_moment)]


# The single-line rule as the spec states it, for generated clients and schemathesis.
SINGLE_LINE_PATTERN = "^[^\\u0000-\\u001f\\u007f-\\u009f]*$"


def _declare_single_line(schema: dict[str, Any]) -> None:
    """Put the single-line pattern on every free text property of a body's schema (an
    enum, a format or a pattern of its own already says more)."""
    for prop in schema.get("properties", {}).values():
        for option in [prop, *prop.get("anyOf", ())]:
            if option.get("type") == "string" and not {"pattern", "enum", "const",
                                                       "format"} & option.keys():
                option["pattern"] = SINGLE_LINE_PATTERN


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra=_declare_single_line)

    @field_validator("*", mode="after")
    @classmethod
    def _single_line(cls, value: Any) -> Any:
        """Every text field is one line of text: a NUL makes PostgreSQL fail the request
        (and SQLite store it), other control characters corrupt logs, CSV and receipts."""
        if isinstance(value, str):
            problem = control_character_error(value)
            if problem is not None:
                raise ValueError(problem)
        return value


class EnrolRequest(_Body):
    enrolment_key: str = Field(min_length=1, max_length=200)
    name: str = Field(min_length=1, max_length=100)
    # The printer beside the kiosk, for device and device-model price lists (optional).
    device: str | None = Field(default=None, min_length=1, max_length=200)
    device_model: str | None = Field(default=None, min_length=1, max_length=200)
    # The kiosk's offline spending limit (its configuration): the backend caps the holds
    # it takes without a session at this, never above the site's sessions.offline_limit.
    offline_limit: Amount | None = None


class SessionRequest(_Body):
    card: str | None = Field(default=None, min_length=1, max_length=128)
    username: str | None = Field(default=None, min_length=1, max_length=100)
    pin: str | None = Field(default=None, min_length=1, max_length=32)


class HoldRequest(_Body):
    idempotency_key: str = IdempotencyKey
    username: str = Field(min_length=1, max_length=100)
    amount: Amount
    description: str = Field(default="", max_length=500)
    job_ref: str | None = Field(default=None, max_length=200)
    billing_code: str | None = Field(default=None, min_length=1, max_length=64)


class CaptureRequest(_Body):
    idempotency_key: str = IdempotencyKey
    amount: Amount
    pages: int | None = Field(default=None, ge=0, le=1_000_000)
    colour_pages: int | None = Field(default=None, ge=0, le=1_000_000)
    sheets: int | None = Field(default=None, ge=0, le=1_000_000)
    details: BoundedJson | None = None

    @model_validator(mode="after")
    def _colour_within_pages(self) -> CaptureRequest:
        if self.colour_pages is not None and (self.pages is None
                                              or self.colour_pages > self.pages):
            raise ValueError("colour_pages needs pages and cannot exceed them")
        return self


class VoidRequest(_Body):
    idempotency_key: str = IdempotencyKey
    reason: str = Field(default="", max_length=500)


class RefundRequest(_Body):
    idempotency_key: str = IdempotencyKey
    hold_id: str | None = Field(default=None, max_length=64)
    transaction_id: int | None = Field(default=None, ge=1, le=DATABASE_ID_MAX)
    amount: PositiveAmount | None = None
    reason: str = Field(min_length=1, max_length=500)


class VoucherRedeemRequest(_Body):
    idempotency_key: str = IdempotencyKey
    # As typed or scanned: "LIB-7K3M-Q9XA-2BFD-HW", "7k3m q9xa 2bfd hw" (see
    # billing.voucher_codes.assess); a typo is refused before any lookup.
    code: str = Field(min_length=1, max_length=64)


class CardEnrolRequest(_Body):
    card: str = Field(min_length=1, max_length=128)
    username: str = Field(min_length=1, max_length=100)
    pin: str = Field(min_length=1, max_length=32)


EventKind = Literal["counters", "supplies", "alert", "job_report", "print3d_progress"]


class Print3DProgress(_Body):
    """The payload of a ``print3d_progress`` event: how far the kiosk's 3D print is (the
    backend records the user's nearly-done mail from it, backend.notify.print3d)."""

    job_id: int = Field(ge=1, le=DATABASE_ID_MAX)
    percent: float | None = Field(default=None, ge=0, le=100)
    time_left_s: int | None = Field(default=None, ge=0, le=100 * 24 * 3600)
    file_position: int | None = Field(default=None, ge=0)
    print_time_s: int | None = Field(default=None, ge=0)


class Event(_Body):
    idempotency_key: str = IdempotencyKey
    kind: EventKind
    occurred_at: Moment
    payload: BoundedJson

    @model_validator(mode="after")
    def _known_payload(self) -> Event:
        if self.kind == "print3d_progress":
            try:
                Print3DProgress.model_validate(self.payload)
            except ValueError as exc:
                problems = "; ".join(
                    f"{'.'.join(map(str, error['loc'])) or 'payload'}: {error['msg']}"
                    for error in getattr(exc, "errors", lambda: [])())
                raise ValueError(f"a print3d_progress payload needs job_id, percent, "
                                 f"time_left_s: {problems or exc}") from exc
        return self

    def progress(self) -> Print3DProgress | None:
        """The 3D progress this event reports (validated above), or None."""
        if self.kind != "print3d_progress":
            return None
        return Print3DProgress.model_validate(self.payload)


class EventBatch(_Body):
    events: list[Event] = Field(min_length=1, max_length=500)


class SidesCount(_Body):
    colour: Literal["mono", "colour"]
    size: str = Field(min_length=1, max_length=16)
    count: int = Field(ge=0, le=1_000_000)


class PaperJobSpec(_Body):
    function: Literal["print", "copy", "scan", "fax"] = "print"
    sides: list[SidesCount] = Field(min_length=1, max_length=20)
    duplex: bool = False
    copies: int = Field(default=1, ge=1, le=10_000)
    minutes: Decimal = Field(default=Decimal(0), ge=0, le=100_000)


class Print3DJobSpec(_Body):
    material: str = Field(min_length=1, max_length=50)
    grams: Decimal = Field(ge=0, le=100_000)
    minutes: Decimal = Field(ge=0, le=100_000)


class EstimateRequest(_Body):
    username: str | None = Field(default=None, min_length=1, max_length=100)
    paper: PaperJobSpec | None = None
    print3d: Print3DJobSpec | None = None


PageColourName = Literal["mono", "colour", "blank"]
PAGES_LIMIT = 100_000
# Counted pages cost a few bytes whatever their number, so a report by counts may name as
# many pages as a capture may charge. Why not the per-page limit: a 200 000-page job cut
# short by the analyser's time limit is reported as its fallback counts, and refusing it
# would price the job at the kiosk's one-page guess, cheaper than the truth.
COUNTED_PAGES_LIMIT = 1_000_000


class AnalysedPage(_Body):
    colour: PageColourName
    size: str = Field(min_length=1, max_length=16)


class AnalysedPageCount(_Body):
    colour: PageColourName
    size: str = Field(min_length=1, max_length=16)
    count: int = Field(ge=1, le=COUNTED_PAGES_LIMIT)


class JobAnalysisRequest(_Body):
    """A held job's analysis from the spool agent: per page, or already counted per
    (colour, size). ``error`` says the analysis failed and the pages are the fallback's."""

    idempotency_key: str = IdempotencyKey
    job_uuid: str = Field(min_length=1, max_length=200, pattern=r"^[A-Za-z0-9._:-]+$")
    queue: str = Field(min_length=1, max_length=127)
    username: str = Field(min_length=1, max_length=100)
    document_name: str = Field(default="", max_length=500)
    pages: list[AnalysedPage] | None = Field(default=None, max_length=PAGES_LIMIT)
    counts: list[AnalysedPageCount] | None = Field(default=None, min_length=1, max_length=200)
    analysed_at: Moment
    error: str | None = Field(default=None, min_length=1, max_length=1000)

    @model_validator(mode="after")
    def _pages_or_counts(self) -> JobAnalysisRequest:
        if (self.pages is None) == (self.counts is None):
            raise ValueError("give exactly one of pages or counts")
        if self.pages is not None and not self.pages:
            raise ValueError("pages: a job has at least one page")
        if (self.counts is not None
                and sum(c.count for c in self.counts) > COUNTED_PAGES_LIMIT):
            raise ValueError(f"counts: more than {COUNTED_PAGES_LIMIT} pages in all")
        return self


class TopUpRequest(_Body):
    idempotency_key: str = IdempotencyKey
    amount: PositiveAmount


HOLD_ID = Field(min_length=1, max_length=32, pattern=r"^[A-Za-z0-9]+$")


class Print3DClaimRequest(_Body):
    hold_id: str = HOLD_ID


class Print3DSettleRequest(_Body):
    """How a 3D print ended, as the kiosk saw it (``key`` is the idempotency key)."""

    key: str = IdempotencyKey
    hold_id: str = HOLD_ID
    outcome: Literal["completed", "cancelled", "failed", "not_started"]
    file_position: int | None = Field(default=None, ge=0, le=DATABASE_ID_MAX)
    print_time_s: int | None = Field(default=None, ge=0, le=10_000_000)
    # The printer's own count, recorded beside ours (never charged): a decimal string.
    printer_filament_mm: str | None = Field(default=None, max_length=20,
                                            pattern=r"^[0-9]{1,12}(\.[0-9]{1,6})?$")


class TechnicianReportRequest(_Body):
    """One technician action at a kiosk, for the audit log (``key``: idempotency key).

    ``technician`` is the account's username (``via`` card or pin) or the kiosk's
    local technician (``local_pin``: the backend cannot say who it was); ``at`` is when
    the technician acted (null: now), which may be long before a kiosk that was offline
    reports it."""

    key: str = IdempotencyKey
    technician: str = Field(min_length=1, max_length=100)
    via: Literal["card", "pin", "local_pin"]
    # audited as ``technician.<action>``: settings.change, enrolment, test_page, reboot...
    action: str = Field(min_length=1, max_length=64, pattern=r"^[a-z0-9_]+(\.[a-z0-9_]+)*$")
    details: BoundedJson = Field(default_factory=dict)
    at: Moment | None = None


class TerminalStatus(BaseModel):
    """``GET /terminals/me``: who this token is, and the server's clock."""

    id: str
    name: str
    state: Literal["new", "connected", "disconnected"]
    server_time: AwareDatetime = Field(description="the backend's clock, ISO 8601 UTC")


class TechnicianReportAnswer(BaseModel):
    ok: Literal[True]


class NotificationPreferencesRequest(_Body):
    """The user's notification choices (all three, as the GET answers them)."""

    low_balance_enabled: bool
    # The user's own threshold; null: the site's ([notifications.low_balance] threshold).
    low_balance_threshold: Amount | None
    transactions_enabled: bool
