"""The HTTP client against the real backend process, and its retry policy on the wire.

The backend cannot be made to fail with a 503 on demand, so the retry rules (what is
resent, what is not) are checked against a tiny HTTP server on 127.0.0.1 that answers
every request with a chosen status and counts them.
"""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import ClassVar

import pytest

from printkiosk.commands.demo import free_port
from terminal.backend_client import HttpBackend
from terminal.ports import BackendRejected, BackendUnavailable

TOKEN = "demo-terminal-token"


def key() -> str:
    return uuid.uuid4().hex


@pytest.fixture
def backend(demo_backend_url: str) -> Iterator[HttpBackend]:
    client = HttpBackend(demo_backend_url, TOKEN)
    yield client
    client.close()


def test_identify_and_refusals_carry_code_and_status(backend: HttpBackend) -> None:
    states: list[bool] = []
    backend.on_reachability(states.append)
    identity = backend.identify_card("1002")
    assert (identity.username, identity.display_name) == ("bob", "Bob Dupont")
    with pytest.raises(BackendRejected) as unknown:
        backend.identify_card("0000-nobody")
    assert (unknown.value.code, unknown.value.status, unknown.value.final) == (
        "card_unknown", 404, True)
    assert backend.reachable is True and states == [True]


def test_hold_capture_resent_with_the_same_key_charge_once(backend: HttpBackend) -> None:
    backend.identify_card("1003")
    session = backend.session_of("carol")
    before = backend.balance("carol").available
    hold_key, capture_key = key(), key()
    first = backend.hold(hold_key, "carol", Decimal("0.90"), "client test", "ct-1", None,
                         session)
    again = backend.hold(hold_key, "carol", Decimal("0.90"), "client test", "ct-1", None,
                         session)
    assert again.hold_id == first.hold_id and first.status == "open"
    captured = backend.capture(capture_key, first.hold_id, Decimal("0.70"), 7, 0)
    resent = backend.capture(capture_key, first.hold_id, Decimal("0.70"), 7, 0)
    assert captured == resent
    assert (captured.status, captured.captured, captured.released) == (
        "captured", Decimal("0.70"), Decimal("0.20"))
    assert backend.balance("carol").available == before - Decimal("0.70")
    refunded = backend.refund(key(), first.hold_id, Decimal("0.30"), "jam on page 4")
    assert refunded.available == before - Decimal("0.40")


def test_void_and_settled_hold_refusal(backend: HttpBackend) -> None:
    backend.identify_card("1002")
    hold = backend.hold(key(), "bob", Decimal("0.50"), "void test", "ct-2", None,
                        backend.session_of("bob"))
    voided = backend.void(key(), hold.hold_id, "nothing printed")
    assert (voided.status, voided.captured) == ("voided", Decimal("0.00"))
    with pytest.raises(BackendRejected) as settled:
        backend.capture(key(), hold.hold_id, Decimal("0.10"), 1, 0)
    assert settled.value.code == "hold_settled"


def test_identification_opens_the_session_every_user_call_carries(
        backend: HttpBackend) -> None:
    """Issue 12 item 9: a terminal token alone reads and spends nobody's credit."""
    with pytest.raises(BackendRejected) as refused:
        backend.balance("carol")  # nobody identified carol here
    assert (refused.value.code, refused.value.status) == ("session_required", 401)
    backend.identify_card("1003")
    session = backend.session_of("carol")
    assert session is not None and backend.session_of("alice") is None
    assert backend.balance("carol").currency == "EUR"
    assert backend.recent_billing_codes("carol") is not None
    assert backend.search_billing_codes("carol", "") is not None
    backend.identify_pin("bob", "2345")
    with pytest.raises(BackendRejected) as other:  # bob's session is not carol's
        backend.hold(key(), "carol", Decimal("0.10"), "", "r", None, backend.session_of("bob"))
    assert other.value.code == "session_other_user" and other.value.final
    held = backend.hold(key(), "carol", Decimal("0.10"), "", "r", None, session)
    backend.void(key(), held.hold_id, "test")


def test_events_resent_are_stored_once(backend: HttpBackend) -> None:
    events = [{"idempotency_key": key(), "kind": "counters",
               "occurred_at": datetime.now(UTC).isoformat(), "payload": {"total": 12}}]
    assert backend.send_events(events) == 1
    assert backend.send_events(events) == 0


def test_nothing_listening_is_unavailable_after_backed_off_retries() -> None:
    pauses: list[float] = []
    client = HttpBackend(f"http://127.0.0.1:{free_port()}", TOKEN, retries=2,
                         backoff_s=0.1, sleep=pauses.append)
    states: list[bool] = []
    client.on_reachability(states.append)
    with pytest.raises(BackendUnavailable):
        client.identify_card("1001")
    assert pauses == [0.1, 0.2]
    assert client.reachable is False and states == [False]
    assert client.health() is False
    with pytest.raises(BackendUnavailable):
        client.identify_card("1001")
    assert pauses == [0.1, 0.2]  # known to be away: one try, no backed-off series


