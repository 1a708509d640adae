"""systemd's side of sd_notify, for tests: a datagram socket that records every message
with the time it arrived, as the service manager would receive them."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class Message:
    at: float  # time.monotonic() on arrival
    text: str


@dataclass
class NotifyListener:
    """Bind ``path``; ``env()`` gives what systemd would put in the service's environment."""

    path: Path
    messages: list[Message] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        self._sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self._sock.bind(str(self.path))
        self._sock.settimeout(0.2)
        self._closed = threading.Event()
        self._thread = threading.Thread(target=self._receive, daemon=True)
        self._thread.start()

    def env(self, watchdog_usec: int) -> dict[str, str]:
        return {**os.environ, "NOTIFY_SOCKET": str(self.path),
                "WATCHDOG_USEC": str(watchdog_usec)}

    def _receive(self) -> None:
        while not self._closed.is_set():
            try:
                data = self._sock.recv(4096)
            except TimeoutError:
                continue
            except OSError:
                return
            with self._lock:
                self.messages.append(Message(time.monotonic(), data.decode()))

    def received(self, since: float = 0.0) -> list[Message]:
        with self._lock:
            return [message for message in self.messages if message.at >= since]

    def wait_for(self, text: str, timeout_s: float, since: float = 0.0,
                 sender: subprocess.Popen[str] | None = None) -> Message:
        """The first message starting with ``text`` after ``since``, waiting for it
        (not longer than ``sender`` lives)."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline and (sender is None or sender.poll() is None):
            for message in self.received(since):
                if message.text.startswith(text):
                    return message
            time.sleep(0.05)
        raise AssertionError(f"no {text!r} within {timeout_s:g} s; got "
                             f"{[m.text for m in self.received()]}")

    def pings(self, since: float, until: float) -> list[float]:
        return [m.at for m in self.received(since) if m.text == "WATCHDOG=1" and m.at <= until]

    def close(self) -> None:
        self._closed.set()
        self._sock.close()
        self._thread.join(timeout=2)


def toml_text(data: dict[str, Any]) -> str:
    """A small TOML writer for the test's kiosk files: tables of scalars and lists, nested
    tables (JSON's strings, numbers and lists are TOML's too)."""
    lines: list[str] = []

    def table(name: str, values: dict[str, Any]) -> None:
        lines.append(f"[{name}]")
        for key, value in values.items():
            if not isinstance(value, dict):
                lines.append(f"{key} = {json.dumps(value)}")
        for key, value in values.items():
            if isinstance(value, dict):
                table(f"{name}.{key}", value)

    for name, values in data.items():
        table(name, values)
    return "\n".join(lines) + "\n"
