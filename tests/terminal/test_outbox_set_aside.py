"""Issue 12 item 1: one bad outbox entry never wedges the kiosk's outbox.

Against a real backend process: an entry the backend refuses for good (a 4xx such as 422
``amount_invalid``) is set aside as refused and reported, and the entries behind it
drain. Before the fix, ``"amount": "1E+30"`` was a 500 on the backend, which the outbox
resends in strict order: every later charge of the kiosk waited behind it forever.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

from backend_process import BackendProcess

from terminal.backend_client import HttpBackend
from terminal.charges import ChargeBook
from terminal.offline import OfflinePolicy
from terminal.outbox import Entry, EntryKind, EntryState, Outbox

TOKEN = "demo-terminal-token"


def test_a_refused_entry_is_set_aside_and_the_rest_drains(
        backend_process: BackendProcess, tmp_path: Path) -> None:
    refused: list[Entry] = []
    backend = HttpBackend(backend_process.url, TOKEN, connect_timeout_s=0.5,
                          read_timeout_s=5.0, retries=1, backoff_s=0.05)
    book = ChargeBook(Outbox(tmp_path / "outbox.sqlite3"), backend,
                      OfflinePolicy(enabled=False, spending_limit=Decimal(0)),
                      on_refused=refused.append)
    # Journalled by an older kiosk version or a corrupted file: what the backend refuses.
    bad_hold = book.outbox.record(
        EntryKind.HOLD, {"username": "carol", "amount": "1E+30", "description": "bad",
                         "job_ref": "bad-1"}, username="carol", amount=Decimal("1E+30"))
    book.outbox.record(EntryKind.CAPTURE, {"amount": "1E+30", "pages": 1, "colour_pages": 0},
                       username="carol", amount=Decimal("1E+30"), parent=bad_hold.key)
    book.outbox.record(EntryKind.EVENT, {"kind": "alert", "occurred_at": "1970-01-01T00:00:00Z",
                                         "payload": {"code": "jam"}})
    book.outbox.record(EntryKind.EVENT, {"kind": "alert",
                                         "occurred_at": datetime.now(UTC).isoformat(),
                                         "payload": {"dump": "x" * 70_000}})
    good_event = book.outbox.record(EntryKind.EVENT, {
        "kind": "alert", "occurred_at": datetime.now(UTC).isoformat(),
        "payload": {"code": "paper_low"}})
    # A good release behind them: sent at once, not decided offline.
    good = book.authorise("carol", Decimal("0.50"), "report.pdf", "good-1")
    assert not good.offline and good.hold_id is not None
    book.capture(good.key, Decimal("0.40"), 2, 0)

    report = book.drain()
    assert not report.remaining and report.reachable
    assert book.outbox.counts()[EntryState.PENDING] == 0
    assert book.outbox.counts()[EntryState.SENT] == 3
    assert [entry.kind for entry in refused] == [EntryKind.HOLD, EntryKind.CAPTURE,
                                                 EntryKind.EVENT, EntryKind.EVENT]
    hold_refusal = book.outbox.get(bad_hold.key)
    assert hold_refusal is not None and hold_refusal.state is EntryState.REFUSED
    assert (hold_refusal.result or {})["code"] == "amount_invalid"
    by_ref = {hold.job_ref: hold for hold in backend_process.holds()}
    assert set(by_ref) == {"good-1"}
    assert (by_ref["good-1"].status, by_ref["good-1"].captured) == ("captured", Decimal("0.40"))
    # The good event of the refused batch was stored on its own.
    assert backend_process.events() == [("alert", good_event.key)]


def test_amounts_go_on_the_wire_without_an_exponent(backend_process: BackendProcess) -> None:
    """A Decimal computed as 1E+1 is "10" on the wire: the backend accepts it."""
    backend = HttpBackend(backend_process.url, TOKEN, connect_timeout_s=0.5,
                          read_timeout_s=5.0, retries=1, backoff_s=0.05)
    backend.identify_card("1003")  # carol's card: a hold carries her session
    held = backend.hold("hold-wire-0001", "carol", Decimal("1E+1"), "poster", "wire-1",
                        session=backend.session_of("carol"))
    assert held.amount == Decimal("10.00")
    done = backend.capture("capture-wire-01", held.hold_id, Decimal("5E+0"), 1, 0)
    assert done.captured == Decimal("5.00")


def test_text_from_outside_is_made_single_line_before_the_backend_sees_it(
        backend_process: BackendProcess, tmp_path: Path) -> None:
    """The backend refuses control characters (422); a document title with a tab, an SNMP
    string padded with NUL must still print and report, not be set aside."""
    backend = HttpBackend(backend_process.url, TOKEN, connect_timeout_s=0.5,
                          read_timeout_s=5.0, retries=1, backoff_s=0.05)
    book = ChargeBook(Outbox(tmp_path / "outbox.sqlite3"), backend,
                      OfflinePolicy(enabled=False, spending_limit=Decimal(0)))
    held = book.authorise("carol", Decimal("0.20"), "Q3\treport\r\n.pdf, 1 page", "job\x1b-7")
    assert held.hold_id is not None and not held.offline
    book.void(held.key, "cancelled\nat the kiosk")
    book.record_event("alert", {"description": "Toner low\x00\x00\x00", "code\x00": 3})
    report = book.drain()
    assert report.refused == 0 and not report.remaining
    assert [hold.job_ref for hold in backend_process.holds()] == ["job -7"]
    assert [kind for kind, _key in backend_process.events()] == ["alert"]


def test_the_spool_agent_reports_a_title_with_control_characters_as_one_line() -> None:
    from analysis import DocumentAnalysis, PageAnalysis, PageColour, paper_size
    from terminal.fakes import FakeSpooledJob
    from terminal.spool_agent import report_body

    job = FakeSpooledJob(uuid="urn:uuid:1", name="thesis\tfinal\n.pdf")
    page = PageAnalysis(1, PageColour.MONO, paper_size(595.0, 842.0))
    analysis = DocumentAnalysis(Path("/spool/d1"), "pdf", [page], estimated=True,
                                note="line one\nline two")
    body = report_body(job, analysis, datetime.now(UTC))
    assert body["document_name"] == "thesis final .pdf"
    assert body["error"] == "line one line two"


def test_a_card_number_read_with_its_newline_still_identifies(
        backend_process: BackendProcess) -> None:
    backend = HttpBackend(backend_process.url, TOKEN, connect_timeout_s=0.5,
                          read_timeout_s=5.0, retries=1, backoff_s=0.05)
    assert backend.identify_card("1003\r\n").username == "carol"