class _Counting(BaseHTTPRequestHandler):
    status = 503
    seen: ClassVar[list[str]] = []

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        type(self).seen.append(self.path)
        body = json.dumps({"code": "insufficient_funds", "detail": "x"}).encode()
        self.send_response(self.status)
        self.send_header("Content-Type", "application/problem+json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        """Quiet."""


@pytest.fixture
def counting_server() -> Iterator[tuple[str, type[_Counting]]]:
    handler = type("Handler", (_Counting,), {"seen": []})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", handler
    server.shutdown()
    server.server_close()


def test_only_idempotent_calls_are_retried(counting_server: tuple[str, type[_Counting]]) -> None:
    url, handler = counting_server
    client = HttpBackend(url, TOKEN, retries=2, sleep=lambda _: None)
    with pytest.raises(BackendUnavailable):
        client.hold(key(), "alice", Decimal("1.00"), "", "r")
    assert len(handler.seen) == 3
    fresh = HttpBackend(url, TOKEN, retries=2, sleep=lambda _: None)
    with pytest.raises(BackendUnavailable):
        fresh.identify_pin("alice", "1234")  # a resend could count as a second failure
    assert len(handler.seen) == 4
    handler.status = 409
    with pytest.raises(BackendRejected) as refused:
        client.hold(key(), "alice", Decimal("1.00"), "", "r")
    assert refused.value.code == "insufficient_funds" and len(handler.seen) == 5
    assert client.reachable is True


def test_user_price_list_comes_with_the_users_period_volume(backend: HttpBackend) -> None:
    backend.identify_card("1003")
    toml_text, volume = backend.user_price_list("carol")
    assert 'name = "Staff 2026"' in toml_text  # carol is staff: the group's list, not default
    assert volume is not None and volume[0] >= 0 and volume[1] >= 0


def test_reported_analysis_is_read_back_and_absent_one_is_none(
    backend: HttpBackend, demo_backend_url: str
) -> None:
    import requests

    job_uuid = f"urn:uuid:{uuid.uuid4()}"
    assert backend.reported_analysis(job_uuid) is None
    answer = requests.post(
        f"{demo_backend_url}/api/v1/job-analyses",
        headers={"Authorization": f"Bearer {TOKEN}"},
        json={"idempotency_key": key(), "job_uuid": job_uuid, "queue": "followme",
              "username": "alice", "analysed_at": datetime.now(UTC).isoformat(),
              "counts": [{"colour": "colour", "size": "A4", "count": 2},
                         {"colour": "mono", "size": "A4", "count": 2}]},
        timeout=10,
    )
    assert answer.status_code == 201, answer.text
    counts = backend.reported_analysis(job_uuid)
    assert counts is not None
    assert sorted((c["colour"], c["size"], c["count"]) for c in counts) == [
        ("colour", "A4", 2), ("mono", "A4", 2),
    ]


class _Silent(BaseHTTPRequestHandler):
    """Reads the request and never answers, like a hung backend."""

    seen: ClassVar[list[str]] = []
    release: ClassVar[threading.Event]

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        self.do_GET()

    def do_GET(self) -> None:
        type(self).seen.append(self.path.split("?")[0])
        type(self).release.wait(30)

    def log_message(self, format: str, *args: object) -> None:
        """Quiet."""


def test_identification_is_not_resent_after_a_timeout_but_money_writes_are() -> None:
    """A backend that takes requests and never answers: a card lookup and the user's
    price list give up after one ``read_timeout_s`` (someone is waiting at the screen,
    the offline cache can answer), a hold is resent as its retry rules say (the outbox
    drains in background)."""
    import time

    handler = type("Handler", (_Silent,), {"seen": [], "release": threading.Event()})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        def client() -> HttpBackend:
            return HttpBackend(url, TOKEN, connect_timeout_s=0.3, read_timeout_s=0.5,
                               retries=2, sleep=lambda _: None)

        started = time.monotonic()
        with pytest.raises(BackendUnavailable):
            client().identify_card("1001")
        with pytest.raises(BackendUnavailable):
            client().user_price_list("alice")
        assert time.monotonic() - started < 2 * 0.5 + 0.3
        assert handler.seen == ["/api/v1/sessions", "/api/v1/price-list"]
        with pytest.raises(BackendUnavailable):
            client().hold(key(), "alice", Decimal("1.00"), "", "r")
        assert handler.seen[2:] == ["/api/v1/holds"] * 3
    finally:
        handler.release.set()
        server.shutdown()
        server.server_close()
