"""Kiosk configuration: every bad file is refused with messages naming file, key and value."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from terminal.config import ConfigError, load_kiosk_config, read_secret
from terminal.wiring import load_checked_config

REPO = Path(__file__).resolve().parents[2]

GOOD = """
[terminal]
name = "k1"
[backend]
url = "http://127.0.0.1:8470"
[printer]
name = "MFP"
"""

BAD_FILES = {
    "port not an integer": (
        GOOD + '[printer.snmp]\nport = "abc"\n',
        ["kiosk.toml: printer.snmp.port: 'abc' is not an integer between 1 and 65535"],
    ),
    "port out of range": (
        GOOD + "[printer.snmp]\nport = 70000\n",
        ["kiosk.toml: printer.snmp.port: 70000 is not an integer between 1 and 65535"],
    ),
    "unknown key": (
        GOOD.replace('name = "k1"', 'name = "k1"\nidle_timout_s = 30'),
        [
            "kiosk.toml: terminal.idle_timout_s: 30 is not a known key (allowed here: "
            "billing_code, idle_timeout_s, language, logout_warning_s, name, timezone)"
        ],
    ),
    "missing table": (
        GOOD.replace('[printer]\nname = "MFP"\n', ""),
        ["kiosk.toml: printer: is required but missing"],
    ),
    "money as float": (
        GOOD + "[offline]\nspending_limit = 5.5\n",
        ["kiosk.toml: offline.spending_limit: 5.5 is not an amount written as a string"],
    ),
    "negative money": (
        GOOD + '[offline]\nspending_limit = "-1"\n',
        ["kiosk.toml: offline.spending_limit: '-1' is not a non-negative amount"],
    ),
    "bad url and language, two problems at once": (
        GOOD.replace("http://127.0.0.1:8470", "127.0.0.1:8470").replace(
            'name = "k1"', 'name = "k1"\nlanguage = "de"'
        ),
        [
            "kiosk.toml: terminal.language: 'de' is not a supported language (en, fr)",
            "kiosk.toml: backend.url: '127.0.0.1:8470' is not an http:// or https:// URL",
        ],
    ),
    "reader type": (
        GOOD + '[card_reader]\ntype = "magstripe"\n',
        ["kiosk.toml: card_reader.type: 'magstripe' is not one of \"pcsc\", \"wedge\""],
    ),
    "wedge reader without device": (
        GOOD + '[card_reader]\ntype = "wedge"\n',
        ["kiosk.toml: card_reader.device: None is required for a wedge reader"],
    ),
    "reader key of another reader type": (
        GOOD + '[card_reader]\ntype = "pcsc"\nterminator = "enter"\n',
        ["kiosk.toml: card_reader.terminator: 'enter' applies only to type = \"wedge\""],
    ),
    "idle timeout too short": (
        GOOD.replace('name = "k1"', 'name = "k1"\nidle_timeout_s = 2'),
        ["kiosk.toml: terminal.idle_timeout_s: 2 is not a number of seconds between 10 and 3600"],
    ),
    "not TOML": ("[terminal\nname=", ["kiosk.toml: is not valid TOML: "]),
    "voucher scanner without a device, with an unknown key": (
        GOOD + '[voucher_scanner]\ndevice = ""\nbeep = true\n',
        ["kiosk.toml: voucher_scanner.device: '' is not a non-empty text string",
         "kiosk.toml: voucher_scanner.beep: True is not a known key (allowed here: device, "
         "pause_s, terminator)"],
    ),
    "voucher scanner terminator": (
        GOOD + '[voucher_scanner]\ndevice = "05e0:1200"\nterminator = "space"\n',
        ["kiosk.toml: voucher_scanner.terminator: 'space' is not one of"],
    ),
}


@pytest.mark.parametrize("case", sorted(BAD_FILES))
def test_bad_file_is_refused_with_exact_messages(case: str, tmp_path: Path) -> None:
    text, expected = BAD_FILES[case]
    path = tmp_path / "kiosk.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_checked_config(path)
    problems = caught.value.problems
    assert len(problems) == len(expected)
    for problem, wanted in zip(problems, expected, strict=True):
        assert problem.startswith(wanted), problem


def test_good_file_gets_defaults(tmp_path: Path) -> None:
    path = tmp_path / "kiosk.toml"
    path.write_text(GOOD, encoding="utf-8")
    config = load_kiosk_config(path)
    assert config.terminal.idle_timeout_s == 60
    assert config.printer.snmp.port == 161
    assert str(config.offline.spending_limit) == "5.00"


def test_secret_file_must_not_be_readable_by_others(tmp_path: Path) -> None:
    secret = tmp_path / "token"
    secret.write_text("abc\n", encoding="utf-8")
    os.chmod(secret, 0o644)
    with pytest.raises(ConfigError, match="too open"):
        read_secret(secret)
    os.chmod(secret, 0o600)
    assert read_secret(secret) == "abc"


def test_kiosk_refuses_to_start_on_bad_file(tmp_path: Path) -> None:
    path = tmp_path / "kiosk.toml"
    path.write_text(GOOD + '[printer.snmp]\nport = "abc"\n', encoding="utf-8")
    result = subprocess.run(
        [sys.executable, "-m", "printkiosk", "kiosk", "--config", str(path)],
        capture_output=True, text=True, timeout=60, cwd=REPO,
    )
    assert result.returncode == 2
    assert "refusing to start" in result.stderr
    assert "printer.snmp.port: 'abc' is not an integer between 1 and 65535" in result.stderr


def test_doctor_exit_codes(tmp_path: Path) -> None:
    bad = tmp_path / "kiosk.toml"
    bad.write_text(GOOD.replace("http://", "ftp://") + "[offline]\nspending_limit = 1\n")
    result = subprocess.run(
        [sys.executable, "-m", "printkiosk", "doctor", "--config", str(bad)],
        capture_output=True, text=True, timeout=60, cwd=REPO,
    )
    assert result.returncode == 2
    assert len(result.stderr.strip().splitlines()) == 2
    good = REPO / "config" / "kiosk-mfp.toml"
    result = subprocess.run(
        [sys.executable, "-m", "printkiosk", "doctor", "--config", str(good)],
        capture_output=True, text=True, timeout=60, cwd=REPO,
    )
    assert result.returncode == 0, result.stderr
