"""Device problems from what kiosks report (issue 18, device part): an alert that keeps
repeating is one mail until it clears, a recurrence is a new mail, a resent event does
nothing; supplies, filament run-out, the real SNMP recordings through a kiosk Reporter."""

from __future__ import annotations

import pytest
from device_helpers import (
    OPS,
    alert,
    device_backend,
    mails,
    new_event,
    post_events,
    problems,
)
from device_helpers import (
    rendered as render_mail,
)
from sqlalchemy import update

from backend.db import Database
from backend.models import Terminal
from drivers.snmp import CommunityAuth, SnmpTarget
from terminal.adapters import SnmpPrinter
from terminal.fakes import FakeEventJournal
from terminal.print3d_reports import Print3DReports
from terminal.reporting import Reporter, ReportSchedule
from tests.drivers.snmp.snmpsim_peer import Agent, free_udp_port


def test_an_alert_repeated_in_ten_batches_is_one_mail_until_it_clears(db: Database) -> None:
    with device_backend(db) as backend:
        post_events(backend, alert(["jammed"], raised=["jammed"]))
        for _ in range(9):  # the kiosk restarted, or the same set re-sent: still jammed
            post_events(backend, alert(["jammed", "poweredUp"], raised=["jammed"]))
        first = mails(db, "device_problem")
        assert sorted((m.to_address, m.language) for m in first) == [
            ("alice@example.org", "fr"), (OPS, "en")], "one mail per administrator"
        open_now = [p for p in problems(db) if p.cleared_at is None]
        assert [(p.code, p.source) for p in open_now] == [("jam", "alert")]

        post_events(backend, alert([], cleared=["jammed"]))
        assert [p.cleared_at is not None for p in problems(db)] == [True]
        assert len(mails(db, "device_problem")) == 2, "clearing mails nothing"

        post_events(backend, alert(["jammed"], raised=["jammed"]))
        assert len(mails(db, "device_problem")) == 4, "a recurrence is a new problem and mail"
        assert [p.cleared_at is None for p in problems(db)] == [False, True]


def test_the_mail_names_the_problem_in_words_in_the_admins_language(db: Database) -> None:
    with device_backend(db) as backend:
        post_events(backend, alert(["lowToner"], raised=["lowToner"]))
        by_language = {m.language: render_mail(m) for m in mails(db, "device_problem")}
    english, french = by_language["en"], by_language["fr"]
    assert english.subject == "Toner low at demo kiosk"
    assert french.subject == "Toner bas sur demo kiosk"
    assert "Have a new cartridge ready" in english.text
    assert "Préparez une cartouche neuve" in french.text
    assert "<strong>Toner bas</strong>" in french.html
    assert "lowToner" not in english.subject + french.subject, "no raw code as the problem"


def test_a_resent_event_does_nothing(db: Database) -> None:
    with device_backend(db) as backend:
        raise_jam = new_event(*alert(["jam"], raised=["jam"]))
        post_events(backend, raise_jam)
        post_events(backend, alert([], cleared=["jam"]))
        answer = post_events(backend, raise_jam)  # the kiosk resends a batch after a timeout
        assert answer["duplicates"] == 1
        assert [p.cleared_at is not None for p in problems(db)] == [True], "not reopened"
        assert len(mails(db, "device_problem")) == 2


def test_two_problems_of_one_printer_and_unknown_codes(db: Database) -> None:
    with device_backend(db) as backend:
        post_events(backend, alert(["doorOpen", "jam", "jammed", "configurationChange"],
                                   raised=["doorOpen", "jam", "jammed"]))
        assert sorted(p.code for p in problems(db)) == ["door_open", "jam"]
        jam = next(p for p in problems(db) if p.code == "jam")
        assert jam.detail["codes"] == ["jam", "jammed"]
        # The full set no longer has the door: it cleared even with no cleared list.
        post_events(backend, alert(["jam"]))
        assert {p.code: p.cleared_at is None for p in problems(db)} == {
            "door_open": False, "jam": True}
        assert len(mails(db, "device_problem")) == 4


def test_low_toner_off_mails_only_empty_toner(db: Database) -> None:
    with device_backend(db, low_toner=False) as backend:
        post_events(backend, alert(["lowToner"], raised=["lowToner"]),
                    ("supplies", {"supplies": [{"name": "Black Toner", "level_percent": 3}]}))
        assert problems(db) == []
        post_events(backend, alert(["noToner"], raised=["noToner"]))
        assert [p.code for p in problems(db)] == ["toner_empty"]


