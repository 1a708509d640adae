"""A supply forecast to run out within ``[fleet] supply_alert_days``: a device problem
(issue 18's machinery, :mod:`backend.notify.devices`), so the administrators get one mail
and the problem stays open, mailing nothing more, until the forecast moves out of the
window (a new cartridge) or the device leaves the fleet.

Why a scheduled check and not on each supplies event: the forecast is over weeks of
readings, and "N days ahead" moves with the clock even when no reading comes. A problem
belongs to a terminal (the kiosk beside the device); a device no kiosk stands beside has
its forecast on the fleet page but nobody's problem list. A supply already low or empty
by its level (``supply_low``/``supply_empty``, same subject) is not mailed twice.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from backend.config import BackendConfig
from backend.fleet.forecast import device_forecasts
from backend.models import Device, DeviceProblem, Terminal, utcnow
from backend.notify.devices import clear, open_problem, open_problems

SOURCE = "forecast"
RUNOUT_SOON = "supply_runout_soon"
BY_LEVEL = ("supply_low", "supply_empty")


def check_supply_forecasts(session: Session, config: BackendConfig,
                           now: datetime | None = None) -> int:
    """Open the problems of supplies forecast to run out soon, close the others; how
    many were opened."""
    now = now or utcnow()
    fleet = config.fleet
    kiosks = session.execute(select(Terminal, Device.id)
                             .join(Device, Device.code == Terminal.device)
                             .where(Terminal.revoked_at.is_(None), Device.active)
                             .order_by(Terminal.id)).tuples().all()
    soon: dict[tuple[str, str], dict[str, object]] = {}
    terminals = {terminal.id: terminal for terminal, _ in kiosks}
    forecasts_of: dict[int, list[tuple[str, dict[str, object]]]] = {}
    for terminal, device_id in kiosks:
        if device_id not in forecasts_of:
            forecasts_of[device_id] = []
            for forecast in device_forecasts(session, device_id, now,
                                             fleet.forecast_window_days,
                                             fleet.forecast_min_points):
                days = forecast.days_left(now)
                if days is None or days > fleet.supply_alert_days:
                    continue
                assert forecast.runs_out_at is not None
                forecasts_of[device_id].append((forecast.supply, {
                    "runs_out_on": forecast.runs_out_at.astimezone(UTC).date().isoformat(),
                    "days_left": int(days), "level_percent": forecast.last.percent,
                    "days_of_data": round(forecast.days_of_data, 1)}))
        for supply, detail in forecasts_of[device_id]:
            soon[terminal.id, supply[:200]] = detail
    clear(session, [problem for problem in open_problems(session, source=SOURCE)
                    if (problem.terminal_id, problem.subject) not in soon])
    opened = 0
    for (terminal_id, supply), detail in soon.items():
        if _by_level(session, terminal_id, supply):
            continue
        if open_problem(session, config, terminals[terminal_id], SOURCE, RUNOUT_SOON,
                        supply, detail) is not None:
            opened += 1
    return opened


def _by_level(session: Session, terminal_id: str, supply: str) -> bool:
    return session.scalar(select(DeviceProblem.id).where(
        DeviceProblem.terminal_id == terminal_id, DeviceProblem.subject == supply,
        DeviceProblem.code.in_(BY_LEVEL), DeviceProblem.cleared_at.is_(None))
        .limit(1)) is not None
