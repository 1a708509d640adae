"""The durable charge flow: journal first, then act; drain the journal in order.

Every money step of a release — the hold before printing, the capture of what was
printed, a void or a refund — is committed to the :class:`~terminal.outbox.Outbox`
with its idempotency key *before* it is sent. The step is then sent at once (together
with anything older still waiting, which must reach the backend first). If the backend
is unreachable, a hold is decided by the offline policy instead: a remembered user may
print up to the offline limit and the hold waits in the journal; a refused offline hold
gets a void journalled behind it, because its request may have reached the backend
before the line dropped. Whatever was journalled is sent later by :class:`OutboxDrainer`
or the next call, and on the next start after a crash.

A refusal that can never succeed (insufficient funds when an offline hold is finally
sent, a hold the backend already expired) is kept in the journal as refused, with the
backend's code, for the operator; a capture of a refused hold is refused with it.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

from terminal.offline import (
    OfflineCache,
    OfflinePolicy,
    OfflineRefused,
    balance_from_dict,
    balance_to_dict,
)
from terminal.outbox import Entry, EntryKind, EntryState, Outbox
from terminal.ports import (
    BackendRejected,
    BackendUnavailable,
    Balance,
    HoldAnswer,
    Ledger,
    Print3DJobs,
    Print3DSettlement,
    TechnicianAudit,
)
from terminal.technician_types import TechnicianReport

_log = logging.getLogger(__name__)

HOLD_REFUSED = "hold_refused"
EVENT_BATCH = 100


@dataclass(frozen=True)
class Authorisation:
    """A hold the kiosk may print against. ``key`` names it in every later step.

    ``hold_id`` is None while the backend has not heard of the hold (decided offline).
    """

    key: str
    username: str
    amount: Decimal
    job_ref: str
    hold_id: str | None
    offline: bool
    balance: Balance | None
    impressions: int | None = None  # what the job was held for (recovery's proportion)


@dataclass(frozen=True)
class Settlement:
    """A capture, void or refund journalled; ``sent`` says whether the backend confirmed."""

    key: str
    sent: bool
    amount: Decimal
    balance: Balance | None


@dataclass(frozen=True)
class DrainReport:
    sent: int
    refused: int
    remaining: bool
    reachable: bool


@dataclass(frozen=True)
class Settlement3D:
    """A 3D print's settlement journalled; ``answer`` is the backend's, None while unsent."""

    key: str
    sent: bool
    answer: Print3DSettlement | None


class AlreadySettled(Exception):
    """A second capture or void for the same hold: the first one stands."""


class ChargeBook:
    """Authorise, capture, void and refund through the journal; thread-safe."""

    def __init__(
        self,
        outbox: Outbox,
        ledger: Ledger,
        policy: OfflinePolicy,
        cache: OfflineCache | None = None,
        on_refused: Callable[[Entry], None] | None = None,
        print3d: Print3DJobs | None = None,
    ) -> None:
        self._outbox = outbox
        self._ledger = ledger
        # where a 3D kiosk's settlements go (the backend's 3D job store); None elsewhere
        self._print3d = print3d
        self._policy = policy
        self._cache = cache
        self._on_refused = on_refused
        self._drain_lock = threading.Lock()
        self._decide_lock = threading.Lock()
        self._recorded = threading.Event()
        # where technician reports go (the backend's audit log); None: kept pending
        self._audit: TechnicianAudit | None = None
        # (when, the drain's outcome) of the last drain: the technician's outbox check
        self.last_drain: tuple[datetime, DrainReport] | None = None

    @property
    def outbox(self) -> Outbox:
        return self._outbox

    def use_technician_audit(self, audit: TechnicianAudit) -> None:
        """Send technician reports to ``audit`` (the wiring, before the start)."""
        self._audit = audit

    def record_technician(self, body: dict[str, Any]) -> Entry:
        """Journal a technician report (technician, via, action, details, at); its key,
        made now, is the report's idempotency key on the backend."""
        return self._record(EntryKind.TECHNICIAN, body, None, None, None)

    def use_print3d(self, print3d: Print3DJobs) -> None:
        """Send 3D settlements to ``print3d`` (a 3D kiosk's wiring, before the start)."""
        self._print3d = print3d

    @property
    def recorded(self) -> threading.Event:
        """Set whenever something is journalled: wakes the drainer."""
        return self._recorded

    def authorise(
        self, username: str, amount: Decimal, description: str, job_ref: str,
        billing_code: str | None = None, impressions: int | None = None,
    ) -> Authorisation:
        """Hold ``amount`` before printing; raise :class:`BackendRejected` when refused.

        ``billing_code`` (the user's pick) and the user's backend session are journalled
        with the hold, so a hold sent later from the outbox still carries them.
        ``impressions`` (the job's estimate) is journalled for the kiosk only: a restart
        prices a part printed by it.
        """
        with self._decide_lock:
            body: dict[str, Any] = {"username": username, "amount": str(amount),
                    "description": description, "job_ref": job_ref}
            if billing_code is not None:
                body["billing_code"] = billing_code
            # The user's backend session, journalled with the hold: sent later (after an
            # outage or a restart) it still shows the user was identified here; without
            # one the backend takes the hold only within this terminal's offline limit.
            session = self._ledger.session_of(username)
            if session is not None:
                body["session"] = session
            if impressions is not None:
                body["impressions"] = impressions
            entry = self._record(EntryKind.HOLD, body, username, amount, None)
            self.drain(until=entry.key)
            entry = self._reload(entry)
            if entry.state is EntryState.SENT:
                answer = _result_balance(entry)
                return Authorisation(entry.key, username, amount, job_ref,
                                     str(_result(entry)["hold_id"]), False, answer,
                                     impressions)
            if entry.state is EntryState.REFUSED:
                raise _refusal(entry)
            return replace(self._authorise_offline(entry, username, amount, job_ref),
                           impressions=impressions)

    def _authorise_offline(
        self, entry: Entry, username: str, amount: Decimal, job_ref: str
    ) -> Authorisation:
        cached = self._cache.find_user(username) if self._cache is not None else None
        others = self._outbox.unsent_spending(username) - amount
        try:
            self._policy.check(cached, others, amount)
        except OfflineRefused:
            # The request may have reached the backend before the line dropped: undo it.
            self._record(EntryKind.VOID, {"reason": "refused offline"}, username, None,
                         entry.key)
            raise
        assert cached is not None  # the policy refuses unknown users
        known = cached.identity.balance
        projected = Balance(known.currency, known.virtual_credit, known.personal_credit,
                            known.held + others + amount, known.available - others - amount)
        return Authorisation(entry.key, username, amount, job_ref, None, True, projected)

    def capture(
        self, authorisation_key: str, amount: Decimal, pages: int, colour_pages: int
    ) -> Settlement:
        """Charge what was printed against a hold (at most its amount); the sides count
        towards the user's period volume in the offline cache at once."""
        body = {"amount": str(amount), "pages": pages, "colour_pages": colour_pages}
        settled = self._settle(EntryKind.CAPTURE, authorisation_key, body, amount)
        username = self._hold_entry(authorisation_key).username
        if self._cache is not None and username:
            self._cache.count_printed(username, pages - colour_pages, colour_pages)
        return settled

    def void(self, authorisation_key: str, reason: str) -> Settlement:
        """Nothing was printed: give the whole hold back."""
        return self._settle(EntryKind.VOID, authorisation_key, {"reason": reason}, Decimal(0))

    def refund(self, authorisation_key: str, amount: Decimal | None, reason: str) -> Settlement:
        """Give back (part of) a captured charge, e.g. a jam noticed after the capture."""
        body: dict[str, Any] = {"reason": reason}
        if amount is not None:
            body["amount"] = str(amount)
        hold = self._hold_entry(authorisation_key)
        entry = self._record(EntryKind.REFUND, body, hold.username, amount, hold.key)
        return self._finish(entry, amount or Decimal(0))

    def settle_print3d(
        self, authorisation_key: str, job_id: int, outcome: str, file_position: int | None,
        print_time_s: int | None, printer_filament_mm: Decimal | None,
    ) -> Settlement3D:
        """Journal how a 3D print ended (its key made now, so a resend after a crash is
        the same settlement) and send it; the backend measures and charges by its policy.
        Raises :class:`AlreadySettled` for a hold already ended, :class:`BackendRejected`
        when the backend refuses it for good."""
        body: dict[str, Any] = {
            "job_id": job_id, "outcome": outcome, "file_position": file_position,
            "print_time_s": print_time_s,
            "printer_filament_mm": None if printer_filament_mm is None
            else str(printer_filament_mm),
        }
        hold = self._hold_entry(authorisation_key)
        with self._decide_lock:
            if self._outbox.settlement_of(hold.key) is not None:
                raise AlreadySettled(f"hold {hold.key} is already settled")
            entry = self._record(EntryKind.SETTLE_3D, body, hold.username, None, hold.key)
        self.drain(until=entry.key)
        entry = self._reload(entry)
        if entry.state is EntryState.REFUSED:
            raise _refusal(entry)
        if entry.state is EntryState.SENT:
            return Settlement3D(entry.key, True, _print3d_settlement(_result(entry)))
        return Settlement3D(entry.key, False, None)

    def record_event(
        self, kind: str, payload: dict[str, Any], occurred_at: datetime | None = None
    ) -> Entry:
        """Journal a report (counters, supplies, alert, job_report); sent by the drainer."""
        moment = (occurred_at or datetime.now(UTC)).isoformat()
        body = {"kind": kind, "occurred_at": moment, "payload": payload}
        return self._record(EntryKind.EVENT, body, None, None, None)

    def unsettled(self) -> list[Authorisation]:
        """Holds journalled but never captured or voided: a release cut short by a crash."""
        return [_authorisation(entry) for entry in self._outbox.unsettled_holds()]

    def drain(self, until: str | None = None) -> DrainReport:
        """Send waiting entries oldest first; stop at the first that cannot be sent now."""
        report = self._drain(until)
        self.last_drain = (datetime.now(UTC), report)
        return report

    def _drain(self, until: str | None) -> DrainReport:
        sent = refused = 0
        with self._drain_lock:
            while True:
                batch = self._outbox.pending()
                if not batch:
                    return DrainReport(sent, refused, False, True)
                index = 0
                while index < len(batch):
                    entry = batch[index]
                    if entry.kind is EntryKind.EVENT:
                        events = _leading_events(batch[index:])
                        outcome = self._send_events(events)
                        step = len(events)
                    else:
                        one = self._send(entry)
                        outcome = None if one is None else (1, 0) if one else (0, 1)
                        step = 1
                    if outcome is None:
                        return DrainReport(sent, refused, True, False)
                    sent += outcome[0]
                    refused += outcome[1]
                    if until is not None and any(e.key == until for e in batch[index:index + step]):
                        return DrainReport(sent, refused, True, True)
                    index += step

    def _send(self, entry: Entry) -> bool | None:
        """Send one money entry: True sent, False refused for good, None try later."""
        try:
            result = self._call(entry)
        except BackendUnavailable as exc:
            _log.info("outbox: %s %s waits: %s", entry.kind.value, entry.key, exc)
            self._outbox.mark_failed_attempt([entry.key], str(exc))
            return None
        except BackendRejected as exc:
            if not exc.final:
                _log.warning("outbox: %s %s waits: %s", entry.kind.value, entry.key, exc.code)
                self._outbox.mark_failed_attempt([entry.key], exc.code)
                return None
            self._outbox.mark_refused(entry.key, exc.code, exc.detail)
            refused = self._reload(entry)
            _log.error("outbox: %s %s refused: %s", entry.kind.value, entry.key, exc.code)
            if self._on_refused is not None:
                self._on_refused(refused)
            return False
        self._outbox.mark_sent(entry.key, result)
        balance = result.get("balance")
        if self._cache is not None and entry.username and isinstance(balance, dict):
            self._cache.update_balance(entry.username, balance_from_dict(balance))
        return True

    def _call(self, entry: Entry) -> dict[str, Any]:
        body = entry.body
        if entry.kind is EntryKind.HOLD:
            return _hold_result(self._ledger.hold(
                entry.key, str(body["username"]), Decimal(body["amount"]),
                str(body["description"]), str(body["job_ref"]),
                None if body.get("billing_code") is None else str(body["billing_code"]),
                None if body.get("session") is None else str(body["session"])))
        if entry.kind is EntryKind.TECHNICIAN:
            return self._report_technician(entry)
        hold_id = self._parent_hold_id(entry)
        if entry.kind is EntryKind.CAPTURE:
            return _hold_result(self._ledger.capture(
                entry.key, hold_id, Decimal(body["amount"]), int(body["pages"]),
                int(body["colour_pages"])))
        if entry.kind is EntryKind.VOID:
            return _hold_result(self._ledger.void(entry.key, hold_id, str(body["reason"])))
        if entry.kind is EntryKind.SETTLE_3D:
            return self._settle_3d(entry, hold_id)
        amount = Decimal(body["amount"]) if "amount" in body else None
        return {"balance": balance_to_dict(
            self._ledger.refund(entry.key, hold_id, amount, str(body["reason"])))}

    def _report_technician(self, entry: Entry) -> dict[str, Any]:
        if self._audit is None:  # nowhere to send it yet: it waits in order
            raise BackendUnavailable("no technician audit configured")
        body = entry.body
        at = body.get("at")
        self._audit.report_technician(TechnicianReport(
            key=entry.key, technician=str(body["technician"]), via=body["via"],
            action=str(body["action"]), details=dict(body.get("details") or {}),
            at=None if at is None else datetime.fromisoformat(str(at))))
        return {"status": "stored"}

    def _settle_3d(self, entry: Entry, hold_id: str) -> dict[str, Any]:
        if self._print3d is None:  # a journal from a 3D kiosk opened by another kind
            raise BackendUnavailable("no 3D job store configured to settle with")
        body = entry.body
        mm = body.get("printer_filament_mm")
        answer = self._print3d.settle_print3d(
            entry.key, hold_id, int(body["job_id"]), str(body["outcome"]),
            None if body.get("file_position") is None else int(body["file_position"]),
            None if body.get("print_time_s") is None else int(body["print_time_s"]),
            None if mm is None else Decimal(str(mm)))
        return {
            "job_id": answer.job_id, "outcome": answer.outcome, "policy": answer.policy,
            "grams": str(answer.grams), "minutes": answer.minutes,
            "charged": str(answer.charged),
            "balance": None if answer.balance is None else balance_to_dict(answer.balance),
        }

    def _parent_hold_id(self, entry: Entry) -> str:
        parent = self._outbox.get(entry.parent or "")
        if parent is None or parent.kind is not EntryKind.HOLD:
            raise BackendRejected("outbox_parent_missing", f"entry {entry.key}")
        if parent.state is EntryState.REFUSED:
            raise BackendRejected(HOLD_REFUSED, str(_result(parent).get("code", "")))
        if parent.state is EntryState.PENDING:  # cannot happen: parents are sent first
            raise BackendUnavailable(f"hold {parent.key} not sent yet")
        return str(_result(parent)["hold_id"])

    def _send_events(self, events: list[Entry]) -> tuple[int, int] | None:
        """Send a batch: (sent, refused for good), or None to try later."""
        keys = [event.key for event in events]
        try:
            self._ledger.send_events([{"idempotency_key": e.key, **e.body} for e in events])
        except BackendUnavailable as exc:
            self._outbox.mark_failed_attempt(keys, str(exc))
            return None
        except BackendRejected as exc:
            if not exc.final:
                self._outbox.mark_failed_attempt(keys, exc.code)
                return None
            if len(events) > 1:
                # A batch is refused as a whole (422) when one event is bad: send them
                # one by one, so only the bad ones are set aside and the good are stored.
                return self._send_events_one_by_one(events)
            # One malformed event must not block the money behind it forever: it is kept
            # as refused for the operator, and reported like a refused charge.
            self._outbox.mark_refused(keys[0], exc.code, exc.detail)
            _log.error("outbox: event %s refused: %s %s", keys[0], exc.code, exc.detail)
            if self._on_refused is not None:
                self._on_refused(self._reload(events[0]))
            return (0, 1)
        for key in keys:
            self._outbox.mark_sent(key, {"status": "stored"})
        return (len(keys), 0)

    def _send_events_one_by_one(self, events: list[Entry]) -> tuple[int, int] | None:
        sent = refused = 0
        for event in events:
            outcome = self._send_events([event])
            if outcome is None:  # the backend went away: the rest waits, in order
                return None
            sent += outcome[0]
            refused += outcome[1]
        return (sent, refused)

    def _settle(
        self, kind: EntryKind, authorisation_key: str, body: dict[str, Any], amount: Decimal
    ) -> Settlement:
        hold = self._hold_entry(authorisation_key)
        with self._decide_lock:
            if self._outbox.settlement_of(hold.key) is not None:
                raise AlreadySettled(f"hold {hold.key} is already captured or voided")
            entry = self._record(kind, body, hold.username, amount, hold.key)
        return self._finish(entry, amount)

    def _finish(self, entry: Entry, amount: Decimal) -> Settlement:
        self.drain(until=entry.key)
        entry = self._reload(entry)
        if entry.state is EntryState.REFUSED:
            raise _refusal(entry)
        if entry.state is EntryState.SENT:
            return Settlement(entry.key, True, amount, _result_balance(entry))
        return Settlement(entry.key, False, amount, None)

    def _hold_entry(self, key: str) -> Entry:
        entry = self._outbox.get(key)
        if entry is None or entry.kind is not EntryKind.HOLD:
            raise KeyError(f"no hold journalled under key {key!r}")
        return entry

    def _record(
        self, kind: EntryKind, body: dict[str, Any], username: str | None,
        amount: Decimal | None, parent: str | None,
    ) -> Entry:
        entry = self._outbox.record(kind, body, username=username, amount=amount, parent=parent)
        self._recorded.set()
        return entry

    def _reload(self, entry: Entry) -> Entry:
        fresh = self._outbox.get(entry.key)
        assert fresh is not None  # entries are never deleted while in use
        return fresh


