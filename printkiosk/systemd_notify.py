"""Tell systemd how a service is doing: ready, alive, stopping (the sd_notify protocol).

The units are ``Type=notify`` with ``WatchdogSec=``: systemd starts a service, waits for
``READY=1``, and restarts it when no ``WATCHDOG=1`` arrives within WATCHDOG_USEC. The
pings must come from the loop that would freeze (the Kivy clock, the backend's asyncio
loop), never from a thread of their own, or a frozen UI would look alive.

The protocol is one datagram on the AF_UNIX socket named by NOTIFY_SOCKET (a leading
``@`` names the abstract namespace). Written here rather than taken from ``sdnotify``,
which swallows every error, or libsystemd, which is not on every box. Outside systemd
(no NOTIFY_SOCKET) every call is a no-op, so ``printkiosk kiosk`` runs the same by hand.
"""

from __future__ import annotations

import logging
import os
import socket
import time
from collections.abc import Callable, Mapping

_log = logging.getLogger(__name__)


def notify(state: str, environ: Mapping[str, str] | None = None) -> bool:
    """Send ``state`` (e.g. ``"READY=1"``) to systemd; False when there is no socket to
    send to or the send failed (logged once per failure, never raised: a service must
    not die because its supervisor went away)."""
    address = (os.environ if environ is None else environ).get("NOTIFY_SOCKET", "")
    if not address:
        return False
    if address[0] == "@":
        address = "\0" + address[1:]
    elif not address.startswith("/"):
        _log.warning("NOTIFY_SOCKET=%r is neither a path nor an abstract name", address)
        return False
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC) as sock:
            sock.connect(address)
            sock.sendall(state.encode("utf-8"))
    except OSError as exc:
        _log.warning("cannot notify systemd (%s) of %r: %s", address.lstrip("\0"),
                     state.split("\n", 1)[0], exc)
        return False
    return True


def watchdog_interval_s(environ: Mapping[str, str] | None = None) -> float | None:
    """How often to ping: half of WATCHDOG_USEC (systemd's own advice), or None when
    no watchdog is asked for, or WATCHDOG_PID names another process (the ping is then
    someone else's to send)."""
    env = os.environ if environ is None else environ
    raw = env.get("WATCHDOG_USEC", "")
    if not raw:
        return None
    pid = env.get("WATCHDOG_PID", "")
    if pid and pid != str(os.getpid()):
        return None
    try:
        usec = int(raw)
    except ValueError:
        _log.warning("WATCHDOG_USEC=%r is not a number of microseconds: no watchdog", raw)
        return None
    return usec / 2_000_000 if usec > 0 else None


class Watchdog:
    """The beat of one service: ``beat()`` from its main loop, as often as it likes.

    The first beat says READY=1 (the caller beats first once it really serves: the
    kiosk at its first frame, the backend once it listens). Later beats send WATCHDOG=1
    once half of :meth:`interval_s` has gone since the last ping: a loop ticking twice a
    second does not flood systemd, and a beat arriving a tick late (a loop's timer is
    never exact) still pings well within WATCHDOG_USEC. ``stopping()`` says STOPPING=1
    once, at the start of a shutdown.
    """

    def __init__(self, environ: Mapping[str, str] | None = None,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._environ = dict(os.environ if environ is None else environ)
        self._clock = clock
        self._interval = watchdog_interval_s(self._environ)
        self._ready = False
        self._stopping = False
        self._last_ping: float | None = None

    def interval_s(self) -> float | None:
        """Seconds between pings (WATCHDOG_USEC / 2), None without a watchdog."""
        return self._interval

    def beat(self) -> None:
        """READY=1 the first time, then WATCHDOG=1 when a ping is due (see above)."""
        if self._stopping:
            return
        now = self._clock()
        if not self._ready:
            self._ready = True
            self._last_ping = now
            notify("READY=1\nSTATUS=serving", self._environ)
            return
        if self._interval is None:
            return
        if self._last_ping is None or now - self._last_ping >= self._interval / 2:
            self._last_ping = now
            notify("WATCHDOG=1", self._environ)

    def stopping(self) -> None:
        """STOPPING=1, once; no ping after it (systemd now waits for the exit)."""
        if not self._stopping:
            self._stopping = True
            notify("STOPPING=1", self._environ)
