"""drivers.printers3d.MoonrakerClient against a real Moonraker 0.11 in front of the fake
Klippy (session fixture ``moonraker``): upload, start, progress, cancel, the history's
filament_used, refusals and an unreachable server."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import pytest

from drivers.printers3d import MoonrakerClient, ServerRefused, ServerUnreachable
from printkiosk.commands.octoprint_peer import free_port
from tests.gcode3d import write_moves
from tests.peers3d import MoonrakerInstance

pytestmark = pytest.mark.peer  # a real OctoPrint / Moonraker


def wait_for(check: Callable[[], bool], what: str, timeout_s: float = 30) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.fixture
def client(moonraker: MoonrakerInstance) -> MoonrakerClient:
    client = MoonrakerClient(moonraker.url, timeout_s=10)
    wait_for(lambda: client.status().print_stats.get("state") not in ("printing", "paused"),
             "the printer to be idle")
    return client


def set_rate(client: MoonrakerClient, rate: float) -> None:
    client._call("POST", "/printer/gcode/script", params={"script": f"SET_FAKE_RATE RATE={rate}"})


def test_upload_start_progress_complete_and_history(client: MoonrakerClient,
                                                    tmp_path: Path) -> None:
    source = tmp_path / "mk-done.gcode"
    total_e = write_moves(source, 1500)
    client.upload(source, "mk-done.gcode")
    set_rate(client, 15000)
    client.start("mk-done.gcode")
    samples = []

    def sample() -> bool:
        status = client.status()
        samples.append((status.virtual_sdcard.get("file_position", 0),
                        status.print_stats.get("filament_used", 0.0)))
        return status.print_stats.get("state") == "complete"

    wait_for(sample, "the print to complete")
    positions = [p for p, _ in samples]
    filament = [f for _, f in samples]
    assert positions == sorted(positions) and len(set(positions)) >= 3
    assert filament == sorted(filament) and filament[-1] == pytest.approx(total_e, abs=1e-4)
    status = client.status()
    assert status.virtual_sdcard["file_position"] == source.stat().st_size
    assert status.virtual_sdcard["progress"] == 1.0
    assert set(status.temperatures) == {"extruder", "heater_bed"}
    wait_for(lambda: (client.last_job() or {}).get("status") == "completed", "the history")
    job = client.last_job()
    assert job is not None and job["filename"] == "mk-done.gcode"
    assert job["filament_used"] == pytest.approx(total_e, abs=1e-4)


def test_cancel_keeps_position_and_history_records_filament(client: MoonrakerClient,
                                                             tmp_path: Path) -> None:
    source = tmp_path / "mk-cancel.gcode"
    write_moves(source, 3000)
    size = source.stat().st_size
    client.upload(source, "mk-cancel.gcode")
    set_rate(client, 20000)
    client.start("mk-cancel.gcode")
    wait_for(lambda: client.status().virtual_sdcard.get("file_position", 0) > size // 3,
             "a third of the file")
    client.cancel()
    wait_for(lambda: client.status().print_stats.get("state") == "cancelled", "the cancel")
    status = client.status()
    position = status.virtual_sdcard["file_position"]
    assert size // 3 < position < size
    wait_for(lambda: (client.last_job() or {}).get("status") == "cancelled", "the history")
    job = client.last_job()
    assert job is not None
    assert job["filament_used"] == pytest.approx(status.print_stats["filament_used"], abs=1e-4)
    assert 0 < job["filament_used"] < 3000 * 0.05


def test_start_while_printing_is_busy_and_missing_file_is_refused(client: MoonrakerClient,
                                                                  tmp_path: Path) -> None:
    source = tmp_path / "mk-busy.gcode"
    write_moves(source, 3000)
    client.upload(source, "mk-busy.gcode")
    set_rate(client, 5000)
    client.start("mk-busy.gcode")
    try:
        with pytest.raises(ServerRefused) as busy:
            client.start("mk-busy.gcode")
        assert busy.value.reason == "busy" and "SD busy" in busy.value.message
    finally:
        client.cancel()
    wait_for(lambda: client.status().print_stats.get("state") == "cancelled", "the cancel")
    with pytest.raises(ServerRefused) as missing:
        client.start("no-such-file.gcode")
    assert missing.value.reason == "file"


def test_delete_and_unreachable(client: MoonrakerClient, tmp_path: Path) -> None:
    source = tmp_path / "mk-gone.gcode"
    write_moves(source, 3)
    client.upload(source, "mk-gone.gcode")
    client.delete("mk-gone.gcode")
    client.delete("mk-gone.gcode")
    with pytest.raises(ServerUnreachable):
        MoonrakerClient(f"http://127.0.0.1:{free_port()}", timeout_s=2).status()


def test_pause_stops_the_print_clock_and_resume_goes_on(client: MoonrakerClient,
                                                        tmp_path: Path) -> None:
    source = tmp_path / "mk-pause.gcode"
    write_moves(source, 3000)
    client.upload(source, "mk-pause.gcode")
    set_rate(client, 10000)
    client.start("mk-pause.gcode")
    try:
        wait_for(lambda: client.status().virtual_sdcard.get("file_position", 0) > 5000, "progress")
        client.pause()
        wait_for(lambda: client.status().print_stats.get("state") == "paused", "the pause")
        first = client.status()
        time.sleep(0.6)
        later = client.status()
        assert later.virtual_sdcard["file_position"] == first.virtual_sdcard["file_position"]
        assert later.print_stats["print_duration"] == first.print_stats["print_duration"]
        assert later.print_stats["total_duration"] > first.print_stats["total_duration"]
        client.resume()
        wait_for(lambda: client.status().virtual_sdcard["file_position"] >
                 later.virtual_sdcard["file_position"], "the print to go on")
        assert client.status().print_stats["state"] == "printing"
    finally:
        client.cancel()
    wait_for(lambda: (client.last_job() or {}).get("status") == "cancelled", "the history")
