"""Device problems mailed to the administrators: opened once, mailed once, closed when
they clear (docs/notifications.md, "Device problems").

Why a table of problems and not a mail per alert: a kiosk reports its printer's alert set
whenever it changes and a jammed printer may flap for an hour; an administrator wants one
mail saying "jam at Library 1 since 10:04", not forty. A problem is one open row per
terminal, problem code and subject (:class:`~backend.models.DeviceProblem`); opening it
records the mail in the same transaction, anything reported while it is open changes
nothing, and once it clears a recurrence is a new problem and a new mail.

Sources: the kiosk's ``alert`` and ``supplies`` events (in the transaction that stores
the event, so a duplicate event, already stored, does nothing), and the scheduled checks
(:func:`run_checks`): kiosks unheard of for a while, holds left open, and the daily
digest. Every step is safe with two backend processes: a problem's unique ``open_key``
and each mail's ``dedupe_key`` turn the second process's write into a no-op.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import exists, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from backend.config import BackendConfig, DeviceNotificationSettings
from backend.db import Database
from backend.holds_expiry import PRINTING_MAX_AGE
from backend.models import DeviceProblem, Hold, Notification, Print3DJob, Terminal, utcnow
from backend.money import fmt
from backend.notify.outbox import record
from backend.notify.recipients import administrators

_log = logging.getLogger(__name__)

# The raw alert codes a kiosk reports (RFC 3805 prtAlertCode names and RFC 2790
# hrPrinterDetectedErrorState bits, as drivers/snmp decodes them; the 3D kiosk's
# filament run-out) -> the problem in our words. Codes not listed (a tray size change, a
# configuration change, "other") are not worth a mail and are left out on purpose.
ALERT_PROBLEMS: dict[str, str] = {
    "jam": "jam", "jammed": "jam",
    "noToner": "toner_empty", "markerTonerEmpty": "toner_empty",
    "markerInkEmpty": "toner_empty", "markerTonerCartridgeMissing": "toner_empty",
    "lowToner": "toner_low", "markerTonerAlmostEmpty": "toner_low",
    "markerInkAlmostEmpty": "toner_low",
    "doorOpen": "door_open", "coverOpen": "door_open", "interlockOpen": "door_open",
    "offline": "printer_offline", "subunitOffline": "printer_offline",
    "printer_unreachable": "printer_unreachable",  # the kiosk's own (terminal/reporting.py)
    "noPaper": "paper_empty", "inputMediaSupplyEmpty": "paper_empty",
    "filament_runout": "filament_runout",
}
LOW_TONER_PROBLEMS = frozenset({"toner_low", "supply_low"})
# A 3D kiosk's run-out is raised and cleared by its print watcher, not by the printer's
# alert set: an alert set that does not mention it does not clear it.
RAISED_ONLY = frozenset({"filament_runout"})
# A printer says "toner low" twice: as an alert and as a supply level. The same SNMP read
# gives both (terminal/reporting.py), so a problem already open from one of them covers
# the other: one mail, not two, for one low cartridge.
COVERED_BY: dict[str, str] = {"toner_low": "supply_low", "supply_low": "toner_low",
                              "toner_empty": "supply_empty", "supply_empty": "toner_empty"}
KIOSK_SILENT = "kiosk_silent"
STALE_HOLD = "stale_hold"


def active(config: BackendConfig) -> DeviceNotificationSettings | None:
    """The device settings when device problems are tracked, else None (nothing done)."""
    notifications = config.notifications
    if not notifications.enabled or not notifications.devices.enabled:
        return None
    return notifications.devices


# -- opening and clearing ------------------------------------------------------------------


def open_problem(session: Session, config: BackendConfig, terminal: Terminal, source: str,
                 code: str, subject: str = "",
                 detail: Mapping[str, Any] | None = None) -> DeviceProblem | None:
    """Open the problem unless it is open already (None then); in immediate mode, record
    its mail to every administrator in the caller's transaction."""
    key = f"{terminal.id}:{code}:{subject}"
    if session.scalar(select(DeviceProblem.id).where(DeviceProblem.open_key == key)):
        return None
    problem = DeviceProblem(terminal_id=terminal.id, source=source, code=code,
                            subject=subject, detail=dict(detail or {}), open_key=key,
                            opened_at=utcnow())
    try:
        with session.begin_nested():
            session.add(problem)
            session.flush()
    except IntegrityError:  # opened by another process at the same moment
        return None
    if config.notifications.devices.mode == "immediate":
        context = {**problem_context(problem, terminal), "currency": config.ledger.currency}
        for address, language in administrators(session, config.notifications):
            record(session, kind="device_problem", to_address=address, language=language,
                   context=context,
                   dedupe_key=f"device_problem:{problem.id}:{_address_key(address)}")
    return problem


