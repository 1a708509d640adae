"""Reports on a schedule through the printer monitor fake, journalled in the outbox."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from terminal.charges import ChargeBook
from terminal.fakes import FakeAlert, FakeLedger, FakePrinterMonitor, FakeSupply, ManualClock
from terminal.offline import OfflinePolicy
from terminal.outbox import EntryKind, Outbox
from terminal.reporting import Reporter, ReportSchedule


def setup(tmp_path: Path) -> tuple[Reporter, ChargeBook, FakeLedger, FakePrinterMonitor,
                                   ManualClock, list[bool]]:
    ledger = FakeLedger()
    book = ChargeBook(Outbox(tmp_path / "o.sqlite3"), ledger, OfflinePolicy(False, Decimal(0)))
    monitor = FakePrinterMonitor({"total": 100, "colour": 40}, [FakeSupply("black", 80)])
    clock = ManualClock()
    beats: list[bool] = []
    reporter = Reporter(book, monitor, lambda: not ledger.down,
                        ReportSchedule(heartbeat_s=30, device_s=900), clock, beats.append)
    return reporter, book, ledger, monitor, clock, beats


def kinds(book: ChargeBook) -> list[str]:
    return [e.body["kind"] for e in book.outbox.pending() if e.kind is EntryKind.EVENT]


def test_device_reports_and_heartbeats_follow_the_schedule(tmp_path: Path) -> None:
    reporter, book, ledger, monitor, clock, beats = setup(tmp_path)
    reporter.tick()
    assert kinds(book) == ["counters", "supplies"]
    assert beats == [True]
    clock.advance(29)
    reporter.tick()
    assert beats == [True]
    ledger.down = True
    clock.advance(1)
    reporter.tick()
    assert beats == [True, False]
    assert kinds(book) == ["counters", "supplies"]
    monitor.counter_values["total"] = 150
    clock.advance(900)
    reporter.tick()
    events = [e.body for e in book.outbox.pending()]
    assert events[-2]["payload"] == {"counters": {"total": 150, "colour": 40}}
    assert events[-1]["payload"] == {"supplies": [{"name": "black", "level_percent": 80}]}


def test_the_counters_report_carries_the_printers_serial_when_it_says(
        tmp_path: Path) -> None:
    reporter, book, _, monitor, clock, _ = setup(tmp_path)
    reporter.tick()  # this printer does not say: no serial key at all
    monitor.serial_number = "CNB1X23456"
    clock.advance(900)
    reporter.tick()
    counters = [e.body["payload"] for e in book.outbox.pending()
                if e.kind is EntryKind.EVENT and e.body["kind"] == "counters"]
    assert counters == [{"counters": {"total": 100, "colour": 40}},
                        {"counters": {"total": 100, "colour": 40}, "serial": "CNB1X23456"}]


def test_alerts_are_reported_when_they_change(tmp_path: Path) -> None:
    reporter, book, _, monitor, clock, _ = setup(tmp_path)
    reporter.tick()
    monitor.active_alerts = [FakeAlert("paper_jam", "critical", "tray 2")]
    clock.advance(30)
    reporter.tick()
    clock.advance(30)
    reporter.tick()  # still jammed: nothing new to say
    monitor.active_alerts = []
    clock.advance(30)
    reporter.tick()
    alerts = [e.body["payload"] for e in book.outbox.pending() if e.body["kind"] == "alert"]
    jam = {"code": "paper_jam", "severity": "critical", "description": "tray 2"}
    assert alerts == [
        {"active": [jam], "raised": [jam], "cleared": []},
        {"active": [], "raised": [], "cleared": [jam]},
    ]


def test_a_silent_printer_is_skipped_and_job_reports_are_journalled(tmp_path: Path) -> None:
    reporter, book, ledger, monitor, _, _ = setup(tmp_path)
    monitor.failing = True
    reporter.tick()
    assert kinds(book) == []
    reporter.job_released("cups-42", "alice", 6, 2, Decimal("0.72"), "completed")
    assert not book.drain().remaining
    (event,) = ledger.events.values()
    assert event["kind"] == "job_report"
    assert event["payload"] == {"job_ref": "cups-42", "username": "alice", "pages": 6,
                                "colour_pages": 2, "charged": "0.72", "outcome": "completed"}


def test_a_printer_silent_for_three_reads_is_reported_unreachable_until_it_answers(
        tmp_path: Path) -> None:
    reporter, book, _, monitor, clock, _ = setup(tmp_path)
    jam = FakeAlert("jam", "critical", "tray 2")
    monitor.active_alerts = [jam]
    reporter.tick()
    monitor.failing = True
    for _ in range(5):  # two lost answers are nothing; the third says unreachable, once
        clock.advance(30)
        reporter.tick()
    monitor.failing = False
    clock.advance(30)
    reporter.tick()
    alerts = [e.body["payload"] for e in book.outbox.pending() if e.body["kind"] == "alert"]
    jammed = {"code": "jam", "severity": "critical", "description": "tray 2"}
    unreachable = {"code": "printer_unreachable", "severity": "critical",
                   "description": "the printer does not answer"}
    assert alerts == [
        {"active": [jammed], "raised": [jammed], "cleared": []},
        {"active": [jammed, unreachable], "raised": [unreachable], "cleared": []},
        {"active": [jammed], "raised": [], "cleared": [unreachable]},
    ]
