"""The local technician PIN: scrypt hash in a 0600 file, a lockout that survives a
restart, and ``printkiosk technician set-pin`` as an installer runs it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from terminal.config import ConfigError
from terminal.technician_pin import (
    ATTEMPTS_FILE,
    LOCK_S,
    LocalPin,
    hash_pin,
    pin_matches,
    read_pin_file,
    write_pin_file,
)
from terminal.wiring import check_kiosk_file

REPO = Path(__file__).resolve().parents[2]


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


def kiosk_file(tmp_path: Path, pin_file: Path) -> Path:
    path = tmp_path / "kiosk.toml"
    path.write_text(
        '[terminal]\nname = "K"\n[backend]\nurl = "http://127.0.0.1:1"\n'
        '[printer]\nname = "P"\n'
        f'[technician]\nlocal_pin_file = "{pin_file}"\nreboot_command = []\n')
    return path


def test_the_hash_is_scrypt_salted_and_checks_only_the_right_pin() -> None:
    line = hash_pin("4321")
    assert line.startswith("scrypt$16384$8$1$") and "4321" not in line
    assert line != hash_pin("4321")  # a fresh salt each time
    assert pin_matches(line, "4321") and not pin_matches(line, "4322")


def test_five_wrong_pins_lock_for_five_minutes_even_across_a_restart(tmp_path: Path) -> None:
    pin_file = tmp_path / "technician-pin"
    write_pin_file(pin_file, "246810")
    clock = Clock()
    desk = LocalPin(pin_file, tmp_path / "state", clock)
    assert desk.check("246810") is None
    for _ in range(4):
        refusal = desk.check("000000")
        assert refusal is not None and refusal.code == "pin_invalid"
    locked = desk.check("000000")
    assert locked is not None and locked.code == "pin_locked" and locked.retry_after_s == LOCK_S
    assert (tmp_path / "state" / ATTEMPTS_FILE).exists()
    restarted = LocalPin(pin_file, tmp_path / "state", clock)  # a new kiosk process
    still = restarted.check("246810")  # even the right PIN waits
    assert still is not None and still.code == "pin_locked"
    clock.now += LOCK_S + 1
    assert restarted.check("246810") is None


def test_a_right_pin_resets_the_count(tmp_path: Path) -> None:
    pin_file = tmp_path / "technician-pin"
    write_pin_file(pin_file, "1234")
    desk = LocalPin(pin_file, tmp_path, Clock())
    for _ in range(4):
        desk.check("9999")
    assert desk.check("1234") is None
    refusal = desk.check("9999")
    assert refusal is not None and refusal.code == "pin_invalid"


def test_no_file_or_an_open_one_gives_no_local_entry(tmp_path: Path) -> None:
    refusal = LocalPin(None, tmp_path).check("1234")
    assert refusal is not None and refusal.code == "no_local_pin"
    pin_file = tmp_path / "technician-pin"
    write_pin_file(pin_file, "1234")
    pin_file.chmod(0o644)
    refusal = LocalPin(pin_file, tmp_path).check("1234")
    assert refusal is not None and refusal.code == "no_local_pin"
    with pytest.raises(ConfigError, match="too open; expected 0600"):
        read_pin_file(pin_file)


def test_doctors_check_refuses_a_pin_file_others_can_read_or_not_a_hash(tmp_path: Path) -> None:
    pin_file = tmp_path / "technician-pin"
    path = kiosk_file(tmp_path, pin_file)
    assert check_kiosk_file(path)[1] == []  # not written yet: no problem (doctor warns)
    write_pin_file(pin_file, "1234")
    assert check_kiosk_file(path)[1] == []
    pin_file.chmod(0o640)
    [problem] = check_kiosk_file(path)[1]
    assert problem.startswith("kiosk.toml: technician.local_pin_file: ") and "0600" in problem
    pin_file.write_text("1234\n")
    pin_file.chmod(0o600)
    [problem] = check_kiosk_file(path)[1]
    assert "is not a technician PIN hash" in problem


def set_pin(config: Path, pin: str | None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    env.pop("PRINTKIOSK_TECHNICIAN_PIN", None)
    if pin is not None:
        env["PRINTKIOSK_TECHNICIAN_PIN"] = pin
    return subprocess.run([sys.executable, "-m", "printkiosk", "technician", "set-pin",
                           "--config", str(config)], cwd=REPO, env=env, capture_output=True,
                          text=True, timeout=60, check=False, stdin=subprocess.DEVNULL)


def test_set_pin_writes_the_hash_0600_and_the_kiosk_accepts_it(tmp_path: Path) -> None:
    pin_file = tmp_path / "etc" / "technician-pin"
    config = kiosk_file(tmp_path, pin_file)
    done = set_pin(config, "90125")
    assert done.returncode == 0, done.stderr
    assert pin_file.stat().st_mode & 0o777 == 0o600
    assert "90125" not in pin_file.read_text()
    assert LocalPin(pin_file, tmp_path).check("90125") is None
    doctor = subprocess.run([sys.executable, "-m", "printkiosk", "doctor", "--config",
                             str(config)], cwd=REPO, capture_output=True, text=True,
                            timeout=60, check=False,
                            env={**os.environ, "PYTHONPATH": str(REPO)})
    assert "technician.local_pin_file" not in doctor.stdout + doctor.stderr


def test_set_pin_refuses_a_bad_pin_and_a_file_without_the_key(tmp_path: Path) -> None:
    pin_file = tmp_path / "technician-pin"
    config = kiosk_file(tmp_path, pin_file)
    bad = set_pin(config, "12ab")
    assert bad.returncode == 2 and "4 to 12 digits" in bad.stderr
    assert not pin_file.exists()
    bare = tmp_path / "bare.toml"
    bare.write_text(config.read_text().split("[technician]")[0])
    missing = set_pin(bare, "1234")
    assert missing.returncode == 2 and "technician.local_pin_file: not set" in missing.stderr


def test_doctor_warns_when_the_named_pin_file_was_never_written(tmp_path: Path) -> None:
    config = kiosk_file(tmp_path, tmp_path / "never-written")
    doctor = subprocess.run([sys.executable, "-m", "printkiosk", "doctor", "--config",
                             str(config)], cwd=REPO, capture_output=True, text=True,
                            timeout=60, check=False,
                            env={**os.environ, "PYTHONPATH": str(REPO)})
    assert doctor.returncode == 0
    assert "WARNING: kiosk.toml: technician.local_pin_file:" in doctor.stdout
