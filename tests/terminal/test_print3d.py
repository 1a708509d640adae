"""The 3D release workflow and its follower over the fakes (the real OctoPrint, Moonraker
and backend: tests/terminal/test_print3d_octoprint.py)."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from terminal.charges import ChargeBook
from terminal.fakes import (
    FakeHoldQueue,
    FakeLedger,
    FakePricer,
    FakePrint3DJobs,
    FakeThreeDPrinter,
    ManualClock,
    print3d_job,
)
from terminal.jobs import JobService
from terminal.offline import OfflinePolicy
from terminal.outbox import EntryKind, EntryState, Outbox
from terminal.ports import BackendRejected, Print3DFlag
from terminal.print3d import Print3DDesk, Print3DListingFailed
from terminal.print3d_follow import Print3DFollower
from terminal.print3d_record import PrintRecordStore
from terminal.print3d_values import FilamentProfile, Print3DUpdate, Stage3D
from terminal.release import ReleaseWorkflow

LINE = b"G1 X10 Y10 E0.5\n"
LINES = 100
GCODE = LINE * LINES  # 1600 bytes, 50 mm of filament spread evenly


def profile_of(path: Path) -> FilamentProfile:
    """What the analysis says of GCODE: 0.5 mm per line, the job's 20 g in all."""
    data = path.read_bytes()
    points = tuple((len(LINE) * n, Decimal("0.5") * n) for n in range(10, LINES, 10))
    return FilamentProfile(len(data), Decimal("50.0"), Decimal("20.00"), points)


class Kiosk:
    """One kiosk's 3D parts on fakes; ``restart()`` is a new process on the same disk."""

    def __init__(self, tmp_path: Path, available: str = "10.00", step: int = 0) -> None:
        self.tmp = tmp_path
        self.ledger = FakeLedger({"alice": Decimal(available), "bob": Decimal("10.00")})
        self.jobs = FakePrint3DJobs(self.ledger, [
            print3d_job(1), print3d_job(2, "bob.gcode", "bob"),
            print3d_job(3, "mk3.gcode", flags=[Print3DFlag("printer_model_mismatch", "MK4",
                                                           "MK3S", True)])],
            {1: GCODE, 2: GCODE, 3: GCODE})
        self.printer = FakeThreeDPrinter(step=step)
        self.clock = ManualClock()
        self.updates: list[Print3DUpdate] = []
        self.open()

    def open(self) -> None:
        self.book = ChargeBook(Outbox(self.tmp / "outbox.sqlite"), self.ledger,
                               OfflinePolicy(False, Decimal("0")), print3d=self.jobs)
        self.store = PrintRecordStore(self.tmp / "print3d.json")
        self.follower = Print3DFollower(self.printer, self.book, self.store, profile_of,
                                        poll_s=0.1, start_grace_s=10, clock=self.clock)
        self.follower.subscribe(self.updates.append)
        self.desk = Print3DDesk(self.jobs, self.printer, self.book, self.follower,
                                self.store, profile_of, "makerspace", self.tmp / "files",
                                self.ledger.balance, clock=self.clock)

    def restart(self) -> None:
        self.book.outbox.close()
        self.open()
        self.follower.recover(self.book.unsettled())

    def release(self, job_id: int = 1, user: str = "alice") -> Print3DUpdate:
        job = self.jobs.jobs[job_id]
        return self.desk.release(user, job, self.updates.append)

    def follow_until_final(self, limit: int = 500) -> Print3DUpdate:
        for _ in range(limit):
            self.follower.poll_once()
            self.clock.advance(1)
            if self.updates and self.updates[-1].stage.final:
                return self.updates[-1]
        raise AssertionError(f"no end after {limit} polls: {self.updates[-1]}")


def _all(outbox: Outbox) -> list:
    return [e for e in outbox.holds()] + [
        e for hold in outbox.holds() if (e := outbox.settlement_of(hold.key)) is not None]


