"""The demo's print server: a real private cupsd with the demo users' held jobs, as the
kiosk sees them through drivers.cups, and nothing left running once it is closed."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from analysis import PageColour, analyse_document
from drivers.cups import CupsHoldQueue, HeldJob, is_usable, sandbox_tools_missing
from printkiosk.commands.demo import (
    DEMO_JOBS,
    DemoPrinter,
    start_demo_printer,
    start_demo_printer_or_none,
)

pytestmark = pytest.mark.peer


def processes_mentioning(text: str) -> list[str]:
    """Command lines of running processes whose argv contains ``text``."""
    found = []
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            argv = cmdline.read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:  # the process ended while we looked
            continue
        if text in argv:
            found.append(argv)
    return found


@pytest.fixture(scope="module")
def data_dir() -> Iterator[Path]:
    """A demo data dir that cupsd's filters (user ``lp``) can reach, like a 0755 one."""
    if sandbox_tools_missing():
        pytest.skip(f"CUPS sandbox tools missing: {', '.join(sandbox_tools_missing())}")
    if not is_usable():
        pytest.skip("pycups is not installed")
    if os.geteuid() != 0:
        pytest.skip("the CUPS sandbox runs cupsd, which needs root")
    path = Path(tempfile.mkdtemp(prefix="printkiosk-demo-test-"))
    path.chmod(0o755)
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


@pytest.fixture(scope="module")
def printer(data_dir: Path) -> Iterator[DemoPrinter]:
    started = start_demo_printer(data_dir)
    try:
        yield started
    finally:
        started.close()


def kiosk_queue(printer: DemoPrinter) -> CupsHoldQueue:
    """The hold queue exactly as the kiosk builds it from printer_config()."""
    config = printer.printer_config()
    return CupsHoldQueue(
        config["queue"],
        server=config["cups_server"],
        port=config["cups_port"],
        follow_me_queues=(config["hold_queue"],),
        spool_dir=Path(config["cups_spool_dir"]),
    )


def by_title(jobs: list[HeldJob]) -> dict[str, HeldJob]:
    return {job.name: job for job in jobs}


def test_alice_sees_her_two_held_jobs_with_their_pages_and_colours(
    printer: DemoPrinter, data_dir: Path
) -> None:
    jobs = by_title(kiosk_queue(printer).held_jobs("alice"))
    assert sorted(jobs) == ["Lab slides", "Thesis chapter 2"]
    assert {job.queue for job in jobs.values()} == {printer.queue}
    assert jobs["Lab slides"].color_mode == "color"
    assert jobs["Thesis chapter 2"].color_mode == "monochrome"
    # the spooled documents are the generated ones: the kiosk's analysis finds the pages
    slides = jobs["Lab slides"].document
    thesis = jobs["Thesis chapter 2"].document
    assert slides is not None and thesis is not None
    assert [page.colour for page in analyse_document(slides).pages] == [
        PageColour.COLOUR, PageColour.MONO
    ]
    assert [page.colour for page in analyse_document(thesis).pages] == [PageColour.MONO] * 3
    # the sandbox lives in the data dir given, not in some temp dir
    assert printer.sandbox.base == data_dir / "cups"
    assert printer.scratch is None


def test_carol_sees_her_job_on_the_follow_me_queue_and_bob_his_own(
    printer: DemoPrinter,
) -> None:
    queue = kiosk_queue(printer)
    carol = queue.held_jobs("carol")
    assert [(job.name, job.queue) for job in carol] == [("Board minutes", printer.hold_queue)]
    assert [job.name for job in queue.held_jobs("bob")] == ["Concert poster"]
    assert queue.held_jobs("mallory") == []
    assert len(printer.job_ids) == len(DEMO_JOBS)


def test_close_leaves_no_process_and_no_temp_dir(tmp_path: Path) -> None:
    # tmp_path is under a 0700 dir: the demo must fall back to a temp dir lp can reach
    started = start_demo_printer(tmp_path, jobs=DEMO_JOBS[:1])
    base = started.sandbox.base
    processes = [process for _name, process in started.sandbox.processes]
    assert started.scratch == base and not base.is_relative_to(tmp_path)
    assert len(processes) == 4 and processes_mentioning(str(base))
    assert [job.name for job in kiosk_queue(started).held_jobs("alice")] == [DEMO_JOBS[0].title]

    started.close()

    assert all(process.poll() is not None for process in processes)
    assert processes_mentioning(str(base)) == []
    assert not base.exists()


def test_without_the_tools_the_demo_says_so_in_one_line(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    assert start_demo_printer_or_none(tmp_path) is None
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "cupsd" in err and "no print jobs" in err
