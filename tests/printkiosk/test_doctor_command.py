"""``printkiosk doctor`` as an operator runs it: the shipped kiosk file, and files with
several kinds of problem at once (every one is reported in the same run)."""

from __future__ import annotations

import socket
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import pytest

from tests.drivers.receipt.escpos_bytes import StandInPrinter

REPO = Path(__file__).resolve().parents[2]
SHIPPED_MFP = REPO / "config" / "kiosk-mfp.toml"
SHIPPED_3D = REPO / "config" / "kiosk-3d.toml"
CAMPUS = REPO / "config" / "pricelists" / "campus-default.toml"


def doctor(path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "printkiosk", "doctor", "--config", str(path)],
                          cwd=REPO, capture_output=True, text=True, timeout=60, check=False)


def toml_text(data: dict[str, Any]) -> str:
    """A small TOML writer for the test files (tables of scalars, one level of nesting)."""
    lines: list[str] = []

    def table(name: str, values: dict[str, Any]) -> None:
        lines.append(f"[{name}]")
        nested = {k: v for k, v in values.items() if isinstance(v, dict)}
        for key, value in values.items():
            if not isinstance(value, dict):
                lines.append(f"{key} = {scalar(value)}")
        for key, value in nested.items():
            table(f"{name}.{key}", value)

    for name, values in data.items():
        table(name, values)
    return "\n".join(lines) + "\n"


