"""The 3D printer servers' errors, of this package's own: the caller (terminal's
adapters) maps them to its vocabulary; nothing of requests leaks out."""

from __future__ import annotations


class PrinterServerError(Exception):
    """Base of the errors an OctoPrint or Moonraker client raises."""


class ServerUnreachable(PrinterServerError):
    """The server did not answer (refused connection, timeout, DNS, 5xx from a proxy in
    front of it): ``str()`` says the URL tried and what happened."""


class ServerRefused(PrinterServerError):
    """The server answered and refused the request: ``status`` (HTTP), ``reason`` (a
    short stable word of ours: ``auth``, ``busy``, ``not_ready``, ``file``, ``not_found``,
    ``bad_request``) and ``message``, the server's own words."""

    def __init__(self, status: int, reason: str, message: str) -> None:
        super().__init__(f"{status} {reason}: {message}")
        self.status = status
        self.reason = reason
        self.message = message