def test_a_low_cartridge_said_as_an_alert_and_as_a_level_is_one_mail(db: Database) -> None:
    # One SNMP read gives both (the demo printer did: "Toner low" and "Magenta toner is
    # low" arrived as two mails for one cartridge).
    low = ("supplies", {"supplies": [{"name": "Magenta Toner", "level_percent": 8}]})
    with device_backend(db) as backend:
        post_events(backend, alert(["lowToner"], raised=["lowToner"]), low)
        assert [p.code for p in problems(db)] == ["toner_low"]
        post_events(backend, alert([], cleared=["lowToner"]))
        post_events(backend, low)  # the alert cleared, the level still says low
        assert [(p.code, p.cleared_at is None) for p in problems(db)] == [
            ("toner_low", False), ("supply_low", True)]
        empty = ("supplies", {"supplies": [{"name": "Magenta Toner", "level_percent": 0}]})
        post_events(backend, empty, alert(["noToner"], raised=["noToner"]))
        assert sorted((p.code, p.cleared_at is None) for p in problems(db)) == [
            ("supply_empty", True), ("supply_low", False), ("toner_low", False)]
        assert len(mails(db, "device_problem")) == 2 * 3, "one mail per cartridge state"


def test_an_empty_supply_is_a_problem_until_refilled(db: Database) -> None:
    supplies = [{"name": "Cyan Toner", "level_percent": 0},
                {"name": "Black Toner", "level_percent": 8},
                {"name": "Fuser", "level_percent": None},
                {"name": "Waste Toner", "level_percent": -3}]
    with device_backend(db) as backend:
        for _ in range(3):
            post_events(backend, ("supplies", {"supplies": supplies}))
        assert sorted((p.code, p.subject) for p in problems(db)) == [
            ("supply_empty", "Cyan Toner"), ("supply_low", "Black Toner")]
        assert len(mails(db, "device_problem")) == 4
        subjects = {render_mail(m).subject for m in mails(db, "device_problem")}
        assert "Cyan Toner : vide sur demo kiosk" in subjects
        supplies[0]["level_percent"] = 100  # a new cyan cartridge
        post_events(backend, ("supplies", {"supplies": supplies}))
        assert {p.subject: p.cleared_at is None for p in problems(db)} == {
            "Cyan Toner": False, "Black Toner": True}


def test_a_filament_run_out_is_cleared_only_by_its_own_clear(db: Database) -> None:
    with device_backend(db) as backend:
        post_events(backend, ("alert", {"active": ["filament_runout"],
                                        "raised": ["filament_runout"], "cleared": []}))
        assert [p.code for p in problems(db)] == ["filament_runout"]
        post_events(backend, alert([]))  # an alert set that does not mention it
        assert problems(db)[0].cleared_at is None
        post_events(backend, ("alert", {"active": [], "raised": [],
                                        "cleared": ["filament_runout"]}))
        assert problems(db)[0].cleared_at is not None
        (english,) = [render_mail(m) for m in mails(db, "device_problem") if m.language == "en"]
        assert english.subject == "Filament run out (3D printer) at demo kiosk"


def test_nothing_is_recorded_with_notifications_off(db: Database) -> None:
    with device_backend(db, enabled=False) as backend:
        post_events(backend, alert(["jam"], raised=["jam"]))
        assert problems(db) == [] and mails(db, "device_problem") == []


def test_digest_mode_mails_nothing_at_once(db: Database) -> None:
    with device_backend(db, mode="digest") as backend:
        post_events(backend, alert(["jam"], raised=["jam"]))
        assert [p.code for p in problems(db)] == ["jam"]
        assert mails(db, "device_problem") == []


def _kiosk_reports(snmp_agent: Agent, recording: str, port: int | None = None,
                   ticks: int = 1) -> list[tuple[str, dict[str, object]]]:
    """What a kiosk's Reporter journals after ``ticks`` heartbeats over a real recording
    (``port``: where no agent answers)."""
    journal = FakeEventJournal()
    printer = SnmpPrinter(SnmpTarget(snmp_agent.host, port or snmp_agent.port,
                                     CommunityAuth(recording), timeout_s=1.0, retries=0))
    reporter = Reporter(journal, printer, lambda: True, ReportSchedule(heartbeat_s=0))
    for _ in range(ticks):
        reporter.tick()
    return journal.events


