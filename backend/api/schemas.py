"""Request bodies of the terminal API. Amounts are decimal strings, validated here so
that an out-of-range or malformed amount is a 422 naming the field, before any effect."""

from __future__ import annotations

from decimal import Decimal
from typing import Any, Literal

from pydantic import (
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    field_validator,
    model_validator,
)

from backend.money import parse_amount

IdempotencyKey = Field(min_length=8, max_length=200, pattern=r"^[A-Za-z0-9._:-]+$")


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class EnrolRequest(_Body):
    enrolment_key: str = Field(min_length=1, max_length=200)
    name: str = Field(min_length=1, max_length=100)
    # The printer beside the kiosk, for device and device-model price lists (optional).
    device: str | None = Field(default=None, min_length=1, max_length=200)
    device_model: str | None = Field(default=None, min_length=1, max_length=200)
    # The kiosk's offline spending limit (its configuration): the backend caps the holds
    # it takes without a session at this, never above the site's sessions.offline_limit.
    offline_limit: Decimal | None = None

    @field_validator("offline_limit", mode="before")
    @classmethod
    def _offline_limit(cls, value: Any) -> Decimal | None:
        return None if value is None else parse_amount(value)


class SessionRequest(_Body):
    card: str | None = Field(default=None, min_length=1, max_length=128)
    username: str | None = Field(default=None, min_length=1, max_length=100)
    pin: str | None = Field(default=None, min_length=1, max_length=32)


class HoldRequest(_Body):
    idempotency_key: str = IdempotencyKey
    username: str = Field(min_length=1, max_length=100)
    amount: Decimal
    description: str = Field(default="", max_length=500)
    job_ref: str | None = Field(default=None, max_length=200)
    billing_code: str | None = Field(default=None, min_length=1, max_length=64)

    @field_validator("amount", mode="before")
    @classmethod
    def _amount(cls, value: Any) -> Decimal:
        # 0.00 is a real hold: a free job (included pages, free mono) is released and
        # captured like a paid one, so its pages count toward the period volume.
        return parse_amount(value)


class CaptureRequest(_Body):
    idempotency_key: str = IdempotencyKey
    amount: Decimal
    pages: int | None = Field(default=None, ge=0, le=1_000_000)
    colour_pages: int | None = Field(default=None, ge=0, le=1_000_000)
    sheets: int | None = Field(default=None, ge=0, le=1_000_000)
    details: dict[str, Any] | None = None

    @field_validator("amount", mode="before")
    @classmethod
    def _amount(cls, value: Any) -> Decimal:
        return parse_amount(value)

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
    transaction_id: int | None = Field(default=None, ge=1)
    amount: Decimal | None = None
    reason: str = Field(min_length=1, max_length=500)

    @field_validator("amount", mode="before")
    @classmethod
    def _amount(cls, value: Any) -> Decimal | None:
        return None if value is None else parse_amount(value, allow_zero=False)


class CardEnrolRequest(_Body):
    card: str = Field(min_length=1, max_length=128)
    username: str = Field(min_length=1, max_length=100)
    pin: str = Field(min_length=1, max_length=32)


EventKind = Literal["counters", "supplies", "alert", "job_report"]


class Event(_Body):
    idempotency_key: str = IdempotencyKey
    kind: EventKind
    occurred_at: AwareDatetime
    payload: dict[str, Any]


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
    minutes: Decimal = Decimal(0)


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


class AnalysedPage(_Body):
    colour: PageColourName
    size: str = Field(min_length=1, max_length=16)


class AnalysedPageCount(_Body):
    colour: PageColourName
    size: str = Field(min_length=1, max_length=16)
    count: int = Field(ge=1, le=PAGES_LIMIT)


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
    analysed_at: AwareDatetime
    error: str | None = Field(default=None, min_length=1, max_length=1000)

    @model_validator(mode="after")
    def _pages_or_counts(self) -> JobAnalysisRequest:
        if (self.pages is None) == (self.counts is None):
            raise ValueError("give exactly one of pages or counts")
        if self.pages is not None and not self.pages:
            raise ValueError("pages: a job has at least one page")
        if self.counts is not None and sum(c.count for c in self.counts) > PAGES_LIMIT:
            raise ValueError(f"counts: more than {PAGES_LIMIT} pages in all")
        return self
