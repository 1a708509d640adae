"""Issue 12 item 13: the OpenAPI spec is the server — schemathesis over the whole spec.

Every operation of the terminal API is called with generated requests (a few hundred in
all: ``EXAMPLES`` per operation), with a valid terminal token, against the app on its own
SQLite ledger seeded with the demo data. Each answer must be no 5xx, have a documented
status and content type, and match the declared schema (problem+json for every error).
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from backend_fixtures import SECRET
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from backend.app import create_app
from backend.config import BackendConfig
from backend.db import Database
from backend.demo import DEMO_TERMINAL_TOKEN, seed_demo
from backend.ledger import check_invariants

EXAMPLES = 25  # x 16 operations: about 400 cases
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance,
          response_schema_conformance]
PRICE_LISTS = Path(__file__).resolve().parents[2] / "config" / "pricelists"


def _app_on_a_fresh_ledger() -> tuple[Any, Database]:
    """Built at import: schemathesis needs the schema to generate the test cases."""
    url = f"sqlite:///{Path(tempfile.mkdtemp(prefix='openapi-')) / 'backend.sqlite3'}"
    config = BackendConfig.model_validate({
        "database": {"url": url}, "pricing": {"price_lists_dir": str(PRICE_LISTS)},
        "payments": {"gateway": "demo", "public_base_url": "http://127.0.0.1:8470",
                     "demo": {"enabled": True}}})
    db = Database.from_url(url)
    app = create_app(config, db, SECRET)
    seed_demo(db, SECRET, config.ledger.currency)
    return app, db


APP, DB = _app_on_a_fresh_ledger()
schema = schemathesis.openapi.from_asgi("/openapi.json", APP)


@pytest.fixture(scope="module", autouse=True)
def _ledger_still_balanced() -> Iterator[None]:
    yield
    with DB.read() as session:
        report = check_invariants(session)
    DB.dispose()
    assert report.ok, report


@schema.parametrize()
@settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
          suppress_health_check=list(HealthCheck))
def test_the_server_answers_as_the_spec_says(case: Any) -> None:
    case.call_and_validate(headers={"Authorization": f"Bearer {DEMO_TERMINAL_TOKEN}"},
                           checks=CHECKS)


def test_the_spec_declares_amounts_as_strings_with_the_pattern() -> None:
    from backend.money import AMOUNT_PATTERN

    spec = APP.openapi()
    components = spec["components"]["schemas"]
    for model, field in (("HoldRequest", "amount"), ("CaptureRequest", "amount")):
        declared = components[model]["properties"][field]
        assert declared["type"] == "string" and declared["pattern"] == AMOUNT_PATTERN
    refund = components["RefundRequest"]["properties"]["amount"]
    assert {"type": "string", "pattern": AMOUNT_PATTERN}.items() <= refund["anyOf"][0].items()
    from backend.api.schemas import SINGLE_LINE_PATTERN

    assert components["HoldRequest"]["properties"]["description"]["pattern"] == \
        SINGLE_LINE_PATTERN
    assert components["SessionRequest"]["properties"]["username"]["anyOf"][0]["pattern"] == \
        SINGLE_LINE_PATTERN
    hold_responses = spec["paths"]["/api/v1/holds"]["post"]["responses"]
    for status in ("400", "401", "404", "409", "413", "422"):
        assert "application/problem+json" in hold_responses[status]["content"]


def test_the_spec_declares_the_technician_report_and_the_terminal_status() -> None:
    """Issue 16: what the kiosk sends and reads in technician mode, as the spec says it
    (and as schemathesis calls it above: a replay's 200 is a documented answer)."""
    spec = APP.openapi()
    components = spec["components"]["schemas"]
    report = components["TechnicianReportRequest"]
    assert set(report["required"]) == {"key", "technician", "via", "action"}
    assert report["properties"]["via"]["enum"] == ["card", "pin", "local_pin"]
    answers = spec["paths"]["/api/v1/technician/reports"]["post"]["responses"]
    assert {"200", "201", "403", "409", "422", "429"} <= answers.keys()
    status = spec["paths"]["/api/v1/terminals/me"]["get"]["responses"]["200"]
    ref = status["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[-1]
    assert set(components[ref]["required"]) == {"id", "name", "state", "server_time"}
    assert components[ref]["properties"]["server_time"]["format"] == "date-time"
