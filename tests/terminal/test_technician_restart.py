"""Applying a change without a reboot: TerminalFactory.restart closes the running core
and starts one from the kiosk file; a file the new core cannot start with (a card reader
that does not open) is replaced by the previous one and the old core comes back."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from technician_kiosk import TESS, kiosk_file

from terminal.adapters import KioskHoldQueue
from terminal.config_store import previous_path, write_atomic
from terminal.technician_types import Saved
from terminal.wiring import RestartFailed, Terminal, TerminalFactory
from tests.drivers.snmp.snmpsim_peer import free_udp_port

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "tests" / "drivers" / "cups"))
from cups_peers import PeerStack, running_queue  # noqa: E402

FIRST, SECOND = "restart-a", "restart-b"
DOCUMENT = REPO.parent / "shared" / "corpus" / "jobs" / "cups__document-a4.pdf"

pytestmark = pytest.mark.peer


@pytest.fixture(scope="module")
def cups() -> Iterator[PeerStack]:
    with running_queue(FIRST, "technician-restart-") as stack:
        stack.add_queue(SECOND)
        yield stack


def site_file(tmp_path: Path, cups: PeerStack) -> Path:
    # a backend that is not there (a free port): the restart needs none
    return kiosk_file(tmp_path, **{
        "cups_port = 631": f"cups_port = {cups.cups_port}",
        'queue = "library-mfp"': f'queue = "{FIRST}"',
        'hold_queue = "followme"\n': "",
        'url = "http://127.0.0.1:8470"': f'url = "http://127.0.0.1:{free_udp_port()}"'})


def queue_of(terminal: Terminal) -> KioskHoldQueue:
    assert terminal.jobs is not None
    queue = terminal.jobs.queue
    assert isinstance(queue, KioskHoldQueue)
    return queue


@pytest.mark.skipif(not DOCUMENT.exists(), reason="shared corpus absent")
def test_a_new_printer_queue_is_applied_by_a_restart(tmp_path: Path, cups: PeerStack) -> None:
    factory = TerminalFactory(site_file(tmp_path, cups))
    old = factory.build()
    old.start()
    assert queue_of(old).cups.printer == FIRST and old.factory is factory
    assert old.technician is not None
    assert SECOND in old.technician.choices("printer.queue")
    assert isinstance(old.technician.save(TESS, {"printer.queue": SECOND}), Saved)
    job_id = cups.submit(SECOND, "dave", DOCUMENT, "on-the-new-queue")
    new = factory.restart(old)
    try:
        assert isinstance(new, Terminal), new
        assert new is not old and new.factory is factory and new.technician is not None
        assert queue_of(new).cups.printer == SECOND
        assert [job.job_id for job in queue_of(new).held_jobs("dave")] == [job_id]
        assert old.executor._shutdown  # the old core is closed
        # the change was journalled before the restart and is still in the new outbox
        assert new.charges is not None
        assert [e.body["action"] for e in new.charges.outbox.pending()
                if e.kind.value == "technician"] == ["settings.change"]
    finally:
        new.close()


def test_a_file_whose_card_reader_cannot_open_is_rolled_back(tmp_path: Path,
                                                             cups: PeerStack) -> None:
    path = site_file(tmp_path, cups)
    factory = TerminalFactory(path)
    old = factory.build()
    old.start()
    good = path.read_text()
    blocker = tmp_path / "not-a-fifo"
    blocker.write_text("a regular file where the reader wants its FIFO\n")
    broken = good.replace('type = "simulated"', f'type = "simulated"\nfifo = "{blocker}"')
    write_atomic(path, broken)  # valid for doctor: the reader fails only when it opens
    result = factory.restart(old)
    assert isinstance(result, RestartFailed), result
    try:
        assert any("not-a-fifo" in problem and "is not a FIFO" in problem
                   for problem in result.problems), result.problems
        assert path.read_text() == good  # the previous file is back
        assert previous_path(path).read_text() == broken
        assert result.terminal is not old and queue_of(result.terminal).cups.printer == FIRST
        assert result.terminal.technician is not None
    finally:
        result.terminal.close()


def test_an_invalid_file_is_rolled_back_with_the_validators_lines(tmp_path: Path,
                                                                  cups: PeerStack) -> None:
    path = site_file(tmp_path, cups)
    factory = TerminalFactory(path)
    old = factory.build()
    good = path.read_text()
    write_atomic(path, good.replace("idle_timeout_s = 60", "idle_timeout_s = 5"))
    result = factory.restart(old)
    assert isinstance(result, RestartFailed)
    try:
        assert any(p.startswith("kiosk.toml: terminal.idle_timeout_s: 5 ")
                   for p in result.problems), result.problems
        assert path.read_text() == good
    finally:
        result.terminal.close()


def test_a_failed_restart_goes_back_to_the_version_the_core_ran_not_an_intermediate(
    tmp_path: Path, cups: PeerStack,
) -> None:
    path = site_file(tmp_path, cups)
    factory = TerminalFactory(path)
    old = factory.build()
    running = path.read_text()
    assert old.technician is not None
    assert isinstance(old.technician.save(TESS, {"printer.queue": SECOND}), Saved)
    intermediate = path.read_text()
    blocker = tmp_path / "not-a-fifo"
    blocker.write_text("x\n")
    write_atomic(path, intermediate.replace('type = "simulated"',
                                            f'type = "simulated"\nfifo = "{blocker}"'))
    result = factory.restart(old)
    assert isinstance(result, RestartFailed)
    try:
        assert path.read_text() == running  # two saves back: what the closed core ran
        assert queue_of(result.terminal).cups.printer == FIRST
    finally:
        result.terminal.close()


def test_a_failure_the_file_did_not_cause_is_raised_and_the_file_left_alone(
    tmp_path: Path, cups: PeerStack, monkeypatch: pytest.MonkeyPatch,
) -> None:
    from terminal.config import ConfigError

    monkeypatch.delenv("PRINTKIOSK_TERMINAL_TOKEN", raising=False)
    path = site_file(tmp_path, cups)
    factory = TerminalFactory(path)
    old = factory.build()
    before = path.read_text()
    (tmp_path / "terminal-token").chmod(0o644)  # the token, not the kiosk file, is bad
    with pytest.raises(ConfigError, match="too open"):
        factory.restart(old)
    assert path.read_text() == before and not previous_path(path).exists()
