"""The local technician PIN: the way into technician mode when the backend is away.

A kiosk that cannot reach its backend is exactly the kiosk a technician must repair, so
one PIN is set at install (``printkiosk technician set-pin``) and kept on the box as an
scrypt hash, never as the PIN, in a 0600 file (``[technician] local_pin_file``) whose
one line is ``scrypt$<n>$<r>$<p>$<salt b64>$<hash b64>``. Four to twelve digits are few,
so wrong attempts are counted: five in a row lock the PIN for five minutes, and the
count lives in ``<state_dir>/technician-pin-attempts.json`` (written atomically) so
that restarting the kiosk, or pulling its plug, does not reset it.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import secrets
import threading
import time
from collections.abc import Callable
from pathlib import Path

from terminal.config import ConfigError, read_secret
from terminal.config_store import write_atomic
from terminal.technician_types import TechnicianRefusal

PIN_ENV = "PRINTKIOSK_TECHNICIAN_PIN"
ATTEMPTS_FILE = "technician-pin-attempts.json"
MAX_ATTEMPTS = 5
LOCK_S = 300
# scrypt cost: 16 MiB and about 0.15 s per check on the 2 shared cores it was measured
# on (a login check runs on the worker thread, never the UI thread)
_N, _R, _P = 2**14, 8, 1
_PIN = re.compile(r"[0-9]{4,12}")


def pin_problem(pin: str) -> str | None:
    """Why ``pin`` cannot be a technician PIN, or None."""
    if not _PIN.fullmatch(pin):
        return "the technician PIN must be 4 to 12 digits"
    return None


def hash_pin(pin: str, n: int = _N, r: int = _R, p: int = _P) -> str:
    """The file's line for ``pin``: scrypt with a fresh 16-byte salt."""
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(pin.encode(), salt=salt, n=n, r=r, p=p, dklen=32)
    return "$".join(["scrypt", str(n), str(r), str(p), _b64(salt), _b64(digest)])


def pin_matches(line: str, pin: str) -> bool:
    """Whether ``pin`` is the one ``line`` (as :func:`hash_pin` wrote it) was made from."""
    n, r, p, salt, digest = _parse(line, "the PIN file")
    found = hashlib.scrypt(pin.encode(), salt=salt, n=n, r=r, p=p, dklen=len(digest),
                           maxmem=128 * n * r * p + 1024 * 1024)
    return hmac.compare_digest(found, digest)


def read_pin_file(path: Path) -> str:
    """The hash line of a local PIN file, refusing one others can read or a bad line."""
    line = read_secret(path)
    _parse(line, str(path))
    return line


def write_pin_file(path: Path, pin: str) -> None:
    """Hash ``pin`` and write it atomically, mode 0600 from the first byte."""
    problem = pin_problem(pin)
    if problem is not None:
        raise ValueError(problem)
    write_atomic(path, hash_pin(pin) + "\n", mode=0o600, keep_previous=False)


def _parse(line: str, where: str) -> tuple[int, int, int, bytes, bytes]:
    parts = line.strip().split("$")
    try:
        if len(parts) != 6 or parts[0] != "scrypt":
            raise ValueError
        n, r, p = int(parts[1]), int(parts[2]), int(parts[3])
        salt, digest = base64.b64decode(parts[4], validate=True), \
            base64.b64decode(parts[5], validate=True)
        if n < 2 or n & (n - 1) or r < 1 or p < 1 or not salt or len(digest) < 16:
            raise ValueError
    except ValueError:
        raise ConfigError([f"{where}: is not a technician PIN hash "
                           "(scrypt$<n>$<r>$<p>$<salt>$<hash>, written by "
                           "printkiosk technician set-pin)"]) from None
    return n, r, p, salt, digest


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")


class LocalPin:
    """Checks the local PIN with its persisted lockout; thread-safe."""

    def __init__(self, pin_file: Path | None, state_dir: Path,
                 clock: Callable[[], float] = time.time) -> None:
        self._pin_file = pin_file
        self._attempts = state_dir / ATTEMPTS_FILE
        self._clock = clock  # wall clock: the lock must outlive a restart
        self._lock = threading.Lock()

    def check(self, pin: str) -> TechnicianRefusal | None:
        """None when ``pin`` is right; else ``no_local_pin``, ``pin_locked`` (with the
        seconds left) or ``pin_invalid``."""
        if self._pin_file is None or not self._pin_file.exists():
            return TechnicianRefusal("no_local_pin")
        try:
            line = read_pin_file(self._pin_file)
        except ConfigError:
            return TechnicianRefusal("no_local_pin")  # unusable: treated as not set
        with self._lock:
            failures, locked_until = self._load()
            now = self._clock()
            if locked_until > now:
                return TechnicianRefusal("pin_locked", retry_after_s=int(locked_until - now) + 1)
            if pin_matches(line, pin):
                self._save(0, 0.0)
                return None
            failures += 1
            if failures >= MAX_ATTEMPTS:
                self._save(0, now + LOCK_S)
                return TechnicianRefusal("pin_locked", retry_after_s=LOCK_S)
            self._save(failures, 0.0)
            return TechnicianRefusal("pin_invalid")

    def _load(self) -> tuple[int, float]:
        try:
            data = json.loads(self._attempts.read_text(encoding="utf-8"))
            return int(data["failures"]), float(data["locked_until"])
        except (OSError, ValueError, KeyError, TypeError):
            return 0, 0.0

    def _save(self, failures: int, locked_until: float) -> None:
        body = json.dumps({"failures": failures, "locked_until": locked_until})
        write_atomic(self._attempts, body, mode=0o600, keep_previous=False)