def scalar(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return repr(value)


def shipped() -> dict[str, Any]:
    data = tomllib.loads(SHIPPED_MFP.read_text(encoding="utf-8"))
    data["card_reader"] = {"type": "simulated"}  # no pcscd's ATR list needed on this machine
    return data


def write(tmp_path: Path, data: dict[str, Any], name: str = "kiosk.toml") -> Path:
    path = tmp_path / name
    path.write_text(toml_text(data), encoding="utf-8")
    return path


def test_shipped_mfp_kiosk_is_ok_with_a_warning_about_offline_prices() -> None:
    done = doctor(SHIPPED_MFP)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == [
        "WARNING: kiosk-mfp.toml: pricing.price_list: not set: while the backend is "
        "unreachable this kiosk prices only the users whose price list it has already seen, "
        "and shows no job list to anyone else (add [pricing] price_list = "
        '"/etc/printkiosk/pricelists/<list>.toml" as the offline fallback)',
        f"{SHIPPED_MFP}: OK with 1 warning",
    ]


def test_shipped_3d_kiosk_is_not_warned_about_offline_prices_it_never_uses() -> None:
    """Its jobs come priced from the backend; the one warning left is the OctoPrint key
    file, which exists only once the site installs it."""
    done = doctor(SHIPPED_3D)
    assert done.returncode == 0, done.stderr
    assert "pricing.price_list" not in done.stdout
    assert done.stdout.splitlines()[-1] == f"{SHIPPED_3D}: OK with 1 warning"
    assert "printer.octoprint.api_key_file" in done.stdout


def test_a_kiosk_with_a_local_price_list_has_no_warning(tmp_path: Path) -> None:
    data = shipped()
    data["pricing"] = {"price_list": str(CAMPUS)}
    path = write(tmp_path, data)
    done = doctor(path)
    assert done.returncode == 0, done.stderr
    assert done.stdout == f"{path}: OK\n"


def test_every_kind_of_problem_in_one_run(tmp_path: Path) -> None:
    """Types, unknown keys, keys that contradict each other, the reader's table and the
    files the kiosk names: all reported together, each naming file, key and value."""
    data = shipped()
    data["terminal"]["idle_timeout_s"] = "sixty"
    data["display"]["colour_depth"] = 24
    data["printer"]["snmp"].update(version="3")  # community kept, no v3_user
    data["card_reader"] = {"type": "telepathy"}
    data["pricing"] = {"price_list": str(tmp_path / "missing-prices.toml")}
    path = write(tmp_path, data)
    done = doctor(path)
    assert done.returncode == 2
    problems = done.stderr.splitlines()
    expected = [
        "kiosk.toml: terminal.idle_timeout_s: 'sixty' is not a number of seconds",
        "kiosk.toml: display.colour_depth: 24 is not a known key",
        'kiosk.toml: printer.snmp.v3_user: is required with version = "3"',
        "kiosk.toml: printer.snmp.community: 'public' is for SNMP v1/v2c",
        "kiosk.toml: card_reader",
        f"kiosk.toml: pricing.price_list = '{tmp_path / 'missing-prices.toml'}': cannot be "
        "read",
    ]
    for start in expected:
        assert any(line.startswith(start) for line in problems), (start, problems)
    assert "telepathy" in done.stderr
    assert len(problems) == len(expected)  # once each, nothing else on stderr
    assert done.stdout == f"{path}: {len(problems)} problems\n"  # no WARNING: a list is named


def test_a_bad_price_list_is_reported_beside_bad_keys(tmp_path: Path) -> None:
    prices = tmp_path / "prices.toml"
    prices.write_text(CAMPUS.read_text(encoding="utf-8").replace('currency = "EUR"',
                                                                 'currency = "EURO"'))
    data = shipped()
    data["printer"]["cups_port"] = 70000
    data["pricing"] = {"price_list": str(prices)}
    done = doctor(write(tmp_path, data))
    assert done.returncode == 2
    assert "printer.cups_port: 70000 is not an integer between 1 and 65535" in done.stderr
    assert "price_list.currency: 'EURO' must be an ISO 4217 code" in done.stderr


def test_snmp_v3_keys_file_is_checked_even_when_another_section_is_bad(tmp_path: Path) -> None:
    data = shipped()
    del data["printer"]["name"]
    data["printer"]["snmp"] = {"enabled": True, "version": "3", "v3_user": "kiosk",
                               "keys_file": str(tmp_path / "snmp-keys.toml")}
    done = doctor(write(tmp_path, data))
    assert done.returncode == 2
    assert "kiosk.toml: printer.name: is required but missing" in done.stderr
    assert f"{tmp_path / 'snmp-keys.toml'}: cannot be read" in done.stderr


@pytest.mark.parametrize(("keys", "mode", "message"), [
    ('auth_key = "kiosk-auth-pass"\npriv_key = "kiosk-priv-pass"\n', 0o644,
     "mode 0o644 is too open; expected 0600"),
    ('auth_key = "short"\npriv_key = "kiosk-priv-pass"\n', 0o600,
     "auth_key: has 5 characters; SNMPv3 needs at least 8 (RFC 3414)"),
    ('auth_key = "kiosk-auth-pass"\n', 0o600, "priv_key: is required"),
    ('auth_key = "kiosk-auth-pass"\npriv_key = "kiosk-priv-pass"\nuser = "x"\n', 0o600,
     "user: is not a known key (allowed here: auth_key, priv_key)"),
])
def test_snmp_v3_keys_file_problems(tmp_path: Path, keys: str, mode: int, message: str) -> None:
    keys_file = tmp_path / "snmp-keys.toml"
    keys_file.write_text(keys)
    keys_file.chmod(mode)
    data = shipped()
    data["printer"]["snmp"] = {"enabled": True, "version": "3", "v3_user": "kiosk",
                               "keys_file": str(keys_file)}
    done = doctor(write(tmp_path, data))
    assert done.returncode == 2
    assert message in done.stderr
    assert "short" not in done.stderr  # a key's value is never echoed


def test_a_valid_snmp_v3_kiosk_is_ok(tmp_path: Path) -> None:
    keys_file = tmp_path / "snmp-keys.toml"
    keys_file.write_text('auth_key = "kiosk-auth-pass"\npriv_key = "kiosk-priv-pass"\n')
    keys_file.chmod(0o600)
    data = shipped()
    data["printer"]["snmp"] = {"enabled": True, "host": "192.0.2.10", "version": "3",
                               "v3_user": "kiosk", "auth_protocol": "SHA256",
                               "priv_protocol": "AES256", "keys_file": str(keys_file)}
    data["pricing"] = {"price_list": str(CAMPUS)}
    done = doctor(write(tmp_path, data))
    assert done.returncode == 0, done.stderr
    assert done.stdout.endswith(": OK\n")


def test_v3_settings_with_v2c_are_refused(tmp_path: Path) -> None:
    data = shipped()
    data["printer"]["snmp"].update(v3_user="kiosk", keys_file="/etc/printkiosk/snmp-keys")
    done = doctor(write(tmp_path, data))
    assert done.returncode == 2
    assert "printer.snmp.v3_user: 'kiosk' is for SNMP v3, but version is '2c'" in done.stderr
    assert "printer.snmp.keys_file: '/etc/printkiosk/snmp-keys' is for SNMP v3" in done.stderr


def _one_problem(done: subprocess.CompletedProcess[str]) -> str:
    """The single problem line of a refused file (and no traceback)."""
    assert done.returncode == 2, (done.stdout, done.stderr)
    assert "Traceback" not in done.stderr
    lines = done.stderr.splitlines()
    assert len(lines) == 1, lines
    return lines[0]


def test_a_file_that_is_not_utf8_names_its_line_and_column(tmp_path: Path) -> None:
    """Issue 12 item 11b: a Latin-1 file was a UnicodeDecodeError traceback."""
    path = tmp_path / "backend.toml"
    path.write_bytes("[server]\nport = 8470\n# café\n".encode("latin-1"))
    assert _one_problem(doctor(path)) == (
        "backend.toml: line 3, column 6: not UTF-8 (byte 0xe9); save the file as UTF-8")


def test_arrays_nested_5000_deep_are_one_problem_line(tmp_path: Path) -> None:
    """Issue 12 item 11b: tomllib's RecursionError escaped as a traceback."""
    path = tmp_path / "kiosk.toml"
    path.write_text("x = " + "[" * 5000 + "]" * 5000 + "\n", encoding="utf-8")
    assert _one_problem(doctor(path)) == (
        "kiosk.toml: is not usable TOML: arrays or tables are nested too deeply to parse "
        "(a configuration needs a few levels)")


def test_dev_zero_and_huge_files_are_refused_without_reading_them(tmp_path: Path) -> None:
    """Issue 12 item 11b: /dev/zero was read until memory ran out."""
    assert _one_problem(doctor(Path("/dev/zero"))) == "/dev/zero: is not a regular file"
    huge = tmp_path / "huge.toml"
    huge.write_text("# padding\n" * 200_000, encoding="utf-8")
    assert _one_problem(doctor(huge)) == (
        f"{huge}: is larger than 1024 KiB (not a configuration file?)")


def _backend_file(tmp_path: Path, key_file: Path | None) -> Path:
    path = tmp_path / "backend.toml"
    security = f'\n[security]\nsecret_key_file = "{key_file}"\n' if key_file else ""
    path.write_text(f'[database]\nurl = "sqlite:///{tmp_path}/b.sqlite3"\n{security}',
                    encoding="utf-8")
    return path


GOOD_KEY = "3f" * 32


@pytest.mark.parametrize(("content", "mode", "message"), [
    (GOOD_KEY, 0o644, "mode 0o644 lets others read it; expected 0600 (chmod 600 {key}); "
                      "the backend refuses to start"),
    (GOOD_KEY, 0o640, "mode 0o640 lets others read it; expected 0600 (chmod 600 {key}); "
                      "the backend refuses to start"),
    ("", 0o600, "holds 0 characters; a key needs at least 32 "
                "(e.g. `openssl rand -hex 32 > {key}`)"),
    ("changeme\n", 0o600, "holds 8 characters; a key needs at least 32 "
                          "(e.g. `openssl rand -hex 32 > {key}`)"),
    ("clé" * 20, 0o600, "is not ASCII text (the backend reads the key as ASCII)"),
])
def test_the_secret_key_file_is_checked(tmp_path: Path, content: str, mode: int,
                                        message: str) -> None:
    """Issue 12 item 11b: doctor said OK whatever secret_key_file held."""
    key = tmp_path / "secret.key"
    key.write_text(content, encoding="utf-8")
    key.chmod(mode)
    assert _one_problem(doctor(_backend_file(tmp_path, key))) == (
        f"backend.toml: security.secret_key_file: {key}: {message.format(key=key)}")


def test_a_secret_key_file_that_is_a_directory_or_missing(tmp_path: Path) -> None:
    assert _one_problem(doctor(_backend_file(tmp_path, tmp_path))) == (
        f"backend.toml: security.secret_key_file: {tmp_path}: is not a regular file")
    missing = doctor(_backend_file(tmp_path, tmp_path / "nope.key"))
    assert missing.returncode == 0, missing.stderr
    assert missing.stdout.startswith(
        f"WARNING: backend.toml: security.secret_key_file: {tmp_path / 'nope.key'}: does not "
        "exist; the backend creates a new key there at first start")


def test_a_good_secret_key_file_is_ok(tmp_path: Path) -> None:
    key = tmp_path / "secret.key"
    key.write_text(GOOD_KEY + "\n", encoding="ascii")
    key.chmod(0o600)
    done = doctor(_backend_file(tmp_path, key))
    assert done.returncode == 0, done.stderr
    assert done.stdout == f"{tmp_path / 'backend.toml'}: OK\n"


def _kiosk_with_receipt(tmp_path: Path, **receipt: Any) -> Path:
    data = shipped()
    data["pricing"] = {"price_list": str(CAMPUS)}  # no price-list warning in the way
    data["receipt"] = receipt
    return write(tmp_path, data)


def test_a_reachable_network_receipt_printer_is_reported(tmp_path: Path) -> None:
    """Doctor connects to the printer (a listener on 127.0.0.1 standing in for its raw
    port) and prints nothing on it."""
    stand_in = StandInPrinter()
    try:
        path = _kiosk_with_receipt(tmp_path, target=f"network:127.0.0.1:{stand_in.port}",
                                   profile="POS-5890")
        done = doctor(path)
        jobs = stand_in.wait_for_jobs()
    finally:
        stand_in.close()
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == [
        f"receipt printer network:127.0.0.1:{stand_in.port} (profile POS-5890, QR codes "
        "sent as images): reachable",
        f"{path}: OK",
    ]
    assert jobs == [b""]  # connected, printed nothing


def test_an_unreachable_receipt_printer_is_a_warning_not_a_problem(tmp_path: Path) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # nothing listens there once closed
    path = _kiosk_with_receipt(tmp_path, target=f"network:127.0.0.1:{port}",
                               profile="TM-T88III", timeout_s=2)
    done = doctor(path)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == [
        f"WARNING: kiosk.toml: receipt.target: receipt printer network:127.0.0.1:{port}: "
        "connection refused (is the printer on, and is this its raw printing port, usually "
        "9100?); receipts cannot be printed until it is fixed",
        f"{path}: OK with 1 warning",
    ]


def test_a_misspelt_receipt_target_or_profile_is_a_problem(tmp_path: Path) -> None:
    done = doctor(_kiosk_with_receipt(tmp_path, target="usb:4b8:202", profile="TM-T88",
                                      native_qr="yes"))
    assert done.returncode == 2
    problems = done.stderr.splitlines()
    assert problems[0] == "kiosk.toml: receipt.native_qr: 'yes' is not true or false"
    assert problems[1].startswith("kiosk.toml: receipt.target: 'usb:4b8:202' is not a USB "
                                  "vendor:product pair of 4 hex digits each; expected ")
    assert problems[2].startswith("kiosk.toml: receipt.profile: 'TM-T88' is not a "
                                  "python-escpos printer profile; known: ")
    assert len(problems) == 3


def test_a_bank_transfer_account_with_a_wrong_iban_or_bic_is_reported(tmp_path: Path) -> None:
    """The shipped example passes; one wrong digit of the IBAN and a short BIC are named."""
    from printkiosk.commands.doctor import check_file

    shipped_file = REPO / "config" / "backend-bank-transfer.toml"
    text = shipped_file.read_text(encoding="utf-8")
    path = tmp_path / "backend.toml"
    path.write_text(text.replace("0130 00", "0130 01").replace('"COBADEFFXXX"', '"COBADE"'),
                    encoding="utf-8")
    [problem] = check_file(path)  # the registry builds the gateway as the server would
    assert problem.startswith("backend.toml: payments.bank_transfer.iban: ")
    assert "check digits" in problem and "payments.bank_transfer.bic: 'COBADE'" in problem
