"""The kiosk's voucher redemption against a real backend process (its demo batch "DEMO"):
the HTTP adapter's answers, refusals with their facts, the idempotency key, offline."""

from __future__ import annotations

import subprocess
import sys
import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from backend_process import BackendProcess

from backend.demo import DEMO_TERMINAL_TOKEN
from billing.voucher_codes import new_code
from printkiosk.commands.demo import demo_vouchers
from terminal.backend_client import HttpBackend
from terminal.ports import BackendRejected, VoucherCredit, VoucherRefusal
from terminal.vouchers import OFFLINE, VoucherDesk, assess


def _client(process: BackendProcess, *users: str) -> HttpBackend:
    """A client with a session of each of ``users`` (as their badge at this kiosk)."""
    client = HttpBackend(process.url, DEMO_TERMINAL_TOKEN, retries=0)
    for card in users:
        client.identify_card(card)
    return client


def test_a_voucher_credits_once_and_its_second_redemption_says_when(
    backend_process: BackendProcess,
) -> None:
    code = demo_vouchers(backend_process.data_dir)[0]
    client = _client(backend_process, "1002")
    before = client.balance("bob")
    key = str(uuid.uuid4())
    credit = client.redeem_voucher("bob", code, key)
    assert isinstance(credit, VoucherCredit), credit
    assert (credit.batch, credit.value, credit.credited, credit.currency) == (
        "DEMO", Decimal("2.00"), Decimal("2.00"), "EUR")
    assert credit.balance.available == before.available + Decimal("2.00")
    assert credit.expires_on > datetime.now(UTC).date()
    # a resend of the same attempt (its answer lost) gets the first answer, no new credit
    assert client.redeem_voucher("bob", code, key) == credit
    again = client.redeem_voucher("bob", assess(code).body.lower(), str(uuid.uuid4()))
    assert isinstance(again, VoucherRefusal) and again.code == "voucher_redeemed", again
    assert again.redeemed_at is not None
    assert abs(again.redeemed_at - datetime.now(UTC)) < timedelta(minutes=5)
    assert client.balance("bob").available == before.available + Decimal("2.00")
    assert code not in demo_vouchers(backend_process.data_dir, limit=20)


def test_unknown_codes_lock_the_user_out_with_the_wait_and_typos_never_count(
    backend_process: BackendProcess,
) -> None:
    client = _client(backend_process, "1003")
    typo = new_code().body
    typo = ("1" if typo[0] != "1" else "2") + typo[1:]
    for _ in range(8):  # sent as is (the desk would not send them): not guesses
        refused = client.redeem_voucher("carol", typo, str(uuid.uuid4()))
        assert refused == VoucherRefusal("voucher_typo")
    answers = [client.redeem_voucher("carol", new_code().body, str(uuid.uuid4()))
               for _ in range(6)]
    assert [a.code for a in answers if isinstance(a, VoucherRefusal)] == \
        ["voucher_unknown"] * 5 + ["voucher_rate_limited"]
    locked = answers[-1]
    assert isinstance(locked, VoucherRefusal) and locked.retry_after_s is not None
    assert 0 < locked.retry_after_s <= 600
    # locked out: even a good code waits
    good = demo_vouchers(backend_process.data_dir)[0]
    assert client.redeem_voucher("carol", good, str(uuid.uuid4())).code == \
        "voucher_rate_limited"  # type: ignore[union-attr]


def test_a_refusal_that_is_not_about_the_voucher_is_raised(
    backend_process: BackendProcess,
) -> None:
    client = _client(backend_process)  # no session of alice's here
    with pytest.raises(BackendRejected) as refused:
        client.redeem_voucher("alice", demo_vouchers(backend_process.data_dir)[0],
                              str(uuid.uuid4()))
    assert refused.value.code.startswith("session_"), refused.value.code


def test_offline_is_refused_never_queued_and_the_retry_reuses_the_attempts_key(
    backend_process: BackendProcess,
) -> None:
    code = demo_vouchers(backend_process.data_dir)[1]
    client = _client(backend_process, "1001")
    keys: list[str] = []

    def new_key() -> str:
        keys.append(str(uuid.uuid4()))
        return keys[-1]

    desk = VoucherDesk(client, new_key=new_key)
    backend_process.stop()
    assert desk.redeem("alice", code) == VoucherRefusal(OFFLINE)
    backend_process.start()
    assert code in demo_vouchers(backend_process.data_dir, limit=20), "nothing was queued"
    client.identify_card("1001")  # the kiosk's new session after the outage
    credit = desk.redeem("alice", code)
    assert isinstance(credit, VoucherCredit), credit
    assert len(keys) == 1, "the unanswered attempt's key was reused"


def test_a_voucher_the_operator_revoked_is_refused_as_revoked(
    backend_process: BackendProcess,
) -> None:
    code = demo_vouchers(backend_process.data_dir, limit=20)[3]  # serial 4
    revoke = subprocess.run(
        [sys.executable, "-m", "printkiosk", "vouchers", "revoke", "DEMO", "--serials", "4",
         "--sold-vouchers", "refund", "--reason", "card reported stolen",
         "--config", str(backend_process.data_dir / "backend.toml")],
        capture_output=True, text=True, timeout=60)
    assert revoke.returncode == 0, revoke.stderr
    client = _client(backend_process, "1002")
    desk = VoucherDesk(client)
    assert desk.redeem("bob", code) == VoucherRefusal("voucher_revoked")
