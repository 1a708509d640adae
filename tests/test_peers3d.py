"""The 3D peers themselves: OctoPrint comes up with its virtual printer Operational and
keeps its API key across restarts; Moonraker in front of the fake Klippy prints a file
and records it in its own job history (which needs the fake's status pushes)."""

from __future__ import annotations

import json
import time
import urllib.request
from pathlib import Path

import pytest

from printkiosk.commands.octoprint_peer import OctoPrintInstance, start_octoprint
from tests.peers3d import MoonrakerInstance

pytestmark = pytest.mark.peer  # a real OctoPrint / Moonraker


def _json(url: str, data: bytes | None = None, key: str | None = None) -> dict:
    headers = {"X-Api-Key": key} if key else {}
    request = urllib.request.Request(url, data=data, headers=headers,
                                     method="POST" if data is not None else "GET")
    with urllib.request.urlopen(request, timeout=10) as answer:
        body = answer.read()
        return json.loads(body) if body else {}


def test_octoprint_fixture_is_operational(octoprint: OctoPrintInstance) -> None:
    connection = _json(octoprint.url + "/api/connection", key=octoprint.api_key)
    assert connection["current"]["state"] == "Operational"
    assert connection["current"]["port"] == "VIRTUAL"
    assert _json(octoprint.url + "/api/version", key=octoprint.api_key)["server"] == "1.11.8"


def test_octoprint_key_file_is_what_the_kiosk_config_reads(octoprint: OctoPrintInstance,
                                                           tmp_path: Path) -> None:
    from terminal.config import OctoPrintSection, PrinterSection, read_printer3d_api_key

    key_file = octoprint.write_key_file(tmp_path / "etc" / "octoprint-api-key")
    assert key_file.stat().st_mode & 0o777 == 0o600
    printer = PrinterSection(kind="3d", name="MK4", group="g", octoprint=OctoPrintSection(
        url=octoprint.url, api_key_file=str(key_file)))
    assert read_printer3d_api_key(printer) == octoprint.api_key


def test_octoprint_restart_keeps_the_key_and_stop_ends_it(tmp_path: Path) -> None:
    first = start_octoprint(tmp_path)
    first.stop()
    assert first.process.returncode is not None
    second = start_octoprint(tmp_path)
    try:
        assert second.api_key == first.api_key
        assert second.url != "" and second.process.poll() is None
    finally:
        second.stop()
    assert second.process.poll() is not None


def test_moonraker_records_the_fake_print_in_its_history(moonraker: MoonrakerInstance) -> None:
    lines = ["G90\n", "M82\n", "G92 E0\n"]
    lines += [f"G1 X{i % 50} Y{i // 50} E{(i + 1) * 0.1:.1f} F1800\n" for i in range(400)]
    lines += ["G92 E0\n", "G1 E-0.5\n"]   # a retraction after a reset counts negative
    (moonraker.gcodes_dir / "peer-check.gcode").write_text("".join(lines))
    _json(moonraker.url + "/printer/print/start?filename=peer-check.gcode", data=b"")
    deadline = time.monotonic() + 40
    while time.monotonic() < deadline:
        jobs = _json(moonraker.url + "/server/history/list?limit=5")["result"]["jobs"]
        done = [j for j in jobs
                if j["filename"] == "peer-check.gcode" and j["status"] != "in_progress"]
        if done:
            break
        time.sleep(0.2)
    assert done, "Moonraker's history never recorded the end of the print"
    assert done[0]["status"] == "completed"
    assert abs(done[0]["filament_used"] - 39.5) < 1e-6
