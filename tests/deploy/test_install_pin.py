"""systemd/install.sh with PRINTKIOSK_TECHNICIAN_PIN, in a scratch root: the offline
technician PIN through the kiosk's own `printkiosk technician set-pin` (terminal part)."""

from __future__ import annotations

import stat
from pathlib import Path

from scratch_root import REPO
from test_install import run_twice


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_the_technician_pin_is_hashed_into_a_0600_file_once(tmp_path: Path) -> None:
    """PRINTKIOSK_TECHNICIAN_PIN: the shipped file has no [technician] table, so install.sh
    adds one naming /etc/printkiosk/technician-pin, and `printkiosk technician set-pin`
    writes the scrypt hash there (under the scratch root), 0600; the second run keeps it
    (a new hash would have a new salt: not idempotent, and the PIN did not change)."""
    done = run_twice(tmp_path, "kiosk", PRINTKIOSK_TECHNICIAN_PIN="482913")
    config = (done.root / "etc/printkiosk/kiosk.toml").read_text()
    assert config.startswith((REPO / "config/kiosk-mfp.toml").read_text())
    assert config.endswith('[technician]\nlocal_pin_file = "/etc/printkiosk/technician-pin"\n')
    pin = done.root / "etc/printkiosk/technician-pin"
    assert mode(pin) == 0o600
    text = pin.read_text()
    assert text.startswith("scrypt$") and "482913" not in text, text
    assert "set the offline technician PIN" in done.first.output
    assert "kept the technician PIN" in done.second.output
    assert done.after == done.before
    assert not list((done.root / "etc/printkiosk").glob(".pin-config.*"))
