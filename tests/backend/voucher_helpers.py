"""Shared by the voucher tests: a batch made and sold through the service, and a
redemption through the terminal API."""

from __future__ import annotations

import uuid
from datetime import timedelta
from decimal import Decimal
from typing import Any

import httpx
from backend_fixtures import SECRET, Backend
from fastapi.testclient import TestClient

from backend import vouchers
from backend.db import Database
from billing.voucher_codes import VoucherCode


def make_batch(db: Database, *, count: int = 10, sold: int = 0, value: str = "5.00",
               prefix: str = "LIB", payment: vouchers.Payment = "cash",
               days: int = 30, currency: str = "EUR") -> tuple[str, list[VoucherCode]]:
    """A new batch (and ``sold`` of it sold): its public id and its codes by serial."""
    with db.write() as session:
        created = vouchers.create_batch(
            session, SECRET, value=Decimal(value), currency=currency, count=count,
            expires_on=vouchers.today(None) + timedelta(days=days), prefix=prefix,
            note="test", actor="test")
        public_id = created.batch.public_id
        if sold:
            vouchers.sell(session, public_id, sold, payment, "a buyer", actor="test")
    return public_id, created.codes


def redeem(client: TestClient | httpx.Client, headers: dict[str, str], code: str,
           key: str | None = None) -> tuple[int, dict[str, Any], httpx.Headers]:
    answer = client.post("/api/v1/vouchers/redeem" if isinstance(client, TestClient)
                         else "/vouchers/redeem", headers=headers,
                         json={"code": code, "idempotency_key": key or str(uuid.uuid4())})
    return answer.status_code, answer.json(), answer.headers


def personal(backend: Backend, username: str) -> Decimal:
    balance = backend.client.get(f"/api/v1/users/{username}/balance",
                                 headers=backend.headers(user=username)).json()
    return Decimal(balance["personal_credit"])