@pytest.mark.peer
def test_real_recordings_reported_by_a_kiosk_open_one_problem_each(
        db: Database, snmp_agent: Agent) -> None:
    # made_here_alerts: doorOpen + jammed, its toner at 0 of 100 (prtMarkerSuppliesLevel);
    # sharp: lowToner, toner levels 19 to 55 % (tests/terminal/test_release_snmp.py)
    alerts_reports = _kiosk_reports(snmp_agent, "made_here_alerts")
    sharp_reports = _kiosk_reports(snmp_agent, "sharp")
    with device_backend(db) as backend:
        for _ in range(2):  # reported twice (two kiosk restarts): still one problem each
            post_events(backend, *alerts_reports)
        opened = sorted((p.code, p.subject) for p in problems(db))
        assert opened == [("door_open", ""), ("jam", ""), ("supply_empty", "Toner Cartridge")]
        post_events(backend, *sharp_reports)  # the same kiosk now reads the sharp
        assert sorted((p.code, p.cleared_at is None) for p in problems(db)) == [
            ("door_open", False), ("jam", False), ("supply_empty", False), ("toner_low", True)]
        english = sorted(render_mail(m).subject for m in mails(db, "device_problem")
                         if m.language == "en")
        assert english == ["A door or cover is open at demo kiosk",
                           "Paper jam at demo kiosk", "Toner Cartridge is empty at demo kiosk",
                           "Toner low at demo kiosk"]


@pytest.mark.peer
def test_a_printer_that_stops_answering_is_one_problem(db: Database, snmp_agent: Agent) -> None:
    reports = _kiosk_reports(snmp_agent, "sharp", port=free_udp_port(), ticks=4)
    assert [kind for kind, _ in reports] == ["alert"], "reported once, at the third read"
    with device_backend(db) as backend:
        post_events(backend, *reports)
        assert [(p.code, p.cleared_at) for p in problems(db)] == [("printer_unreachable", None)]
        french = next(render_mail(m) for m in mails(db, "device_problem") if m.language == "fr")
        assert french.subject == "La borne ne joint plus son imprimante sur demo kiosk"


def test_a_kiosk_name_is_escaped_in_the_html_mail(db: Database) -> None:
    with device_backend(db) as backend:
        with db.write() as session:
            session.execute(update(Terminal).values(name='<b onclick="x">Lib</b>',
                                                    device="ipp://mfp-2/"))
        post_events(backend, alert(["markerTonerEmpty"], raised=["markerTonerEmpty"]))
        english = next(render_mail(m) for m in mails(db, "device_problem")
                       if m.language == "en")
    assert "&lt;b onclick=&#34;x&#34;&gt;Lib&lt;/b&gt;" in english.html
    assert "<b onclick" not in english.html
    assert english.subject == 'Toner or ink empty at <b onclick="x">Lib</b>'
    assert "Device:   ipp://mfp-2/" in english.text


def test_the_3d_kiosks_run_out_alerts_open_and_close_one_problem(db: Database) -> None:
    """The events terminal/print3d_reports.py journals for a run-out, as the kiosk sends
    them: raised at the run-out (once, however often the printer repeats it), cleared
    when the print resumes."""
    journal = FakeEventJournal()
    reports = Print3DReports(journal)
    reports.progress(7, "printing", 40.0, 600, 1000, 300)
    reports.events(7, ["filament_runout"])
    reports.events(7, ["filament_runout"])
    reports.progress(7, "paused", 40.0, 600, 1000, 320)
    with device_backend(db) as backend:
        post_events(backend, *journal.events)
        assert [(p.code, p.cleared_at) for p in problems(db)] == [("filament_runout", None)]
        french = next(render_mail(m) for m in mails(db, "device_problem") if m.language == "fr")
        assert "Fin de filament (imprimante 3D)" in french.subject
        assert "filament run-out on the 3D printer (job 7)" in french.text
        sent = len(journal.events)
        reports.progress(7, "printing", 41.0, 590, 1010, 400)  # new filament, resumed
        post_events(backend, *journal.events[sent:])
        assert problems(db)[0].cleared_at is not None
        assert len(mails(db, "device_problem")) == 2