def clear(session: Session, problems: Iterable[DeviceProblem]) -> int:
    """Close the problems still open; how many this call closed."""
    closed = 0
    now = utcnow()
    for problem in problems:
        result = session.execute(
            update(DeviceProblem)
            .where(DeviceProblem.id == problem.id, DeviceProblem.cleared_at.is_(None))
            .values(cleared_at=now, open_key=None)
            .execution_options(synchronize_session=False))
        closed += result.rowcount  # type: ignore[attr-defined]
    return closed


def open_problems(session: Session, terminal_id: str | None = None,
                  source: str | None = None) -> list[DeviceProblem]:
    query = select(DeviceProblem).where(DeviceProblem.cleared_at.is_(None))
    if terminal_id is not None:
        query = query.where(DeviceProblem.terminal_id == terminal_id)
    if source is not None:
        query = query.where(DeviceProblem.source == source)
    return list(session.scalars(query.order_by(DeviceProblem.id)))


def problem_context(problem: DeviceProblem, terminal: Terminal) -> dict[str, Any]:
    """What a template needs of one problem (JSON only; words come from the template)."""
    return {"problem": problem.code, "subject": problem.subject,
            "detail": problem.detail, "terminal": terminal.name,
            "terminal_id": terminal.id, "device": terminal.device or "",
            "device_model": terminal.device_model or "",
            "since": problem.opened_at.astimezone(UTC).isoformat(),
            "cleared": (problem.cleared_at.astimezone(UTC).isoformat()
                        if problem.cleared_at else None)}


def _address_key(address: str) -> str:
    """A short stable key of an address (dedupe keys stay within their column)."""
    return hashlib.sha256(address.strip().lower().encode("utf-8")).hexdigest()[:20]


# -- what kiosks report --------------------------------------------------------------------


@dataclass(frozen=True)
class _Seen:
    code: str
    subject: str
    detail: dict[str, Any]


def on_event(session: Session, config: BackendConfig, terminal_id: str, kind: str,
             payload: Mapping[str, Any]) -> None:
    """A newly stored terminal event: open and clear the problems it says, in its
    transaction. Called only for events stored now, so a resent event does nothing."""
    settings = active(config)
    if settings is None or kind not in ("alert", "supplies"):
        return
    terminal = session.get(Terminal, terminal_id)
    if terminal is None or terminal.revoked_at is not None:
        return
    if kind == "alert":
        _on_alert(session, config, settings, terminal, payload)
    else:
        _on_supplies(session, config, settings, terminal, payload)


def _alert_problems(entries: object, settings: DeviceNotificationSettings) -> dict[str, _Seen]:
    """Problem code -> what was seen, from a list of alerts (dicts with ``code`` as the
    kiosk's SNMP reporter sends them, or bare code strings); malformed entries skipped."""
    found: dict[str, _Seen] = {}
    if not isinstance(entries, list):
        return found
    for entry in entries:
        raw = entry.get("code") if isinstance(entry, dict) else entry
        if not isinstance(raw, str) or raw not in ALERT_PROBLEMS:
            continue
        code = ALERT_PROBLEMS[raw]
        if code in LOW_TONER_PROBLEMS and not settings.low_toner:
            continue
        description = entry.get("description") if isinstance(entry, dict) else None
        seen = found.setdefault(code, _Seen(code, "", {"codes": [], "descriptions": []}))
        if raw not in seen.detail["codes"]:
            seen.detail["codes"].append(raw)
        if isinstance(description, str) and description and description != raw and (
                description not in seen.detail["descriptions"]):
            seen.detail["descriptions"].append(description[:200])
    return found


