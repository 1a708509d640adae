"""POST/GET /job-analyses: the print server's spool agent reports, a kiosk reads; on both
databases. The agent enrols like a terminal; a kiosk is the demo terminal."""

from __future__ import annotations

from typing import Any

import pytest
from backend_fixtures import SECRET, Backend

from backend.terminals import create_enrolment_key

JOB = "urn:uuid:0c1d3f5e-8a47-3b3c-6e2f-0a9b8c7d6e5f"


def report(**changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "idempotency_key": JOB,
        "job_uuid": JOB,
        "queue": "followme",
        "username": "alice",
        "document_name": "thesis.pdf",
        "pages": [
            {"colour": "colour", "size": "A4"},
            {"colour": "mono", "size": "A4"},
            {"colour": "colour", "size": "A4"},
            {"colour": "mono", "size": "A3"},
            {"colour": "blank", "size": "A4"},
        ],
        "analysed_at": "2026-11-23T09:00:00+01:00",
    }
    body.update(changes)
    return {key: value for key, value in body.items() if value is not None}


@pytest.fixture
def agent(backend: Backend) -> tuple[str, str]:
    """The spool agent's terminal id and token, enrolled with a one-time key like any terminal."""
    with backend.db.write() as session:
        key = create_enrolment_key(session, SECRET, actor="admin:test")
    answer = backend.client.post("/api/v1/terminals/enrol",
                                 json={"enrolment_key": key, "name": "print-server agent"})
    assert answer.status_code == 201, answer.text
    return answer.json()["terminal_id"], answer.json()["token"]


def test_reported_analysis_is_read_by_a_kiosk(backend: Backend, agent: tuple[str, str]) -> None:
    posted = backend.client.post("/api/v1/job-analyses", json=report(),
                                 headers=backend.headers(agent[1]))
    assert posted.status_code == 201, posted.text

    read = backend.client.get(f"/api/v1/job-analyses/{JOB}", headers=backend.headers())
    assert read.status_code == 200, read.text
    got = read.json()
    assert got["page_count"] == 5
    assert (got["colour_pages"], got["mono_pages"], got["blank_pages"]) == (2, 2, 1)
    assert got["counts"] == [
        {"colour": "blank", "size": "A4", "count": 1},
        {"colour": "colour", "size": "A4", "count": 2},
        {"colour": "mono", "size": "A3", "count": 1},
        {"colour": "mono", "size": "A4", "count": 1},
    ]
    assert got["analysed_at"] == "2026-11-23T08:00:00+00:00"
    assert (got["username"], got["queue"], got["document_name"]) == (
        "alice", "followme", "thesis.pdf")
    assert got["error"] is None
    assert got["reported_by"] == agent[0]
    assert posted.json() == got


def test_counts_are_accepted_instead_of_pages(backend: Backend) -> None:
    counts = [{"colour": "mono", "size": "A4", "count": 120},
              {"colour": "mono", "size": "A4", "count": 3},
              {"colour": "colour", "size": "Letter", "count": 2}]
    posted = backend.client.post("/api/v1/job-analyses",
                                 json=report(pages=None, counts=counts,
                                             error="encrypted PDF: fallback rule used"),
                                 headers=backend.headers())
    assert posted.status_code == 201, posted.text
    got = backend.client.get(f"/api/v1/job-analyses/{JOB}", headers=backend.headers()).json()
    assert got["page_count"] == 125 and got["colour_pages"] == 2 and got["mono_pages"] == 123
    assert got["error"] == "encrypted PDF: fallback rule used"


def test_a_job_cut_short_at_200_000_pages_is_reported_by_its_counts(backend: Backend) -> None:
    """The analyser's time limit stops a 200 000-page job; the agent reports the fallback's
    counts. Refusing them would price the job at the kiosk's one-page guess."""
    counts = [{"colour": "colour", "size": "A4", "count": 4_021},
              {"colour": "colour", "size": "A4", "count": 195_979}]
    posted = backend.client.post(
        "/api/v1/job-analyses", headers=backend.headers(),
        json=report(pages=None, counts=counts, error="analysis stopped: over 20 s"))
    assert posted.status_code == 201, posted.text
    assert posted.json()["page_count"] == 200_000
    too_many = backend.client.post(
        "/api/v1/job-analyses", headers=backend.headers(),
        json=report(idempotency_key="another-key-2", job_uuid="job-too-big", pages=None,
                    counts=[{"colour": "mono", "size": "A4", "count": 1_000_000},
                            {"colour": "mono", "size": "A4", "count": 1}]))
    assert too_many.status_code == 422, too_many.text


def test_a_resent_report_stores_nothing_twice(backend: Backend, agent: tuple[str, str]) -> None:
    first = backend.client.post("/api/v1/job-analyses", json=report(),
                                headers=backend.headers(agent[1]))
    again = backend.client.post("/api/v1/job-analyses", json=report(),
                                headers=backend.headers(agent[1]))
    assert first.status_code == again.status_code == 201
    assert first.json() == again.json()

    # the same job under another key is a second, conflicting analysis: refused
    other_key = backend.client.post("/api/v1/job-analyses",
                                    json=report(idempotency_key="another-key-1"),
                                    headers=backend.headers(agent[1]))
    assert other_key.status_code == 409 and other_key.json()["code"] == "job_analysis_exists"
    # the same key with a different body is the API's usual refusal
    changed = backend.client.post("/api/v1/job-analyses", json=report(username="bob"),
                                  headers=backend.headers(agent[1]))
    assert changed.status_code == 409 and changed.json()["code"] == "idempotency_key_reused"


def test_unknown_job_is_404(backend: Backend) -> None:
    answer = backend.client.get("/api/v1/job-analyses/urn:uuid:nothing-here",
                                headers=backend.headers())
    assert answer.status_code == 404
    assert answer.headers["content-type"] == "application/problem+json"
    assert answer.json()["code"] == "job_analysis_unknown"


def test_a_token_is_needed_both_ways(backend: Backend) -> None:
    posted = backend.client.post("/api/v1/job-analyses", json=report())
    read = backend.client.get(f"/api/v1/job-analyses/{JOB}")
    assert posted.status_code == read.status_code == 401
    assert posted.json()["code"] == "terminal_unauthorized"


@pytest.mark.parametrize(("changes", "field"), [
    ({"pages": [{"colour": "purple", "size": "A4"}]}, "pages.0.colour"),
    ({"counts": [{"colour": "mono", "size": "A4", "count": 1}]}, "body"),
    ({"pages": None}, "body"),
    ({"pages": []}, "body"),
    ({"analysed_at": "2026-11-23T09:00:00"}, "analysed_at"),
    ({"job_uuid": "has spaces"}, "job_uuid"),
    ({"surprise": 1}, "surprise"),
])
def test_invalid_reports_are_problem_details(backend: Backend, changes: dict[str, Any],
                                             field: str) -> None:
    answer = backend.client.post("/api/v1/job-analyses", json=report(**changes),
                                 headers=backend.headers())
    assert answer.status_code == 422, answer.text
    problem = answer.json()
    assert answer.headers["content-type"] == "application/problem+json"
    assert problem["code"] == "invalid_request"
    assert field in [error["field"] for error in problem["errors"]]
    missing = backend.client.get(f"/api/v1/job-analyses/{JOB}", headers=backend.headers())
    assert missing.status_code == 404
