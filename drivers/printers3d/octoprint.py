"""OctoPrint's REST API with an API key (``X-Api-Key``): files, the job, the printer.

OctoPrint answers a refusal with a 4xx and ``{"error": "..."}``: 403 for a wrong key,
409 for "busy" (already printing, file in use) and "not ready" (printer not
operational), 400/415 for a file it will not take, 404 for a missing file.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests

from drivers.printers3d.errors import ServerRefused
from drivers.printers3d.http import call


@dataclass(frozen=True)
class OctoPrintJob:
    """``GET /api/job``: the printer state text and the current (or last selected) job.
    After a job ends OctoPrint clears ``filepos``/``completion`` (None)."""

    state: str
    file_name: str | None
    file_size: int | None
    completion: float | None   # percent
    filepos: int | None
    print_time_s: int | None
    print_time_left_s: int | None


@dataclass(frozen=True)
class OctoPrintPrinter:
    """``GET /api/printer``: state text, flags and temperatures {heater: (actual, target)}."""

    state: str
    flags: dict[str, bool]
    temperatures: dict[str, tuple[float, float | None]] = field(default_factory=dict)


@dataclass(frozen=True)
class LastPrint:
    """A file's print record (``prints.last`` of ``GET /api/files/local/NAME``): OctoPrint
    logs a completed print as a success and a cancelled or failed one as a failure."""

    success: bool
    print_time_s: float | None


def _classify(status: int, method: str, url: str, words: str) -> str:
    if status in (401, 403):
        return "auth"
    if status == 404:
        return "not_found"
    if status in (400, 415):
        return "file" if "/api/files" in url else "bad_request"
    if status == 409:
        lowered = words.lower()
        if any(word in lowered for word in ("already printing", "in use", "being printed")):
            return "busy"
        return "not_ready"
    return "bad_request"


class OctoPrintClient:
    """A blocking client of one OctoPrint server; every call raises
    :class:`ServerUnreachable` or :class:`ServerRefused`."""

    def __init__(self, url: str, api_key: str, timeout_s: float = 10.0) -> None:
        self.url = url.rstrip("/")
        self.api_key = api_key
        self.timeout_s = timeout_s
        self._session = requests.Session()
        self._session.headers["X-Api-Key"] = api_key

    def _call(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        return call(self._session, method, self.url + path, self.timeout_s, _classify, **kwargs)

    def version(self) -> dict[str, Any]:
        """``GET /api/version``: ``{"api", "server", "text"}``."""
        result: dict[str, Any] = self._call("GET", "/api/version").json()
        return result

    def upload(self, path: Path, name: str) -> None:
        """Store ``path`` as ``name`` in OctoPrint's local storage (replacing a file of
        that name unless it is being printed: ``busy``)."""
        with open(path, "rb") as handle:
            self._call("POST", "/api/files/local",
                       files={"file": (name, handle, "application/octet-stream")})

    def select_and_print(self, name: str) -> None:
        """Select ``name`` and start printing it (``busy`` if a print runs, ``not_ready``
        if the printer is not operational)."""
        self._call("POST", f"/api/files/local/{name}", json={"command": "select", "print": True})

    def cancel(self) -> None:
        """Cancel the print in progress (``not_ready`` when there is none)."""
        self._call("POST", "/api/job", json={"command": "cancel"})

    def pause(self, action: str = "pause") -> None:
        self._call("POST", "/api/job", json={"command": "pause", "action": action})

    def delete(self, name: str) -> None:
        """Delete ``name``; a missing file is not an error."""
        try:
            self._call("DELETE", f"/api/files/local/{name}")
        except ServerRefused as exc:
            if exc.reason != "not_found":
                raise

    def last_print(self, name: str) -> LastPrint | None:
        """The file's last print record, or None when it was never printed (or is gone)."""
        try:
            info = self._call("GET", f"/api/files/local/{name}").json()
        except ServerRefused as exc:
            if exc.reason == "not_found":
                return None
            raise
        last = (info.get("prints") or {}).get("last")
        if not isinstance(last, dict) or "success" not in last:
            return None
        return LastPrint(bool(last["success"]), last.get("printTime"))

    def job(self) -> OctoPrintJob:
        body = self._call("GET", "/api/job").json()
        job, progress = body.get("job") or {}, body.get("progress") or {}
        file = job.get("file") or {}
        return OctoPrintJob(
            state=str(body.get("state", "")),
            file_name=file.get("name"),
            file_size=file.get("size"),
            completion=progress.get("completion"),
            filepos=progress.get("filepos"),
            print_time_s=_int(progress.get("printTime")),
            print_time_left_s=_int(progress.get("printTimeLeft")),
        )

    def printer(self) -> OctoPrintPrinter:
        """``GET /api/printer``; while the printer is disconnected OctoPrint answers 409
        ("Printer is not operational"): that is an ``Offline`` printer, not a refusal."""
        try:
            body = self._call("GET", "/api/printer").json()
        except ServerRefused as exc:
            if exc.status == 409:
                return OctoPrintPrinter("Offline", {"operational": False})
            raise
        state = body.get("state") or {}
        temperatures: dict[str, tuple[float, float | None]] = {}
        for heater, values in (body.get("temperature") or {}).items():
            if isinstance(values, dict) and values.get("actual") is not None:
                target = values.get("target")
                temperatures[heater] = (float(values["actual"]),
                                        None if target is None else float(target))
        return OctoPrintPrinter(str(state.get("text", "")),
                                dict(state.get("flags") or {}), temperatures)

    def passive_login(self) -> tuple[str, str]:
        """``POST /api/login {"passive": true}`` with the key: (user name, session), what
        the push socket's ``auth`` message needs."""
        body = self._call("POST", "/api/login", json={"passive": True}).json()
        return str(body["name"]), str(body["session"])


def _int(value: object) -> int | None:
    return None if value is None else int(float(value))  # type: ignore[arg-type]