def test_release_holds_claims_uploads_starts_and_settles_the_completed_print_once(
        tmp_path: Path) -> None:
    kiosk = Kiosk(tmp_path, step=160)
    started = kiosk.release()
    assert started.stage is Stage3D.PRINTING and started.held == Decimal("2.50")
    hold = kiosk.book.outbox.holds()[0]
    assert hold.body["job_ref"] == "print3d:1" and hold.body["description"] == "3D: bracket.gcode"
    assert hold.amount == Decimal("2.50")
    assert [c[0] for c in kiosk.jobs.calls] == ["claim", "download"]
    name = kiosk.printer.calls[-1][1]
    assert kiosk.printer.calls[-2:] == [("upload", name), ("start", name)]
    assert kiosk.follower.busy is not None
    final = kiosk.follow_until_final()
    progress = [u for u in kiosk.updates if u.stage is Stage3D.PRINTING and u.percent]
    grams = [u.grams_so_far for u in progress]
    assert grams == sorted(grams) and grams[0] == Decimal("2.00") and len(progress) >= 5
    assert progress[0].temperatures["tool0"] == (210.0, 210.0)
    assert final.stage is Stage3D.FINISHED and final.settlement_sent
    assert final.charged == Decimal("2.00") and final.grams_charged == Decimal("20.00")
    assert final.balance is not None and final.balance.available == Decimal("8.00")
    settle = kiosk.book.outbox.settlement_of(hold.key)
    assert settle is not None and settle.kind is EntryKind.SETTLE_3D
    assert settle.state is EntryState.SENT and settle.body["outcome"] == "completed"
    assert [c[2] for c in kiosk.jobs.calls if c[0] == "settle"] == [settle.key]
    assert kiosk.follower.busy is None and kiosk.store.load() is None
    assert name not in kiosk.printer.files  # the file is taken off the printer
    assert not list((tmp_path / "files").iterdir())
    assert kiosk.book.unsettled() == []


def test_a_failure_before_the_start_settles_not_started_and_says_why(tmp_path: Path) -> None:
    kiosk = Kiosk(tmp_path)
    kiosk.printer.refuse_start = "printer_not_ready"
    final = kiosk.release()
    assert final.stage is Stage3D.NOT_STARTED and final.problem == "printer_not_ready"
    settle = kiosk.book.outbox.settlement_of(kiosk.book.outbox.holds()[0].key)
    assert settle is not None and settle.body["outcome"] == "not_started"
    assert kiosk.ledger.holds["h1"].status == "voided"
    assert kiosk.jobs.jobs[1].status == "ready"
    assert kiosk.follower.busy is None and kiosk.store.load() is None


def test_a_refused_claim_voids_the_hold(tmp_path: Path) -> None:
    kiosk = Kiosk(tmp_path)
    kiosk.jobs.claim_print3d = _refuse  # type: ignore[method-assign]
    final = kiosk.release()
    assert final.stage is Stage3D.REFUSED and final.problem == "print3d_not_ready"
    assert [e.kind for e in _all(kiosk.book.outbox)] == [EntryKind.HOLD, EntryKind.VOID]
    assert kiosk.printer.calls[-1][0] == "status"  # nothing sent to the printer


def _refuse(job_id: int, hold_id: str) -> None:
    raise BackendRejected("print3d_not_ready", status=409)


def test_not_enough_credit_says_how_much_is_missing_and_holds_nothing(tmp_path: Path) -> None:
    kiosk = Kiosk(tmp_path, available="1.00")
    final = kiosk.release()
    assert final.stage is Stage3D.INSUFFICIENT and final.missing == Decimal("1.50")
    assert kiosk.ledger.holds == {} and kiosk.printer.files == {}


def test_a_blocked_job_is_not_released_and_says_why(tmp_path: Path) -> None:
    kiosk = Kiosk(tmp_path)
    final = kiosk.release(3)
    assert final.stage is Stage3D.REFUSED and final.problem == "printer_model_mismatch"
    assert kiosk.book.outbox.holds() == []


def test_a_second_user_sees_the_printer_busy_without_names(tmp_path: Path) -> None:
    kiosk = Kiosk(tmp_path)
    kiosk.release()
    kiosk.printer.advance(800)
    kiosk.follower.poll_once()
    refused = kiosk.release(2, "bob")
    assert refused.stage is Stage3D.REFUSED and refused.problem == "print3d_printer_busy"
    busy = kiosk.follower.busy
    assert busy is not None and busy.percent == pytest.approx(50.0)
    assert len(kiosk.book.outbox.holds()) == 1  # bob was not held


