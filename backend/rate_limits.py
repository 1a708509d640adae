"""Per-terminal rate limits on logins (card lookups and PINs), card enrolments, 3D
uploads and technician reports.

A token bucket per terminal, in this process's memory. Why not a database table: a card
lookup would then be a counted write under the same lock every charge needs (on SQLite
the one write lock), for a limit whose purpose is to stop a stolen terminal token from
trying card numbers or user names by the thousand. With SQLite there is one backend
process and the limit is exact; with N processes on PostgreSQL behind a load balancer a
terminal may get up to N times the rate, still a small bounded number (size the limit
by dividing it by N). A restart forgets the buckets, which only lets a burst through.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable

from backend.config import SessionSettings


class TokenBucket:
    """``rate_per_s`` tokens per second, at most ``burst`` saved, one bucket per key."""

    def __init__(self, rate_per_s: float, burst: int,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._rate = rate_per_s
        self._burst = float(burst)
        self._clock = clock
        self._lock = threading.Lock()
        self._buckets: dict[str, tuple[float, float]] = {}  # key -> (tokens, at)

    def take(self, key: str) -> int | None:
        """Spend a token: None when allowed, else the whole seconds to wait (Retry-After)."""
        with self._lock:
            now = self._clock()
            tokens, at = self._buckets.get(key, (self._burst, now))
            tokens = min(self._burst, tokens + (now - at) * self._rate)
            if tokens >= 1:
                self._buckets[key] = (tokens - 1, now)
                return None
            self._buckets[key] = (tokens, now)
            return max(1, math.ceil((1 - tokens) / self._rate))


class RateLimits:
    """The limits of one backend process, built from ``[sessions]`` in backend.toml."""

    def __init__(self, logins_per_minute: int, login_burst: int,
                 card_enrolments_per_hour: int, card_enrolment_burst: int,
                 clock: Callable[[], float] = time.monotonic,
                 print3d_uploads_per_hour: int = 120, print3d_upload_burst: int = 20,
                 technician_reports_per_hour: int = 600,
                 technician_report_burst: int = 100) -> None:
        self.logins = TokenBucket(logins_per_minute / 60, login_burst, clock)
        self.card_enrolments = TokenBucket(card_enrolments_per_hour / 3600,
                                           card_enrolment_burst, clock)
        # A 3D upload costs an analysis in a child process: a stolen token must not
        # keep the server's cores busy.
        self.print3d_uploads = TokenBucket(print3d_uploads_per_hour / 3600,
                                           print3d_upload_burst, clock)
        # Each report is an audit row: a stolen token must not fill the audit log.
        self.technician_reports = TokenBucket(technician_reports_per_hour / 3600,
                                              technician_report_burst, clock)

    @classmethod
    def from_settings(cls, settings: SessionSettings) -> RateLimits:
        return cls(settings.logins_per_minute, settings.login_burst,
                   settings.card_enrolments_per_hour, settings.card_enrolment_burst,
                   print3d_uploads_per_hour=settings.print3d_uploads_per_hour,
                   print3d_upload_burst=settings.print3d_upload_burst,
                   technician_reports_per_hour=settings.technician_reports_per_hour,
                   technician_report_burst=settings.technician_report_burst)