def _on_alert(session: Session, config: BackendConfig, settings: DeviceNotificationSettings,
              terminal: Terminal, payload: Mapping[str, Any]) -> None:
    raised = _alert_problems(payload.get("raised"), settings)
    cleared = _alert_problems(payload.get("cleared"), settings)
    if isinstance(payload.get("active"), list):
        # The full alert set: what it lacks has cleared (a cleared list lost in a kiosk
        # restart is then repaired by the next report).
        now_active = _alert_problems(payload["active"], settings)
        raised = {**now_active, **{c: s for c, s in raised.items() if c in RAISED_ONLY}}
        for code in list(cleared):
            if code in now_active:
                del cleared[code]
        gone = [p for p in open_problems(session, terminal.id, "alert")
                if p.code not in raised and (p.code not in RAISED_ONLY or p.code in cleared)]
    else:
        gone = [p for p in open_problems(session, terminal.id, "alert")
                if p.code in cleared and p.code not in raised]
    clear(session, gone)
    for seen in raised.values():
        if not _covered(session, terminal.id, seen.code):
            open_problem(session, config, terminal, "alert", seen.code, seen.subject,
                         seen.detail)


def _on_supplies(session: Session, config: BackendConfig,
                 settings: DeviceNotificationSettings, terminal: Terminal,
                 payload: Mapping[str, Any]) -> None:
    """A supplies report is the whole list: an empty supply (0 %) or, with ``low_toner``,
    one at or below ``low_supply_percent`` is a problem until a report shows it refilled."""
    supplies = payload.get("supplies")
    if not isinstance(supplies, list):
        return
    seen: dict[tuple[str, str], _Seen] = {}
    for supply in supplies:
        if not isinstance(supply, dict):
            continue
        name, level = supply.get("name"), supply.get("level_percent")
        if not isinstance(name, str) or not name or isinstance(level, bool) or not isinstance(
                level, int) or level < 0:
            continue  # unknown level (None, or SNMP's -2/-3)
        if level == 0:
            code = "supply_empty"
        elif level <= settings.low_supply_percent and settings.low_toner:
            code = "supply_low"
        else:
            continue
        seen[code, name[:200]] = _Seen(code, name[:200], {"level_percent": level})
    clear(session, [p for p in open_problems(session, terminal.id, "supplies")
                    if (p.code, p.subject) not in seen])
    for item in seen.values():
        if not _covered(session, terminal.id, item.code):
            open_problem(session, config, terminal, "supplies", item.code, item.subject,
                         item.detail)


def _covered(session: Session, terminal_id: str, code: str) -> bool:
    """Whether the same trouble is already open under its other name (see COVERED_BY)."""
    other = COVERED_BY.get(code)
    return other is not None and session.scalar(
        select(DeviceProblem.id).where(DeviceProblem.terminal_id == terminal_id,
                                       DeviceProblem.code == other,
                                       DeviceProblem.cleared_at.is_(None)).limit(1)) is not None


# -- the scheduled checks ------------------------------------------------------------------


def check_silent_kiosks(session: Session, config: BackendConfig,
                        settings: DeviceNotificationSettings) -> int:
    """A kiosk unheard of for ``heartbeat_missing_min`` is a problem; seen again, it
    clears. A terminal never seen yet (not installed) or revoked is left alone (the
    revoked one's open problems close: nobody is to fix it)."""
    cutoff = utcnow() - timedelta(minutes=settings.heartbeat_missing_min)
    opened = 0
    for problem in open_problems(session, source="heartbeat"):
        terminal = session.get(Terminal, problem.terminal_id)
        assert terminal is not None
        if terminal.revoked_at is not None or (
                terminal.last_seen_at is not None and terminal.last_seen_at >= cutoff):
            clear(session, [problem])
    silent = session.scalars(select(Terminal).where(
        Terminal.revoked_at.is_(None), Terminal.last_seen_at.is_not(None),
        Terminal.last_seen_at < cutoff).order_by(Terminal.id))
    for terminal in silent:
        assert terminal.last_seen_at is not None
        if open_problem(session, config, terminal, "heartbeat", KIOSK_SILENT, "",
                        {"last_seen_at": terminal.last_seen_at.astimezone(UTC).isoformat()}):
            opened += 1
    return opened