def test_cancel_at_half_settles_the_part_printed(tmp_path: Path) -> None:
    kiosk = Kiosk(tmp_path)
    kiosk.release()
    kiosk.printer.advance(800)
    kiosk.follower.poll_once()
    assert kiosk.desk.cancel()
    final = kiosk.follow_until_final()
    assert final.stage is Stage3D.CANCELLED and final.policy == "charge_printed"
    assert final.grams_charged == Decimal("10.00") and final.charged == Decimal("1.00")
    settle = kiosk.book.outbox.settlement_of(kiosk.book.outbox.holds()[0].key)
    assert settle is not None and settle.body["file_position"] == 800


def test_an_unreachable_printer_keeps_the_last_position_then_a_lost_job_is_failed_there(
        tmp_path: Path) -> None:
    kiosk = Kiosk(tmp_path)
    kiosk.release()
    kiosk.printer.advance(480)
    kiosk.follower.poll_once()
    kiosk.printer.unreachable = True
    for _ in range(20):
        kiosk.follower.poll_once()
        kiosk.clock.advance(60)
    assert kiosk.follower.busy is not None and not kiosk.follower.busy.printer_reachable
    assert kiosk.book.outbox.settlement_of(kiosk.book.outbox.holds()[0].key) is None
    kiosk.printer.unreachable = False
    kiosk.printer.power_cycle()  # back, with no job of ours
    final = kiosk.follow_until_final()
    assert final.stage is Stage3D.FAILED
    settle = kiosk.book.outbox.settlement_of(kiosk.book.outbox.holds()[0].key)
    assert settle is not None and settle.body["outcome"] == "failed"
    assert settle.body["file_position"] == 480 and settle.body["print_time_s"] == 6


def test_a_settlement_waits_in_the_outbox_across_a_restart_and_is_sent_once(
        tmp_path: Path) -> None:
    kiosk = Kiosk(tmp_path)
    kiosk.release()
    kiosk.printer.advance(800)
    kiosk.follower.poll_once()
    kiosk.printer.unreachable = True
    kiosk.jobs.down = kiosk.ledger.down = True
    kiosk.follower.poll_once()
    kiosk.restart()  # a new process: the print is taken up again from its record
    assert kiosk.follower.busy is not None
    kiosk.printer.unreachable = False
    kiosk.printer.power_cycle()
    final = kiosk.follow_until_final()
    assert final.stage is Stage3D.FAILED and not final.settlement_sent
    settle = kiosk.book.outbox.settlement_of(kiosk.book.outbox.holds()[0].key)
    assert settle is not None and settle.state is EntryState.PENDING
    kiosk.restart()  # and again, before the backend is back: nothing is recorded twice
    assert kiosk.follower.busy is None and kiosk.book.unsettled() == []
    kiosk.jobs.down = kiosk.ledger.down = False
    assert not kiosk.book.drain().remaining
    assert not kiosk.book.drain().remaining
    assert len(kiosk.jobs.settlements) == 1
    assert kiosk.ledger.holds["h1"].status == "voided"  # failure_policy = refund
    assert len([e for e in _all(kiosk.book.outbox) if e.kind is EntryKind.SETTLE_3D]) == 1


def test_a_restart_mid_print_follows_it_to_the_end(tmp_path: Path) -> None:
    kiosk = Kiosk(tmp_path)
    kiosk.release()
    kiosk.printer.advance(400)
    kiosk.follower.poll_once()
    kiosk.restart()
    assert kiosk.follower.busy is not None
    kiosk.printer.step = 400
    final = kiosk.follow_until_final()
    assert final.stage is Stage3D.FINISHED and final.charged == Decimal("2.00")


def test_a_restart_before_the_start_settles_not_started(tmp_path: Path) -> None:
    kiosk = Kiosk(tmp_path)
    kiosk.printer.unreachable = False
    original = kiosk.printer.upload

    def crash(path: Path, name: str) -> None:
        original(path, name)
        raise SystemExit  # the process dies in the middle of the release

    kiosk.printer.upload = crash  # type: ignore[method-assign]
    with pytest.raises(SystemExit):
        kiosk.release()
    kiosk.printer.upload = original  # type: ignore[method-assign]
    assert kiosk.store.load() is not None
    kiosk.restart()
    settle = kiosk.book.outbox.settlement_of(kiosk.book.outbox.holds()[0].key)
    assert settle is not None and settle.body["outcome"] == "not_started"
    assert kiosk.jobs.jobs[1].status == "ready" and kiosk.follower.busy is None


