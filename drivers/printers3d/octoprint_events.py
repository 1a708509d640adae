"""OctoPrint's push channel: the events it fires (PrintDone, PrintCancelled with the
file position at the cancel, FilamentChange on M600/M701/M702, PrintPaused, ...) and
the firmware's action commands (``//action:...`` lines: a run-out sensor in Marlin
says ``//action:out_of_filament T0`` or pauses with ``//action:paused filament_runout``).

OctoPrint pushes them on SockJS (``/sockjs``) after an ``auth`` message carrying a
user's session (from a passive login with the API key). This uses SockJS's XHR-polling
transport over requests, so no websocket library is needed: a daemon thread keeps one
long poll open and queues what arrives; :meth:`OctoPrintEvents.drain` hands it over.
A broken channel is reopened (new login, new session) after a short pause.
"""

from __future__ import annotations

import json
import logging
import random
import string
import threading
from collections import deque
from dataclasses import dataclass, field
from typing import Any

import requests

from drivers.printers3d.octoprint import OctoPrintClient

log = logging.getLogger(__name__)

EVENTS = ["PrintStarted", "PrintDone", "PrintCancelled", "PrintFailed", "PrintPaused",
          "PrintResumed", "FilamentChange", "Disconnected", "Error"]
ACTION_LOGS = r"^Recv: *// *action:"


@dataclass(frozen=True)
class PushedEvent:
    """An OctoPrint event (``type``, ``payload``) or, with ``type == "action"``, a
    firmware action command line in ``payload["line"]``."""

    type: str
    payload: dict[str, Any] = field(default_factory=dict)


class OctoPrintEvents:
    """The event channel of one OctoPrint; ``start()`` once, ``drain()`` at each poll."""

    def __init__(self, client: OctoPrintClient, retry_s: float = 1.0) -> None:
        self._client = client
        self._retry_s = retry_s
        self._queue: deque[PushedEvent] = deque(maxlen=1000)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.connected = threading.Event()

    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="octoprint-events",
                                            daemon=True)
            self._thread.start()

    def stop(self) -> None:
        self._stop.set()

    def drain(self) -> list[PushedEvent]:
        """The events received since the previous call, oldest first."""
        out = []
        while self._queue:
            out.append(self._queue.popleft())
        return out

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self._session()
            except Exception as exc:
                log.debug("OctoPrint event channel broke: %s", exc)
            self.connected.clear()
            self._stop.wait(self._retry_s)

    def _session(self) -> None:
        name, session = self._client.passive_login()
        http = requests.Session()
        server = f"{random.randrange(1000):03d}"  # SockJS routing ids, not secrets
        ident = "".join(random.choices(string.ascii_lowercase + string.digits, k=12))
        base = f"{self._client.url}/sockjs/{server}/{ident}"
        timeout = max(self._client.timeout_s, 35.0)  # SockJS heartbeats every 25 s
        opened = http.post(base + "/xhr", timeout=timeout)
        if not opened.text.startswith("o"):
            raise ConnectionError(f"SockJS did not open: {opened.text[:80]!r}")
        self._send(http, base, {"auth": f"{name}:{session}"})
        self._send(http, base, {"subscribe": {
            "state": {"logs": ACTION_LOGS, "messages": False},
            "events": EVENTS, "plugins": False,
        }})
        while not self._stop.is_set():
            frame = http.post(base + "/xhr", timeout=timeout).text
            if frame.startswith("c"):
                raise ConnectionError(f"SockJS closed: {frame[:80]!r}")
            if frame.startswith("a"):
                for message in json.loads(frame[1:]):
                    self._receive(message if isinstance(message, dict) else json.loads(message))
                    self.connected.set()

    @staticmethod
    def _send(http: requests.Session, base: str, message: dict[str, Any]) -> None:
        http.post(base + "/xhr_send", data=json.dumps([json.dumps(message)]),
                  headers={"Content-Type": "text/plain"}, timeout=10).raise_for_status()

    def _receive(self, message: dict[str, Any]) -> None:
        if "event" in message:
            event = message["event"] or {}
            self._queue.append(PushedEvent(str(event.get("type")), event.get("payload") or {}))
        for part in ("current", "history"):
            for line in (message.get(part) or {}).get("logs") or []:
                if "action:" in line:
                    self._queue.append(PushedEvent("action", {"line": line}))
