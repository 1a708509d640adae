"""Issue 12 item 9, the kiosk's side: the session an identification opened travels with
the journalled hold, and holds decided without one are accepted by the backend within
the terminal's offline limit when the outbox drains (real backend process)."""

from __future__ import annotations

import sqlite3
from decimal import Decimal
from pathlib import Path

from backend_process import BackendProcess

from backend.demo import DEMO_TERMINAL_TOKEN
from terminal.backend_client import HttpBackend
from terminal.charges import ChargeBook
from terminal.offline import OfflineCache, OfflinePolicy
from terminal.outbox import EntryState, Outbox

CAROL = "1003"


def _offline_flags(process: BackendProcess) -> dict[str, tuple[str, int]]:
    """job_ref -> (status, offline) of the backend's holds, read from its database."""
    with sqlite3.connect(process.data_dir / "backend.sqlite3") as db:
        rows = db.execute("SELECT job_ref, status, offline FROM holds").fetchall()
    return {str(job_ref): (str(status), int(offline)) for job_ref, status, offline in rows}


def _audited_offline(process: BackendProcess) -> list[str]:
    with sqlite3.connect(process.data_dir / "backend.sqlite3") as db:
        rows = db.execute("SELECT details FROM audit_log WHERE action = 'hold.offline'")
        return [str(details) for (details,) in rows.fetchall()]


def test_the_identification_session_is_journalled_and_sent_after_a_restart(
        backend_process: BackendProcess, tmp_path: Path) -> None:
    client = HttpBackend(backend_process.url, DEMO_TERMINAL_TOKEN, retries=0)
    outbox = Outbox(tmp_path / "outbox.sqlite")
    book = ChargeBook(outbox, client, OfflinePolicy(False, Decimal("0")))
    cache = OfflineCache(tmp_path / "offline.sqlite3", b"k" * 32, max_age_s=3600)
    cache.remember(CAROL, client.identify_card(CAROL))
    online = book.authorise("carol", Decimal("20.00"), "big.pdf", "sess-online")
    assert online.hold_id is not None and not online.offline
    backend_process.stop()
    book = ChargeBook(outbox, client, OfflinePolicy(True, Decimal("30.00")), cache)
    waiting = book.authorise("carol", Decimal("12.00"), "later.pdf", "sess-later")
    assert waiting.offline  # decided offline, journalled with carol's session
    entry = outbox.get(waiting.key)
    assert entry is not None and entry.body["session"] == client.session_of("carol")
    client.close()
    backend_process.start()
    # the next kiosk process: a new client that never saw carol, the same journal
    fresh = HttpBackend(backend_process.url, DEMO_TERMINAL_TOKEN, retries=0)
    assert fresh.session_of("carol") is None
    report = ChargeBook(outbox, fresh, OfflinePolicy(True, Decimal("30.00")), cache).drain()
    assert report.refused == 0 and not report.remaining
    # 12.00 is over the backend's offline limit (5.00): accepted only because the
    # journalled session proves carol was identified here
    assert _offline_flags(backend_process) == {"sess-online": ("open", 0),
                                               "sess-later": ("open", 0)}
    fresh.close()


def test_holds_decided_with_no_session_drain_within_the_offline_limit(
        backend_process: BackendProcess, tmp_path: Path) -> None:
    seen = HttpBackend(backend_process.url, DEMO_TERMINAL_TOKEN, retries=0)
    cache = OfflineCache(tmp_path / "offline.sqlite3", b"k" * 32, max_age_s=3600)
    cache.remember(CAROL, seen.identify_card(CAROL))  # carol badged here earlier
    seen.close()
    backend_process.stop()
    # the kiosk restarted while the backend was away: no session, carol from the cache
    client = HttpBackend(backend_process.url, DEMO_TERMINAL_TOKEN, retries=0)
    outbox = Outbox(tmp_path / "outbox.sqlite")
    book = ChargeBook(outbox, client, OfflinePolicy(True, Decimal("10.00")), cache)
    first = book.authorise("carol", Decimal("3.00"), "a.pdf", "no-session-1")
    second = book.authorise("carol", Decimal("4.00"), "b.pdf", "no-session-2")
    assert first.offline and second.offline
    for authorisation in (first, second):
        entry = outbox.get(authorisation.key)
        assert entry is not None and "session" not in entry.body
    backend_process.start()
    report = book.drain()
    # the kiosk allowed 10.00; the backend's limit for a terminal is 5.00: the second is
    # refused for good and kept for the operator, the rest of the journal drains
    assert (report.sent, report.refused, report.remaining) == (1, 1, False)
    refused = outbox.get(second.key)
    assert refused is not None and refused.state is EntryState.REFUSED
    assert refused.result is not None and refused.result["code"] == "offline_limit_exceeded"
    assert _offline_flags(backend_process) == {"no-session-1": ("open", 1)}
    assert len(_audited_offline(backend_process)) == 1
    assert "no_session" in _audited_offline(backend_process)[0]
    client.close()
