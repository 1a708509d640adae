"""Moonraker's HTTP API (Klipper's API server): files, print start/cancel, the printer
objects ``print_stats`` and ``virtual_sdcard``, and the job history.

Moonraker answers ``{"result": ...}`` or ``{"error": {"code", "message"}}``. Klipper's
own refusals come back as 400 with Klipper's words (``SD busy`` when a print runs);
while Klippy is not connected every /printer call is a 503: the server answers but
the printer is offline, which :meth:`MoonrakerClient.status` reports as such.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests

from drivers.printers3d.errors import ServerRefused, ServerUnreachable
from drivers.printers3d.http import call

OBJECTS = ("print_stats", "virtual_sdcard", "extruder", "heater_bed", "webhooks")


@dataclass(frozen=True)
class MoonrakerStatus:
    """The printer objects as queried; ``klippy_ready`` False when Klippy is not
    connected or not ready (then the objects are empty)."""

    klippy_ready: bool
    print_stats: dict[str, Any]
    virtual_sdcard: dict[str, Any]
    temperatures: dict[str, tuple[float, float | None]]
    message: str = ""


def _classify(status: int, method: str, url: str, words: str) -> str:
    lowered = words.lower()
    if status in (401, 403):
        return "auth"
    if status == 404:
        return "not_found"
    if "busy" in lowered or "already printing" in lowered:
        return "busy"
    if "/server/files" in url:
        return "file"
    if "unable to open file" in lowered or "not found" in lowered:
        return "file"
    if "klippy" in lowered or "not ready" in lowered:
        return "not_ready"
    return "bad_request"


class MoonrakerClient:
    """A blocking client of one Moonraker; every call raises :class:`ServerUnreachable`
    or :class:`ServerRefused`. ``api_key`` may be None for a trusted client."""

    def __init__(self, url: str, api_key: str | None = None, timeout_s: float = 10.0) -> None:
        self.url = url.rstrip("/")
        self.timeout_s = timeout_s
        self._session = requests.Session()
        if api_key:
            self._session.headers["X-Api-Key"] = api_key

    def _call(self, method: str, path: str, **kwargs: Any) -> Any:
        answer = call(self._session, method, self.url + path, self.timeout_s, _classify,
                      **kwargs)
        return answer.json().get("result")

    def server_info(self) -> dict[str, Any]:
        """``GET /server/info``: ``moonraker_version``, ``klippy_state``, ..."""
        result: dict[str, Any] = self._call("GET", "/server/info")
        return result

    def upload(self, path: Path, name: str) -> None:
        with open(path, "rb") as handle:
            self._call("POST", "/server/files/upload", data={"root": "gcodes"},
                       files={"file": (name, handle, "application/octet-stream")})

    def start(self, name: str) -> None:
        self._call("POST", "/printer/print/start", params={"filename": name})

    def cancel(self) -> None:
        self._call("POST", "/printer/print/cancel")

    def pause(self) -> None:
        self._call("POST", "/printer/print/pause")

    def resume(self) -> None:
        self._call("POST", "/printer/print/resume")

    def delete(self, name: str) -> None:
        """Delete ``name`` from the gcodes root; a missing file is not an error. Moonraker
        0.11 answers a missing file with a bare 400 "Bad Request" (its own words, "Invalid
        file path", only reach the traceback); refusals of a file in use are 403."""
        try:
            self._call("DELETE", f"/server/files/gcodes/{name}")
        except ServerRefused as exc:
            if exc.status not in (400, 404):
                raise

    def status(self) -> MoonrakerStatus:
        """Query the printer objects; Klippy offline (503 from Moonraker, or a state
        other than ready) is a status, not an error."""
        try:
            result = self._call("GET", "/printer/objects/query",
                                params={name: "" for name in OBJECTS})
        except ServerUnreachable as exc:
            if "HTTP 503" not in str(exc):
                raise
            return MoonrakerStatus(False, {}, {}, {}, str(exc))
        status = result.get("status") or {}
        temperatures: dict[str, tuple[float, float | None]] = {}
        for heater in ("extruder", "heater_bed"):
            values = status.get(heater) or {}
            if values.get("temperature") is not None:
                target = values.get("target")
                temperatures[heater] = (float(values["temperature"]),
                                        None if target is None else float(target))
        webhooks = status.get("webhooks") or {}
        return MoonrakerStatus(
            webhooks.get("state", "ready") == "ready",
            dict(status.get("print_stats") or {}), dict(status.get("virtual_sdcard") or {}),
            temperatures, str(webhooks.get("state_message", "")),
        )

    def last_job(self) -> dict[str, Any] | None:
        """The newest entry of Moonraker's job history (``filename``, ``status``:
        completed / cancelled / error / klippy_shutdown / in_progress, ``filament_used``
        in mm, ``print_duration``), or None."""
        result = self._call("GET", "/server/history/list", params={"limit": 1, "order": "desc"})
        jobs = (result or {}).get("jobs") or []
        return dict(jobs[0]) if jobs else None