class OutboxDrainer:
    """A background thread that keeps draining, backing off while the backend is away."""

    def __init__(self, book: ChargeBook, idle_s: float = 5.0, max_backoff_s: float = 60.0,
                 on_drained: Callable[[DrainReport], None] | None = None,
                 retention: timedelta = timedelta(days=30)) -> None:
        self._book = book
        self._retention = retention
        self._pruned_on: date | None = None
        self._idle_s = idle_s
        self._max_backoff_s = max_backoff_s
        self._on_drained = on_drained
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="outbox-drainer", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self, timeout_s: float = 5.0) -> None:
        self._stop.set()
        self._book.recorded.set()
        self._thread.join(timeout_s)

    def wake(self) -> None:
        self._book.recorded.set()

    def _run(self) -> None:
        backoff = 0.5
        while not self._stop.is_set():
            self._book.recorded.clear()
            try:
                report = self._book.drain()
            except Exception:  # a bug here must not silently end the draining for good
                _log.exception("outbox drain failed")
                report = DrainReport(0, 0, True, False)
            if self._on_drained is not None:
                self._on_drained(report)
            if not report.remaining:
                self._prune_daily()
            if report.reachable:
                backoff, wait = 0.5, self._idle_s
            else:
                wait, backoff = backoff, min(backoff * 2, self._max_backoff_s)
            self._book.recorded.wait(wait)


    def _prune_daily(self) -> None:
        now = datetime.now(UTC)
        if self._pruned_on != now.date():
            self._pruned_on = now.date()
            pruned = self._book.outbox.prune(now - self._retention)
            _log.info("outbox: %d sent entries older than %s forgotten", pruned, self._retention)


