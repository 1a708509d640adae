"""The demo gateway pays a statement's payment request on its own simulated page, through
the same verified-event path as a real gateway's webhook: paid once, audited as
gateway:demo; a forged link or form is refused and changes nothing."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from backend_fixtures import SECRET
from fastapi.testclient import TestClient
from sqlalchemy import select
from test_statements_payment_requests import issued_statement, status_of

from backend.app import create_app
from backend.config import BackendConfig
from backend.db import Database
from backend.models import AuditEntry, PaymentRequest, utcnow
from backend.payments.demo_gateway import BANNER, DemoGateway
from backend.statements.requests import send_request
from backend.statements.status import find_statement

BASE = "http://desk.test:8470"


@pytest.fixture
def demo_site(db: Database) -> Iterator[TestClient]:
    config = BackendConfig.model_validate({
        "database": {"url": str(db.engine.url)},
        "payments": {"gateway": "demo", "public_base_url": BASE, "demo": {"enabled": True}}})
    with TestClient(create_app(config, db, SECRET)) as client:
        yield client


def _requested(db: Database) -> tuple[str, str]:
    number = issued_statement(db, language="en")
    with db.write() as session:
        statement = find_statement(session, number)
        request = send_request(session, statement, DemoGateway(SECRET, BASE), base_url=BASE,
                               actor="admin", now=utcnow())
        return number, request.pay_url.removeprefix(BASE)


def _submit(client: TestClient, path: str, csrf: str, action: str = "pay") -> str:
    answer = client.post(path, content=f"csrf={csrf}&action={action}",
                         headers={"Content-Type": "application/x-www-form-urlencoded"})
    return answer.text


def test_the_demo_page_pays_a_statement_once(db: Database, demo_site: TestClient) -> None:
    number, path = _requested(db)
    assert path.startswith("/pay/statement/stmt-")
    page = demo_site.get(path)
    assert page.status_code == 200 and BANNER in page.text and number in page.text
    assert "60.00 EUR" in page.text
    csrf = re.search(r'name="csrf" value="([0-9a-f]+)"', page.text)
    assert csrf is not None
    declined = _submit(demo_site, path, csrf[1], "decline")
    assert "declined" in declined and status_of(db, number) == "issued"
    assert "is paid" in _submit(demo_site, path, csrf[1])
    assert status_of(db, number) == "paid"
    assert "is paid" in _submit(demo_site, path, csrf[1])  # again: nothing more happens
    with db.read() as session:
        request = session.scalar(select(PaymentRequest))
        assert request is not None and request.status == "paid"
        paid = session.scalars(select(AuditEntry).where(
            AuditEntry.subject == f"statement:{number}",
            AuditEntry.actor == "gateway:demo")).all()
    assert [entry.action for entry in paid].count("statement.payment_failed") == 1
    assert len([e for e in paid if e.action != "statement.payment_failed"]) == 1


def test_a_forged_link_or_form_changes_nothing(db: Database, demo_site: TestClient) -> None:
    number, path = _requested(db)
    forged = path.rsplit("/", 1)[0] + "/" + "0" * 64
    assert demo_site.get(forged).status_code == 404
    answer = demo_site.post(path, content="csrf=nope&action=pay",
                            headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert answer.status_code == 403
    assert status_of(db, number) == "issued"
