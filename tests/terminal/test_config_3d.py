"""The kiosk configuration of a 3D printer: [printer] group / poll_s and exactly one of
[printer.octoprint] / [printer.moonraker]; every wrong file names what and where; the
API key file is a 0600 secret; build_3d_printer and doctor use them."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from printkiosk.commands.octoprint_peer import OctoPrintInstance, free_port
from terminal.adapters import MoonrakerPrinter, OctoPrintPrinter
from terminal.config import ConfigError, load_kiosk_config, read_printer3d_api_key
from terminal.wiring import build_3d_printer, load_checked_config, printer3d_status
from tests.peers3d import MoonrakerInstance

REPO = Path(__file__).resolve().parents[2]

BASE = """
[terminal]
name = "k3d"
[backend]
url = "http://127.0.0.1:8470"
"""
PRINTER_3D = '[printer]\nkind = "3d"\nname = "MK4"\ngroup = "makerspace"\n'
OCTO = '[printer.octoprint]\nurl = "http://127.0.0.1:5000"\napi_key_file = "{key}"\n'
MOON = '[printer.moonraker]\nurl = "http://127.0.0.1:7125"\n'

BAD_FILES = {
    "3d without group": (
        BASE + '[printer]\nkind = "3d"\nname = "MK4"\n' + MOON,
        ['kiosk.toml: printer.group: is required with kind = "3d"'],
    ),
    "3d without a server table": (
        BASE + PRINTER_3D,
        ['kiosk.toml: printer: kind = "3d" needs one server table, [printer.octoprint] or '
         "[printer.moonraker]; there is none"],
    ),
    "3d with both server tables": (
        BASE + PRINTER_3D + OCTO.format(key="/k") + MOON,
        ["kiosk.toml: printer.moonraker: only one of [printer.octoprint] and "
         "[printer.moonraker] may be set; this file has both"],
    ),
    "mfp with a server table and a group": (
        BASE + '[printer]\nname = "MFP"\ngroup = "g"\n' + MOON,
        ["kiosk.toml: printer.group: 'g' is for kind = \"3d\", but kind is \"mfp\"",
         'kiosk.toml: printer.moonraker: [printer.moonraker] is for kind = "3d", but kind '
         'is "mfp"'],
    ),
    "poll interval out of range": (
        BASE + PRINTER_3D.replace('group = "makerspace"', 'group = "m"\npoll_s = 0.05') + MOON,
        ["kiosk.toml: printer.poll_s: 0.05 is not a number of seconds between 0.2 and 30"],
    ),
    "octoprint url and an unknown key": (
        BASE + PRINTER_3D + '[printer.octoprint]\nurl = "127.0.0.1:5000"\napikey = "x"\n',
        ["kiosk.toml: printer.octoprint.url: '127.0.0.1:5000' is not an http:// or https:// URL",
         "kiosk.toml: printer.octoprint.apikey: 'x' is not a known key (allowed here: "
         "api_key_file, timeout_s, url)"],
    ),
    "moonraker timeout too short": (
        BASE + PRINTER_3D + MOON + "timeout_s = 0.1\n",
        ["kiosk.toml: printer.moonraker.timeout_s: 0.1 is not a number of seconds between 0.5 "
         "and 120"],
    ),
    "empty group": (
        BASE + PRINTER_3D.replace('"makerspace"', '""') + MOON,
        ["kiosk.toml: printer.group: '' is not a non-empty text string"],
    ),
}


@pytest.mark.parametrize("case", sorted(BAD_FILES))
def test_wrong_3d_file_is_refused_naming_what_and_where(case: str, tmp_path: Path) -> None:
    text, expected = BAD_FILES[case]
    path = tmp_path / "kiosk.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_checked_config(path)
    problems = caught.value.problems
    assert len(problems) == len(expected), problems
    for problem, wanted in zip(sorted(problems), sorted(expected), strict=True):
        assert problem.startswith(wanted), problem


def _key_file(tmp_path: Path, text: str = "ABCDEF0123456789\n", mode: int = 0o600) -> Path:
    key = tmp_path / "octoprint-api-key"
    key.write_text(text, encoding="utf-8")
    os.chmod(key, mode)
    return key


def test_good_3d_file_and_its_defaults(tmp_path: Path) -> None:
    path = tmp_path / "kiosk.toml"
    path.write_text(BASE + PRINTER_3D + OCTO.format(key=_key_file(tmp_path)), encoding="utf-8")
    config = load_checked_config(path)
    assert (config.printer.kind, config.printer.group, config.printer.poll_s) == (
        "3d", "makerspace", 2.0)
    assert config.printer.moonraker is None
    assert config.printer.octoprint is not None
    assert (config.printer.octoprint.url, config.printer.octoprint.timeout_s) == (
        "http://127.0.0.1:5000", 10.0)
    assert read_printer3d_api_key(config.printer) == "ABCDEF0123456789"
    printer = build_3d_printer(config)
    assert isinstance(printer, OctoPrintPrinter) and printer.kind == "octoprint"


def test_api_key_file_is_a_0600_secret_on_one_line(tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PRINTKIOSK_OCTOPRINT_API_KEY", raising=False)
    key = _key_file(tmp_path, mode=0o644)
    path = tmp_path / "kiosk.toml"
    path.write_text(BASE + PRINTER_3D + OCTO.format(key=key), encoding="utf-8")
    config = load_kiosk_config(path)
    with pytest.raises(ConfigError) as too_open:
        build_3d_printer(config)
    assert too_open.value.problems == [
        f"kiosk.toml: printer.octoprint.api_key_file: {key}: mode 0o644 is too open; "
        "expected 0600"]
    os.chmod(key, 0o600)
    key.write_text("one\ntwo\n")
    with pytest.raises(ConfigError, match="must hold the key on one line"):
        build_3d_printer(config)
    key.unlink()
    with pytest.raises(ConfigError, match=r"printer\.octoprint\.api_key_file: .*cannot be read"):
        build_3d_printer(config)
    monkeypatch.setenv("PRINTKIOSK_OCTOPRINT_API_KEY", "FROMENV")
    assert read_printer3d_api_key(config.printer) == "FROMENV"


def test_octoprint_without_any_key_and_moonraker_without_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("PRINTKIOSK_OCTOPRINT_API_KEY", raising=False)
    monkeypatch.delenv("PRINTKIOSK_MOONRAKER_API_KEY", raising=False)
    path = tmp_path / "kiosk.toml"
    path.write_text(BASE + PRINTER_3D + '[printer.octoprint]\n', encoding="utf-8")
    with pytest.raises(ConfigError, match=r"printer\.octoprint\.api_key_file: not set"):
        build_3d_printer(load_kiosk_config(path))
    path.write_text(BASE + PRINTER_3D + MOON, encoding="utf-8")
    config = load_kiosk_config(path)
    assert read_printer3d_api_key(config.printer) is None
    printer = build_3d_printer(config)
    assert isinstance(printer, MoonrakerPrinter) and printer.kind == "moonraker"


def test_build_3d_printer_refuses_an_mfp_kiosk(tmp_path: Path) -> None:
    path = tmp_path / "kiosk.toml"
    path.write_text(BASE + '[printer]\nname = "MFP"\n', encoding="utf-8")
    with pytest.raises(ConfigError, match="names no 3D printer server"):
        build_3d_printer(load_kiosk_config(path))


def test_doctor_reports_the_3d_printer(octoprint: OctoPrintInstance, tmp_path: Path) -> None:
    key = _key_file(tmp_path, octoprint.api_key + "\n")
    path = tmp_path / "kiosk.toml"
    text = BASE + PRINTER_3D + OCTO.format(key=key).replace("http://127.0.0.1:5000",
                                                            octoprint.url)
    path.write_text(text, encoding="utf-8")
    reachable, finding = printer3d_status(load_kiosk_config(path))
    assert reachable
    assert finding.startswith(f"3D printer: OctoPrint 1.11.8 at {octoprint.url} answers; printer ")
    result = subprocess.run([sys.executable, "-m", "printkiosk", "doctor", "--config", str(path)],
                            capture_output=True, text=True, timeout=60, cwd=REPO)
    assert result.returncode == 0, result.stderr
    assert f"3D printer: OctoPrint 1.11.8 at {octoprint.url} answers" in result.stdout
    gone = text.replace(octoprint.url, f"http://127.0.0.1:{free_port()}")
    path.write_text(gone, encoding="utf-8")
    result = subprocess.run([sys.executable, "-m", "printkiosk", "doctor", "--config", str(path)],
                            capture_output=True, text=True, timeout=60, cwd=REPO)
    assert result.returncode == 0
    assert "WARNING: kiosk.toml: printer.octoprint.url: the 3D printer's server:" in result.stdout


def test_doctor_status_of_a_moonraker_printer(moonraker: MoonrakerInstance,
                                              tmp_path: Path) -> None:
    path = tmp_path / "kiosk.toml"
    path.write_text(BASE + PRINTER_3D + MOON.replace("http://127.0.0.1:7125", moonraker.url),
                    encoding="utf-8")
    reachable, finding = printer3d_status(load_kiosk_config(path))
    assert reachable
    assert finding.startswith(f"3D printer: Moonraker 0.11.0 at {moonraker.url} answers; "
                              "printer ")