def _leading_events(entries: list[Entry]) -> list[Entry]:
    events: list[Entry] = []
    for entry in entries:
        if entry.kind is not EntryKind.EVENT or len(events) == EVENT_BATCH:
            break
        events.append(entry)
    return events


def _authorisation(entry: Entry) -> Authorisation:
    sent = entry.state is EntryState.SENT
    return Authorisation(
        entry.key, str(entry.username), entry.amount or Decimal(0), str(entry.body["job_ref"]),
        str(_result(entry)["hold_id"]) if sent else None, not sent,
        _result_balance(entry) if sent else None,
        None if entry.body.get("impressions") is None else int(entry.body["impressions"]),
    )


def _result(entry: Entry) -> dict[str, Any]:
    return entry.result or {}


def _refusal(entry: Entry) -> BackendRejected:
    result = _result(entry)
    return BackendRejected(str(result.get("code", "rejected")), str(result.get("detail", "")))


def _result_balance(entry: Entry) -> Balance | None:
    raw = _result(entry).get("balance")
    return balance_from_dict(raw) if isinstance(raw, dict) else None


def _print3d_settlement(result: dict[str, Any]) -> Print3DSettlement:
    raw = result.get("balance")
    return Print3DSettlement(
        int(result["job_id"]), str(result["outcome"]), str(result["policy"]),
        Decimal(str(result["grams"])), int(result["minutes"]), Decimal(str(result["charged"])),
        balance_from_dict(raw) if isinstance(raw, dict) else None)


def _hold_result(answer: HoldAnswer) -> dict[str, Any]:
    return {
        "hold_id": answer.hold_id, "status": answer.status, "amount": str(answer.amount),
        "captured": None if answer.captured is None else str(answer.captured),
        "released": None if answer.released is None else str(answer.released),
        "balance": balance_to_dict(answer.balance),
    }