def test_an_open_3d_hold_without_a_record_is_voided_at_start(tmp_path: Path) -> None:
    kiosk = Kiosk(tmp_path)
    kiosk.book.authorise("alice", Decimal("2.50"), "3D: bracket.gcode", "print3d:1")
    kiosk.restart()
    assert kiosk.book.unsettled() == [] and kiosk.ledger.holds["h1"].status == "voided"


def test_the_mfp_recovery_leaves_3d_holds_to_the_follower(tmp_path: Path) -> None:
    kiosk = Kiosk(tmp_path)
    for _ in range(2):  # two open holds for one 3D job: the MFP rule voids the older
        kiosk.book.authorise("alice", Decimal("2.50"), "3D: bracket.gcode", "print3d:1")
    queue = FakeHoldQueue([])
    workflow = ReleaseWorkflow(JobService(queue, FakePricer(), lambda *_: None), queue,
                               kiosk.book, kiosk.ledger.balance)
    assert workflow.recover(kiosk.book.unsettled()) == []
    assert len(kiosk.book.unsettled()) == 2


def test_listing_offline_says_so(tmp_path: Path) -> None:
    kiosk = Kiosk(tmp_path)
    assert [job.job_id for job in kiosk.desk.list_jobs("alice")] == [3, 1]
    kiosk.jobs.down = True
    with pytest.raises(Print3DListingFailed) as failed:
        kiosk.desk.list_jobs("alice")
    assert failed.value.code == "print3d_offline"


def test_grams_so_far_are_interpolated_between_checkpoints() -> None:
    profile = FilamentProfile(1000, Decimal("100"), Decimal("30.00"),
                              ((100, Decimal("0")), (600, Decimal("50"))))
    assert profile.grams_at(0) == Decimal("0.00")
    assert profile.grams_at(100) == Decimal("0.00")
    assert profile.grams_at(350) == Decimal("7.50")
    assert profile.grams_at(800) == Decimal("22.50")
    assert profile.grams_at(5000) == Decimal("30.00")


def test_grams_so_far_of_a_real_analysis_follow_the_filament_up_to_the_position(
        tmp_path: Path) -> None:
    from analysis import analyse_gcode, filament_up_to, grams_of
    from terminal.print3d_values import gcode_profile

    path = tmp_path / "ramp.gcode"
    # uneven extrusion along the file: 0.01 mm more on every line
    lines = [f"G1 X{n % 50} Y{n % 7} E{0.01 * n:.2f}\n" for n in range(1, 3001)]
    path.write_text("M83\n" + "".join(lines), encoding="ascii")
    profile = gcode_profile(path)
    figures = analyse_gcode(path)
    assert profile.grams_at(figures.size_bytes) == figures.grams
    for fraction in (0.25, 0.5, 0.8):
        offset = int(figures.size_bytes * fraction)
        mm = sum(filament_up_to(path, offset), Decimal(0))
        truth = grams_of(mm, figures.diameter_mm, figures.density_g_cm3)
        assert abs(profile.grams_at(offset) - truth) <= truth * Decimal("0.01"), fraction


def test_time_left_is_estimated_from_the_time_printed_when_the_printer_does_not_say(
        tmp_path: Path) -> None:
    kiosk = Kiosk(tmp_path, step=160)
    kiosk.printer.reports_time_left = False
    kiosk.release()
    kiosk.follow_until_final()
    shown = [(u.percent, u.time_left_s) for u in kiosk.updates
             if u.stage is Stage3D.PRINTING and u.percent]
    assert shown and all(left is not None for _, left in shown)
    lefts = [left for _, left in shown]
    assert lefts == sorted(lefts, reverse=True)  # it only counts down as the print advances
    first_percent, first_left = shown[0]
    size = len(GCODE)
    elapsed = kiosk.printer.seconds_per_step
    assert first_left == round(elapsed * (100 - first_percent) / first_percent)
    assert first_left == pytest.approx(elapsed * (size - 160) / 160, abs=1)


def test_a_printer_whose_last_print_failed_takes_the_next_one(tmp_path: Path) -> None:
    """OctoPrint keeps reporting the last job's failure until the next job starts; a
    kiosk (a fresh one after a restart too) must not call that printer busy."""
    kiosk = Kiosk(tmp_path, step=160)
    kiosk.printer.state = "failed"
    started = kiosk.release()
    assert started.stage is Stage3D.PRINTING, started
