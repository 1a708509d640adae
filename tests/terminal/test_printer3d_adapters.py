"""terminal.adapters.OctoPrintPrinter and MoonrakerPrinter as ThreeDPrinter, against the
real servers (session fixtures ``octoprint`` and ``moonraker``): the PrintStatus
vocabulary for a completed, a cancelled and a refused print, the file position a charge
is measured to, the events, and the errors translated to PrinterUnreachable and
PrinterRejected(code)."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from decimal import Decimal
from pathlib import Path

import pytest
import requests

from drivers.printers3d import MoonrakerClient, OctoPrintClient
from printkiosk.commands.octoprint_peer import OctoPrintInstance, free_port
from terminal.adapters import MoonrakerPrinter, OctoPrintPrinter
from terminal.ports import PrinterRejected, PrinterUnreachable, PrintStatus, ThreeDPrinter
from tests.gcode3d import filament_up_to, write_moves
from tests.peers3d import MoonrakerInstance, start_moonraker

pytestmark = pytest.mark.peer  # a real OctoPrint / Moonraker


def follow(printer: ThreeDPrinter, until: Callable[[PrintStatus], bool],
           timeout_s: float = 40) -> list[PrintStatus]:
    seen: list[PrintStatus] = []
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        seen.append(printer.status())
        if until(seen[-1]):
            return seen
        time.sleep(0.15)
    raise AssertionError(f"timed out; last status {seen[-1] if seen else None}")


def idle_or_ended(status: PrintStatus) -> bool:
    return status.state not in ("printing", "paused")


@pytest.fixture
def octo(octoprint: OctoPrintInstance) -> Iterator[OctoPrintPrinter]:
    printer = OctoPrintPrinter(OctoPrintClient(octoprint.url, octoprint.api_key, 10))
    follow(printer, idle_or_ended)
    yield printer
    printer.close()


def test_octoprint_release_progress_completed(octo: OctoPrintPrinter, tmp_path: Path) -> None:
    source = tmp_path / "a-done.gcode"
    write_moves(source, 250)
    size = source.stat().st_size
    assert octo.kind == "octoprint"
    octo.upload(source, "a-done.gcode")
    octo.start("a-done.gcode")
    seen = follow(octo, lambda s: s.state == "completed")
    printing = [s for s in seen if s.state == "printing" and s.file_position]
    assert len(printing) >= 3
    positions = [s.file_position for s in printing]
    assert positions == sorted(positions) and positions[0] < size
    assert all(s.file_name == "a-done.gcode" and s.file_size == size for s in printing)
    assert all(0 < (s.progress or 0) <= 1 for s in printing)
    done = seen[-1]
    assert (done.file_name, done.file_position, done.progress) == ("a-done.gcode", size, 1.0)
    assert done.print_time_s is not None and done.temperatures
    # it stays completed (the outcome of the last job) until the next start
    assert octo.status().state == "completed"
    # a kiosk restarted after the end reads the outcome from OctoPrint's print log
    fresh = OctoPrintPrinter(octo._client)
    assert fresh.status().state == "completed"
    octo.remove("a-done.gcode")
    octo.remove("a-done.gcode")


def test_octoprint_cancel_at_half_reports_the_position(octo: OctoPrintPrinter,
                                                        tmp_path: Path) -> None:
    source = tmp_path / "a-cancel.gcode"
    total_e = write_moves(source, 600)
    size = source.stat().st_size
    octo.upload(source, "a-cancel.gcode")
    octo.start("a-cancel.gcode")
    before = follow(octo, lambda s: (s.file_position or 0) >= size // 2)[-1]
    octo.cancel()
    ended = follow(octo, idle_or_ended)[-1]
    assert ended.state == "cancelled"
    assert before.file_position is not None and ended.file_position is not None
    assert before.file_position <= ended.file_position < size
    printed = filament_up_to(source, ended.file_position)
    assert 0.45 * total_e < printed < 0.9 * total_e
    octo.cancel()  # nothing to cancel any more: not an error
    # without the events (a restart) OctoPrint's log only says "not a success"
    restarted = OctoPrintPrinter(octo._client).status()
    assert restarted.state == "failed" and "not known" in restarted.message


def test_octoprint_filament_change_and_runout_events(octo: OctoPrintPrinter,
                                                     octoprint: OctoPrintInstance,
                                                     tmp_path: Path) -> None:
    source = tmp_path / "a-m600.gcode"
    write_moves(source, 300, extra_after={40: "M600"})
    octo.upload(source, "a-m600.gcode")
    octo.start("a-m600.gcode")
    seen = follow(octo, lambda s: s.state == "paused")
    # a run-out sensor's report, as Marlin sends it, through the virtual printer
    requests.post(octoprint.url + "/api/printer/command",
                  headers={"X-Api-Key": octoprint.api_key}, timeout=10,
                  json={"commands": ["!!DEBUG:action_custom out_of_filament T0"]})
    seen += follow(octo, lambda s: "filament_runout" in s.events, timeout_s=15)
    events = [e for s in seen for e in s.events]
    assert events.index("filament_change") < events.index("filament_runout")
    octo.cancel()
    assert follow(octo, idle_or_ended)[-1].state == "cancelled"


def test_octoprint_refusals(octo: OctoPrintPrinter, octoprint: OctoPrintInstance,
                            tmp_path: Path) -> None:
    source = tmp_path / "a-busy.gcode"
    write_moves(source, 400)
    octo.upload(source, "a-busy.gcode")
    octo.start("a-busy.gcode")
    try:
        with pytest.raises(PrinterRejected) as busy:
            octo.start("a-busy.gcode")
        assert busy.value.code == "printer_busy" and "already printing" in busy.value.detail
    finally:
        octo.cancel()
    follow(octo, idle_or_ended)
    with pytest.raises(PrinterRejected) as missing:
        octo.start("never-uploaded.gcode")
    assert missing.value.code == "printer_file_refused"
    wrong = OctoPrintPrinter(OctoPrintClient(octoprint.url, "F" * 32, 5))
    with pytest.raises(PrinterRejected) as auth:
        wrong.status()
    assert auth.value.code == "printer_auth"


def test_octoprint_unreachable() -> None:
    gone = OctoPrintPrinter(OctoPrintClient(f"http://127.0.0.1:{free_port()}", "k", 2))
    with pytest.raises(PrinterUnreachable, match=r"OctoPrint at http://127\.0\.0\.1"):
        gone.status()
    with pytest.raises(PrinterUnreachable):
        gone.cancel()


@pytest.fixture
def moon(moonraker: MoonrakerInstance) -> MoonrakerPrinter:
    printer = MoonrakerPrinter(MoonrakerClient(moonraker.url, None, 10))
    follow(printer, idle_or_ended)
    return printer


def _rate(moonraker: MoonrakerInstance, rate: int) -> None:
    requests.post(moonraker.url + "/printer/gcode/script", timeout=10,
                  params={"script": f"SET_FAKE_RATE RATE={rate}"}).raise_for_status()


def test_moonraker_start_progress_completed(moon: MoonrakerPrinter, moonraker: MoonrakerInstance,
                                            tmp_path: Path) -> None:
    source = tmp_path / "b-done.gcode"
    total_e = write_moves(source, 2000)
    size = source.stat().st_size
    moon.upload(source, "b-done.gcode")
    _rate(moonraker, 15000)
    moon.start("b-done.gcode")
    seen = follow(moon, lambda s: s.state == "completed")
    printing = [s for s in seen if s.state == "printing" and s.file_position]
    assert len(printing) >= 3
    assert [s.file_position for s in printing] == sorted(s.file_position for s in printing)
    filament = [s.filament_mm for s in printing]
    assert all(isinstance(f, Decimal) for f in filament) and filament == sorted(filament)
    done = seen[-1]
    assert (done.file_name, done.file_position, done.file_size) == ("b-done.gcode", size, size)
    assert done.filament_mm == pytest.approx(Decimal(str(total_e)), abs=Decimal("0.001"))
    assert set(done.temperatures) == {"extruder", "heater_bed"}


def test_moonraker_cancel_busy_and_unreachable(moon: MoonrakerPrinter,
                                               moonraker: MoonrakerInstance,
                                               tmp_path: Path) -> None:
    source = tmp_path / "b-cancel.gcode"
    write_moves(source, 3000)
    size = source.stat().st_size
    moon.upload(source, "b-cancel.gcode")
    _rate(moonraker, 20000)
    moon.start("b-cancel.gcode")
    with pytest.raises(PrinterRejected) as busy:
        moon.start("b-cancel.gcode")
    assert busy.value.code == "printer_busy"
    follow(moon, lambda s: (s.file_position or 0) > size // 2)
    moon.cancel()
    ended = follow(moon, idle_or_ended)[-1]
    assert ended.state == "cancelled" and size // 2 < (ended.file_position or 0) < size
    printed = Decimal(str(filament_up_to(source, ended.file_position or 0)))
    assert ended.filament_mm is not None
    assert abs(ended.filament_mm - printed) <= Decimal("0.06")  # one move's E at most
    gone = MoonrakerPrinter(MoonrakerClient(f"http://127.0.0.1:{free_port()}", None, 2))
    with pytest.raises(PrinterUnreachable, match="Moonraker"):
        gone.status()


def test_octoprint_printer_disconnected_mid_print_is_failed_then_offline(
    octo: OctoPrintPrinter, octoprint: OctoPrintInstance, tmp_path: Path,
) -> None:
    source = tmp_path / "a-disconnect.gcode"
    write_moves(source, 800)
    octo.upload(source, "a-disconnect.gcode")
    octo.start("a-disconnect.gcode")
    before = follow(octo, lambda s: (s.file_position or 0) > 1000)[-1]
    headers = {"X-Api-Key": octoprint.api_key}
    requests.post(octoprint.url + "/api/connection", headers=headers, timeout=10,
                  json={"command": "disconnect"}).raise_for_status()
    try:
        ended = follow(octo, idle_or_ended)[-1]
        # OctoPrint fires PrintFailed (reason "error") when the printer goes away mid-print
        assert ended.state == "failed"
        assert (before.file_position or 0) <= (ended.file_position or 0) < source.stat().st_size
        # a kiosk that did not see it finds the printer offline
        assert OctoPrintPrinter(octo._client).status().state == "offline"
    finally:
        requests.post(octoprint.url + "/api/connection", headers=headers, timeout=10,
                      json={"command": "connect", "port": "VIRTUAL"}).raise_for_status()
    # reconnected, OctoPrint has forgotten the selected file: a kiosk that did not see
    # the failure finds the printer idle (the follower must remember its own job)
    fresh = OctoPrintPrinter(octo._client)
    last = follow(fresh, lambda s: s.state != "offline")[-1]
    assert (last.state, last.file_name) == ("idle", None)


def test_moonraker_without_trust_wants_a_key(tmp_path: Path) -> None:
    guarded = start_moonraker(tmp_path, trusted=False)
    try:
        printer = MoonrakerPrinter(MoonrakerClient(guarded.url, "not-a-key", 5))
        with pytest.raises(PrinterRejected) as auth:
            printer.status()
        assert auth.value.code == "printer_auth" and auth.value.detail
    finally:
        guarded.stop()


def test_octoprint_refuses_a_file_it_does_not_print(octo: OctoPrintPrinter,
                                                    tmp_path: Path) -> None:
    notes = tmp_path / "notes.txt"
    notes.write_text("not G-code\n")
    with pytest.raises(PrinterRejected) as refused:
        octo.upload(notes, "notes.txt")
    assert refused.value.code == "printer_file_refused" and refused.value.detail