def check_stale_holds(session: Session, config: BackendConfig,
                      settings: DeviceNotificationSettings) -> int:
    """A hold still open ``stale_hold_h`` after it was taken: its kiosk never settled it
    (hold expiry voids it later; the administrator may want to look before). One problem
    per hold, closed when the hold is settled (captured, voided or expired). The hold of
    a 3D print in progress is not stale (:data:`~backend.holds_expiry.PRINTING_MAX_AGE`)."""
    for problem in open_problems(session, source="hold"):
        hold = session.get(Hold, problem.subject)
        if hold is None or hold.status != "open":
            clear(session, [problem])
    cutoff = utcnow() - timedelta(hours=settings.stale_hold_h)
    # A 3D print may run for days on its hold: stale only as hold expiry sees it.
    printing = exists(select(Print3DJob.id).where(Print3DJob.hold_id == Hold.id,
                                                  Print3DJob.status == "printing"))
    opened = 0
    stale = session.scalars(select(Hold).where(
        Hold.status == "open", Hold.created_at < cutoff,
        or_(~printing, Hold.created_at < utcnow() - PRINTING_MAX_AGE)).order_by(Hold.id))
    for hold in stale:
        terminal = session.get(Terminal, hold.terminal_id)
        assert terminal is not None
        if open_problem(session, config, terminal, "hold", STALE_HOLD, hold.id, {
                "amount": fmt(hold.amount), "user_id": hold.user_id,
                "description": hold.description[:200],
                "created_at": hold.created_at.astimezone(UTC).isoformat()}):
            opened += 1
    return opened


def send_digest(session: Session, config: BackendConfig,
                settings: DeviceNotificationSettings, now: datetime | None = None) -> int:
    """Digest mode: once the site's local ``digest_hour`` has come, ONE mail per
    administrator for that local date (its dedupe key), listing the problems opened and
    cleared since the last digest and those still open; nothing when nothing changed."""
    if settings.mode != "digest":
        return 0
    zone = ZoneInfo(config.vouchers.timezone or "UTC")
    now = now or utcnow()
    local = now.astimezone(zone)
    if local.hour < settings.digest_hour:
        return 0
    day = local.date().isoformat()
    last = session.scalar(select(Notification.created_at)
                          .where(Notification.kind == "device_digest")
                          .order_by(Notification.created_at.desc()).limit(1))
    since = last or now - timedelta(days=1)
    changed = list(session.scalars(select(DeviceProblem).where(
        or_(DeviceProblem.opened_at > since, DeviceProblem.cleared_at > since))
        .order_by(DeviceProblem.opened_at, DeviceProblem.id)))
    if not changed:
        return 0
    still = [p for p in open_problems(session) if p.opened_at <= since]

    def items(problems: Iterable[DeviceProblem]) -> list[dict[str, Any]]:
        listed = []
        for problem in problems:
            terminal = session.get(Terminal, problem.terminal_id)
            assert terminal is not None
            listed.append(problem_context(problem, terminal))
        return listed

    opened = items(p for p in changed if p.opened_at > since)
    # Opened and cleared within the window: listed once, with both times.
    context: dict[str, Any] = {
        "day": day, "currency": config.ledger.currency,
        "opened": [item for item in opened if not item["cleared"]],
        "open_and_cleared": [item for item in opened if item["cleared"]],
        "cleared": items(p for p in changed
                         if p.cleared_at is not None and p.opened_at <= since),
        "still_open": items(still)}
    sent = 0
    for address, language in administrators(session, config.notifications):
        if record(session, kind="device_digest", to_address=address, language=language,
                  context=context,
                  dedupe_key=f"device_digest:{day}:{_address_key(address)}") is not None:
            sent += 1
    return sent


def run_checks(db: Database, config: BackendConfig) -> int:
    """The scheduler's job: silent kiosks, stale holds, supplies forecast to run out
    (backend.fleet.supply_alerts), then the digest, each in its own
    transaction; how many problems were opened and digests recorded."""
    settings = active(config)
    if settings is None:
        return 0
    done = 0
    with db.write() as session:
        done += check_silent_kiosks(session, config, settings)
    with db.write() as session:
        done += check_stale_holds(session, config, settings)
    from backend.fleet.supply_alerts import check_supply_forecasts  # fleet imports this

    with db.write() as session:
        done += check_supply_forecasts(session, config)
    with db.write() as session:
        done += send_digest(session, config, settings)
    return done
