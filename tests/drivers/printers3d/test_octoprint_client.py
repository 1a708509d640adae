"""drivers.printers3d.OctoPrintClient and OctoPrintEvents against a real OctoPrint with
its virtual printer (session fixture ``octoprint``): what OctoPrint reports for a
completed, a cancelled and a refused print, its temperatures, and the events."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from drivers.printers3d import (
    OctoPrintClient,
    OctoPrintEvents,
    PushedEvent,
    ServerRefused,
    ServerUnreachable,
)
from printkiosk.commands.octoprint_peer import OctoPrintInstance, free_port
from tests.gcode3d import write_moves

pytestmark = pytest.mark.peer  # a real OctoPrint / Moonraker


@pytest.fixture
def client(octoprint: OctoPrintInstance) -> OctoPrintClient:
    client = OctoPrintClient(octoprint.url, octoprint.api_key, timeout_s=10)
    wait_for(lambda: client.job().state == "Operational", "the printer to be idle")
    return client


@pytest.fixture
def events(client: OctoPrintClient) -> Iterator[OctoPrintEvents]:
    channel = OctoPrintEvents(client)
    channel.start()
    assert channel.connected.wait(15), "the SockJS channel did not connect"
    channel.drain()
    yield channel
    channel.stop()


def wait_for(check: Callable[[], bool], what: str, timeout_s: float = 30) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def collect(channel: OctoPrintEvents, until: str, timeout_s: float = 30) -> list[PushedEvent]:
    seen: list[PushedEvent] = []
    wait_for(lambda: bool(seen.extend(channel.drain()) or any(e.type == until for e in seen)),
             f"event {until}", timeout_s)
    return seen


def test_print_progresses_and_completes(client: OctoPrintClient, events: OctoPrintEvents,
                                        tmp_path: Path) -> None:
    source = tmp_path / "done.gcode"
    write_moves(source, 250)
    client.upload(source, "done.gcode")
    client.select_and_print("done.gcode")
    positions: list[int] = []
    completions: list[float] = []

    def sample() -> bool:
        job = client.job()
        if job.filepos is not None:
            positions.append(job.filepos)
            completions.append(job.completion or 0.0)
        return job.state == "Operational" and bool(positions)

    wait_for(sample, "the print to end")
    assert len(set(positions)) >= 3 and positions == sorted(positions)
    assert completions == sorted(completions) and 0 < completions[0] < 100
    seen = collect(events, "PrintDone")
    done = next(e for e in seen if e.type == "PrintDone")
    assert done.payload["name"] == "done.gcode" and done.payload["size"] == source.stat().st_size
    # after a completed print OctoPrint keeps completion 100 and the position at the end
    # (after a cancel it clears both: see below); the file's print log says success
    job = client.job()
    assert job.completion == 100.0 and job.filepos == source.stat().st_size
    last = client.last_print("done.gcode")
    assert last is not None and last.success is True


def test_cancel_reports_the_file_position_in_its_event(
    client: OctoPrintClient, events: OctoPrintEvents, tmp_path: Path,
) -> None:
    source = tmp_path / "cancel.gcode"
    write_moves(source, 600)
    size = source.stat().st_size
    client.upload(source, "cancel.gcode")
    client.select_and_print("cancel.gcode")
    wait_for(lambda: (client.job().filepos or 0) > size // 4, "a quarter of the file")
    before = client.job().filepos or 0
    client.cancel()
    seen = collect(events, "PrintCancelled")
    cancelled = next(e for e in seen if e.type == "PrintCancelled")
    assert before <= cancelled.payload["fileposition"] < size
    assert not any(e.type == "PrintDone" for e in seen)
    wait_for(lambda: client.job().state == "Operational", "the printer to be idle")
    assert client.job().filepos is None
    last = client.last_print("cancel.gcode")
    assert last is not None and last.success is False


def test_starting_while_busy_is_refused_as_busy(client: OctoPrintClient, tmp_path: Path) -> None:
    source = tmp_path / "busy.gcode"
    write_moves(source, 400)
    client.upload(source, "busy.gcode")
    client.select_and_print("busy.gcode")
    try:
        with pytest.raises(ServerRefused) as refused:
            client.select_and_print("busy.gcode")
        assert refused.value.reason == "busy" and refused.value.status == 409
        assert "already printing" in refused.value.message
        with pytest.raises(ServerRefused) as in_use:
            client.upload(source, "busy.gcode")
        assert in_use.value.reason == "busy"
    finally:
        client.cancel()


def test_temperatures_and_state(client: OctoPrintClient) -> None:
    # right after a (re)connection OctoPrint has no temperature yet: the virtual printer
    # reports one at OctoPrint's next M105 poll, a couple of seconds later
    wait_for(lambda: set(client.printer().temperatures) >= {"tool0", "bed"},
             "the first temperature report")
    printer = client.printer()
    assert printer.state == "Operational" and printer.flags["operational"] is True
    assert set(printer.temperatures) >= {"tool0", "bed"}
    actual, target = printer.temperatures["tool0"]
    assert isinstance(actual, float) and target is not None


def test_m600_fires_filament_change_and_pauses(client: OctoPrintClient, events: OctoPrintEvents,
                                               tmp_path: Path) -> None:
    source = tmp_path / "m600.gcode"
    write_moves(source, 200, extra_after={50: "M600"})
    client.upload(source, "m600.gcode")
    client.select_and_print("m600.gcode")
    try:
        types = [e.type for e in collect(events, "PrintPaused")]
        # core OctoPrint fires FilamentChange when it sends M600; the virtual printer then
        # answers //action:paused, which pauses the job as a firmware run-out would
        assert "FilamentChange" in types
        assert types.index("FilamentChange") < types.index("PrintPaused")
        wait_for(lambda: client.job().state == "Paused", "the job to show Paused")
    finally:
        client.cancel()
        wait_for(lambda: client.job().state == "Operational", "the printer to be idle")


def test_wrong_key_is_auth(octoprint: OctoPrintInstance) -> None:
    with pytest.raises(ServerRefused) as refused:
        OctoPrintClient(octoprint.url, "0" * 32, timeout_s=5).job()
    assert refused.value.reason == "auth" and refused.value.status == 403


def test_unreachable_server() -> None:
    with pytest.raises(ServerUnreachable) as unreachable:
        OctoPrintClient(f"http://127.0.0.1:{free_port()}", "k", timeout_s=2).job()
    assert "127.0.0.1" in str(unreachable.value)


def test_delete_missing_file_is_not_an_error(client: OctoPrintClient, tmp_path: Path) -> None:
    source = tmp_path / "gone.gcode"
    write_moves(source, 5)
    client.upload(source, "gone.gcode")
    client.delete("gone.gcode")
    client.delete("gone.gcode")
    assert client.last_print("gone.gcode") is None
