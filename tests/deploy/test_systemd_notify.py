"""printkiosk.systemd_notify against a real datagram socket, path and abstract names."""

from __future__ import annotations

import os
import socket
from pathlib import Path

from printkiosk.systemd_notify import Watchdog, notify, watchdog_interval_s


def test_notify_reaches_a_path_socket_and_an_abstract_one(tmp_path: Path) -> None:
    path = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    path.bind(str(tmp_path / "notify.sock"))
    abstract = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    name = f"printkiosk-test-{os.getpid()}"
    abstract.bind("\0" + name)
    with path, abstract:
        assert notify("READY=1", {"NOTIFY_SOCKET": str(tmp_path / "notify.sock")})
        assert notify("WATCHDOG=1", {"NOTIFY_SOCKET": "@" + name})
        assert path.recv(100) == b"READY=1"
        assert abstract.recv(100) == b"WATCHDOG=1"


def test_without_systemd_or_with_a_dead_socket_notify_says_false(tmp_path: Path) -> None:
    assert notify("READY=1", {}) is False
    assert notify("READY=1", {"NOTIFY_SOCKET": str(tmp_path / "gone.sock")}) is False
    assert notify("READY=1", {"NOTIFY_SOCKET": "relative.sock"}) is False


def test_the_interval_is_half_of_watchdog_usec_and_only_for_this_process() -> None:
    assert watchdog_interval_s({"WATCHDOG_USEC": "30000000"}) == 15.0
    assert watchdog_interval_s({"WATCHDOG_USEC": "30000000",
                                "WATCHDOG_PID": str(os.getpid())}) == 15.0
    assert watchdog_interval_s({"WATCHDOG_USEC": "30000000", "WATCHDOG_PID": "1"}) is None
    assert watchdog_interval_s({}) is None
    assert watchdog_interval_s({"WATCHDOG_USEC": "soon"}) is None
    assert watchdog_interval_s({"WATCHDOG_USEC": "0"}) is None


def test_the_watchdog_says_ready_first_pings_when_due_and_stops_after_stopping(
    tmp_path: Path,
) -> None:
    server = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    server.bind(str(tmp_path / "notify.sock"))
    server.settimeout(0)
    now = [100.0]
    watchdog = Watchdog({"NOTIFY_SOCKET": str(tmp_path / "notify.sock"),
                         "WATCHDOG_USEC": "2000000"}, clock=lambda: now[0])
    assert watchdog.interval_s() == 1.0
    sent: list[bytes] = []
    for at in (100.0, 100.2, 100.49, 100.5, 100.7, 101.1, 101.2):
        now[0] = at
        watchdog.beat()
    watchdog.stopping()
    watchdog.stopping()
    now[0] = 110.0
    watchdog.beat()
    with server:
        while True:
            try:
                sent.append(server.recv(100))
            except BlockingIOError:
                break
    # READY at 100.0; pings once half the interval (0.5 s) has gone: 100.5, 101.1
    assert sent == [b"READY=1\nSTATUS=serving", b"WATCHDOG=1", b"WATCHDOG=1", b"STOPPING=1"]
