"""The 3D kiosk end to end: a real backend process, a real OctoPrint with its virtual
printer (and a real Moonraker in front of the fake Klippy), the real analysis; the kiosk
built by ``build_terminal`` from the shipped ``config/kiosk-3d.toml``.

The prints are small generated cubes and the printers throttled, so each case prints in
seconds; each slow case runs once.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest

from analysis import analyse_gcode, filament_up_to, grams_of
from backend.demo_gcode import cube_gcode
from printkiosk import REPO_CONFIG
from printkiosk.commands.demo import (
    DEMO_LOGIN_RATE,
    DEMO_PRICE_LISTS,
    demo_backend_toml,
    wait_for_port,
)
from printkiosk.commands.octoprint_peer import OctoPrintInstance, free_port, start_octoprint
from terminal.outbox import EntryKind, EntryState, Outbox
from terminal.print3d_values import Stage3D
from terminal.wiring import Terminal, build_terminal

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from backend_process import BackendProcess  # noqa: E402
from print3d_kiosk import Watch, kiosk_config, kiosk_data, release, upload  # noqa: E402

ALICE_CARD = "1001"
TOKEN = "demo-terminal-token"
THROTTLE_S = 0.01


class ChargingFailures(BackendProcess):
    """The demo backend with ``failure_policy = "charge_printed"``: a failed print is
    charged for its part printed, so a settlement sent twice would show as two charges."""

    def start(self) -> None:
        config = self.data_dir / "backend.toml"
        database = (self.data_dir / "backend.sqlite3").as_posix()
        lists = self.data_dir / "pricelists"
        lists.mkdir(exist_ok=True)
        for name in DEMO_PRICE_LISTS:
            shutil.copyfile(REPO_CONFIG / "pricelists" / name, lists / name)
        text = demo_backend_toml(self.port, database, lists, DEMO_LOGIN_RATE, None)
        config.write_text(text.replace("[print3d]\n",
                                       '[print3d]\nfailure_policy = "charge_printed"\n'),
                          encoding="utf-8")
        process = subprocess.Popen([sys.executable, "-m", "printkiosk", "backend", "--config",
                                    str(config), "--demo-data"])
        wait_for_port(self.port, process)
        self._process = process


@pytest.fixture
def backend(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[BackendProcess]:
    kind = getattr(request, "param", BackendProcess)
    process = kind(tmp_path / "backend")
    process.data_dir.mkdir()
    process.start()
    try:
        yield process
    finally:
        process.stop()


def uploaded(backend: BackendProcess, tmp_path: Path, layers: int, name: str
             ) -> tuple[int, Path]:
    # a wide, low tower: grams enough for the tolerances (0.01 g steps), few move lines
    # (the throttled virtual printer's time goes by the line)
    generated = cube_gcode(180.0, layers, 3, name=name)
    path = tmp_path / f"{name}.gcode"
    path.write_text(generated.text, encoding="utf-8")
    job = upload(backend.url, generated.text, f"{name}.gcode")
    return int(job["job_id"]), path


def terminal_for(backend: BackendProcess, state: Path, server: str, url: str,
                 api_key: str | None) -> Terminal:
    terminal = build_terminal(kiosk_config(kiosk_data(backend.url, state, server, url,
                                                      api_key)), TOKEN)
    return terminal


def start(terminal: Terminal) -> Watch:
    watch = Watch(terminal)
    terminal.start()
    if terminal.recovery is not None:
        terminal.recovery.result(timeout=60)
    return watch


def settle_body(terminal: Terminal) -> dict[str, object]:
    assert terminal.charges is not None
    outbox = terminal.charges.outbox
    (hold,) = outbox.holds()
    entry = outbox.settlement_of(hold.key)
    assert entry is not None and entry.kind is EntryKind.SETTLE_3D
    return entry.body


@pytest.mark.peer
def test_octoprint_release_to_completion_charges_the_analysed_grams(
        backend: BackendProcess, octoprint: OctoPrintInstance, tmp_path: Path) -> None:
    job_id, path = uploaded(backend, tmp_path, 8, "complete")
    terminal = terminal_for(backend, tmp_path / "kiosk", "octoprint", octoprint.url,
                            octoprint.api_key)
    try:
        watch = start(terminal)
        started = release(terminal, "alice", ALICE_CARD, job_id)
        assert started.stage is Stage3D.PRINTING, started
        watch.wait(lambda u: u.stage is Stage3D.PRINTING and (u.percent or 0) > 0)
        final = watch.final(180)
        assert final.stage is Stage3D.FINISHED and final.settlement_sent, final
        analysis = analyse_gcode(path)
        assert final.grams_charged is not None
        print(f"completed: charged {final.grams_charged} g, analysis {analysis.grams} g")
        assert abs(final.grams_charged - analysis.grams) <= analysis.grams * Decimal("0.005")
        assert settle_body(terminal)["outcome"] == "completed"
        (hold,) = [h for h in backend.holds() if h.job_ref == f"print3d:{job_id}"]
        assert hold.captured == final.charged and hold.status == "captured"
    finally:
        terminal.close()


@pytest.mark.peer
def test_octoprint_cancel_at_half_charges_the_filament_up_to_the_reported_position(
        backend: BackendProcess, octoprint: OctoPrintInstance, tmp_path: Path) -> None:
    job_id, path = uploaded(backend, tmp_path, 16, "cancel")
    terminal = terminal_for(backend, tmp_path / "kiosk", "octoprint", octoprint.url,
                            octoprint.api_key)
    try:
        watch = start(terminal)
        assert release(terminal, "alice", ALICE_CARD, job_id).stage is Stage3D.PRINTING
        watch.wait(lambda u: u.stage is Stage3D.PRINTING and (u.percent or 0) >= 45, 180)
        assert terminal.print3d is not None and terminal.print3d.cancel()
        final = watch.final(120)
        assert final.stage is Stage3D.CANCELLED and final.settlement_sent, final
        body = settle_body(terminal)
        position = body["file_position"]
        assert isinstance(position, int)
        size = path.stat().st_size
        assert 0.35 * size < position < 0.85 * size, (position, size)
        analysis = analyse_gcode(path)
        truth = grams_of(sum(filament_up_to(path, position), Decimal(0)),
                         analysis.diameter_mm, analysis.density_g_cm3)
        assert final.grams_charged is not None
        print(f"cancelled at {position}/{size} bytes: charged {final.grams_charged} g, "
              f"filament up to there {truth} g, whole file {analysis.grams} g")
        assert abs(final.grams_charged - truth) <= truth * Decimal("0.01"), (final, truth)
    finally:
        terminal.close()


def _kiosk_process(config: Path, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, str(HERE / "print3d_kiosk.py"), str(config),
                             *args], stdout=subprocess.PIPE, text=True, cwd=HERE)


def _read_until(process: subprocess.Popen[str], test, limit: int = 2000) -> str:  # type: ignore[no-untyped-def]
    assert process.stdout is not None
    for _ in range(limit):
        line = process.stdout.readline()
        if not line:
            raise AssertionError(f"kiosk process ended (code {process.poll()})")
        if test(line):
            return line
    raise AssertionError("kiosk process never said it")


@pytest.mark.peer
@pytest.mark.parametrize("backend", [ChargingFailures], indirect=True)
def test_printer_and_backend_down_mid_print_the_settlement_waits_across_a_restart_and_is_sent_once(
        backend: BackendProcess, tmp_path: Path) -> None:
    printer_dir = tmp_path / "octoprint"
    port = free_port()
    printer = start_octoprint(printer_dir, port, throttle=THROTTLE_S)
    job_id, path = uploaded(backend, tmp_path, 16, "outage")
    config = tmp_path / "kiosk.json"
    config.write_text(json.dumps(kiosk_data(backend.url, tmp_path / "kiosk", "octoprint",
                                            printer.url, printer.api_key)), encoding="utf-8")
    charges_before = backend.charge_count()
    first = _kiosk_process(config, "--release", "alice", ALICE_CARD, str(job_id))
    second: subprocess.Popen[str] | None = None
    try:
        _read_until(first, lambda line: line.startswith("released"))
        _read_until(first, lambda line: line.startswith("{")
                    and (json.loads(line)["percent"] or 0) >= 20)
        printer.stop()  # the printer's server goes away mid-print, and the backend too
        backend.stop()
        _read_until(first, lambda line: line.startswith("{")
                    and not json.loads(line)["reachable"])
        first.kill()  # the kiosk is restarted: a new process on the same state
        first.wait(10)
        record = json.loads((tmp_path / "kiosk" / "print3d.json").read_text(encoding="utf-8"))
        assert record["file_position"] > 0
        second = _kiosk_process(config, "--until-settled")
        printer = start_octoprint(printer_dir, port, throttle=THROTTLE_S)  # no job of ours
        _read_until(second, lambda line: line.startswith("{")
                    and json.loads(line)["stage"] == "failed")
        journal = Outbox(tmp_path / "kiosk" / "outbox.sqlite")
        try:
            (hold_entry,) = journal.holds()
            waiting = journal.settlement_of(hold_entry.key)
            assert waiting is not None and waiting.kind is EntryKind.SETTLE_3D
            assert waiting.state is EntryState.PENDING  # the backend is still down
            assert waiting.body["file_position"] == record["file_position"]
        finally:
            journal.close()
        backend.start()
        assert _read_until(second, lambda line: line.strip() == "settled")
        assert second.wait(30) == 0
        (hold,) = [h for h in backend.holds() if h.job_ref == f"print3d:{job_id}"]
        assert hold.status == "captured" and hold.captured and hold.captured > 0, hold
        assert backend.charge_count() == charges_before + 1  # one charge: sent once
        third = _kiosk_process(config, "--until-settled")  # a further start sends nothing
        _read_until(third, lambda line: line.strip() == "settled")
        third.wait(30)
        assert backend.charge_count() == charges_before + 1
        assert record["file_position"] <= path.stat().st_size
    finally:
        for process in (first, second):
            if process is not None and process.poll() is None:
                process.kill()
        printer.stop()


@pytest.mark.peer
def test_moonraker_start_progress_and_cancel_through_the_workflow(
        backend: BackendProcess, moonraker: object, tmp_path: Path) -> None:
    job_id, _path = uploaded(backend, tmp_path, 40, "moon")
    terminal = terminal_for(backend, tmp_path / "kiosk", "moonraker",
                            moonraker.url, None)  # type: ignore[attr-defined]
    try:
        watch = start(terminal)
        assert release(terminal, "alice", ALICE_CARD, job_id).stage is Stage3D.PRINTING
        seen = watch.wait(lambda u: u.stage is Stage3D.PRINTING and (u.percent or 0) > 5, 120)
        assert seen.grams_so_far is not None and seen.grams_so_far > 0
        assert terminal.print3d is not None and terminal.print3d.cancel()
        final = watch.final(120)
        assert final.stage is Stage3D.CANCELLED and final.settlement_sent, final
        assert settle_body(terminal)["outcome"] == "cancelled"
    finally:
        terminal.close()
