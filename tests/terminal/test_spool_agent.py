"""The spool agent: unit tests with fakes of its two ports, then end to end against the
real peers (cupsd + ippeveprinter, the backend process) and the real command.

End to end: a colour+mono PDF is submitted held to a real CUPS queue; one agent pass
analyses the spooled file and reports it; the backend then answers the kiosk's GET with
2 colour and 2 mono A4 pages; a second pass, and the ``printkiosk spool-agent --once``
command over the same journal, report nothing again.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import requests

from analysis import (
    DocumentAnalysis,
    FallbackRule,
    MalformedDocument,
    PageAnalysis,
    PageColour,
    paper_size,
)
from backend.demo import DEMO_TERMINAL_TOKEN
from terminal.adapters import HttpAnalysisReporter
from terminal.backend_client import HttpBackend
from terminal.config import ConfigError, parse_kiosk_config
from terminal.fakes import FakeReporter, FakeSpooledJob, FakeSpoolQueue
from terminal.ports import BackendError, BackendRejected, BackendUnavailable
from terminal.spool_agent import (
    REFUSED,
    REPORTED,
    ReportJournal,
    SpoolAgent,
    agent_token,
    load_spool_agent_config,
)
from terminal.wiring import terminal_token

REPO = Path(__file__).resolve().parents[2]
CORPUS = REPO.parent / "shared" / "corpus" / "jobs"
DOCUMENT = CORPUS / "cups__document-a4.pdf"  # 4 A4 pages, colour on pages 1 and 3
A4 = paper_size(595, 842)
AT = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)


def two_colour_two_mono(path: Path) -> DocumentAnalysis:
    colours = [PageColour.COLOUR, PageColour.MONO, PageColour.COLOUR, PageColour.MONO]
    return DocumentAnalysis(path, "pdf", [PageAnalysis(n, c, A4)
                                          for n, c in enumerate(colours, 1)])


def damaged(path: Path) -> DocumentAnalysis:
    raise MalformedDocument(path, "xref table is truncated")


def agent(queue: FakeSpoolQueue, reporter: FakeReporter, journal: ReportJournal,
          analyse: Any = two_colour_two_mono) -> SpoolAgent:
    return SpoolAgent(queue, reporter, journal, FallbackRule(pages=1, colour=True),
                      analyse=analyse, clock=lambda: AT)


@pytest.fixture
def journal(tmp_path: Path) -> Iterator[ReportJournal]:
    book = ReportJournal(tmp_path / "state" / "reports.sqlite")
    yield book
    book.close()


# -- unit tests ----------------------------------------------------------------------------


def test_a_new_job_is_analysed_and_reported_once(journal: ReportJournal) -> None:
    queue, reporter = FakeSpoolQueue([FakeSpooledJob("urn:uuid:1")]), FakeReporter()
    spool = agent(queue, reporter, journal)

    first = spool.run_once()
    second = spool.run_once()

    assert (first.analysed, first.reported, first.pending) == (1, 1, 0)
    assert (second.analysed, second.reported) == (0, 0)
    assert reporter.accepted == [{
        "idempotency_key": "urn:uuid:1", "job_uuid": "urn:uuid:1", "queue": "followme",
        "username": "alice", "document_name": "report.pdf",
        "counts": [{"colour": "colour", "size": "A4", "count": 2},
                   {"colour": "mono", "size": "A4", "count": 2}],
        "analysed_at": "2026-11-23T08:00:00+00:00",
    }]


def test_a_backend_outage_only_delays_the_report(journal: ReportJournal) -> None:
    queue = FakeSpoolQueue([FakeSpooledJob("urn:uuid:1"), FakeSpooledJob("urn:uuid:2")])
    reporter = FakeReporter(failure=BackendUnavailable("connection refused"))
    spool = agent(queue, reporter, journal)

    down = spool.run_once()
    assert (down.analysed, down.reported, down.pending) == (2, 0, 2)

    reporter.failure = None
    back = spool.run_once()
    assert (back.analysed, back.reported, back.pending) == (0, 2, 0)
    assert [body["job_uuid"] for body in reporter.accepted] == ["urn:uuid:1", "urn:uuid:2"]


def test_a_restart_neither_analyses_nor_reports_again(tmp_path: Path) -> None:
    path = tmp_path / "reports.sqlite"
    queue, reporter = FakeSpoolQueue([FakeSpooledJob("urn:uuid:1")]), FakeReporter()
    calls: list[Path] = []

    def counted(file: Path) -> DocumentAnalysis:
        calls.append(file)
        return two_colour_two_mono(file)

    first = agent(queue, reporter, ReportJournal(path), counted)
    first.run_once()
    first.close()
    restarted = agent(queue, reporter, ReportJournal(path), counted)
    result = restarted.run_once()
    restarted.close()

    assert (result.analysed, result.reported) == (0, 0)
    assert len(calls) == 1 and len(reporter.accepted) == 1 and reporter.closed


def test_a_report_pending_at_a_restart_is_sent_by_the_next_process(tmp_path: Path) -> None:
    path = tmp_path / "reports.sqlite"
    queue = FakeSpoolQueue([FakeSpooledJob("urn:uuid:1")])
    down = FakeReporter(failure=BackendUnavailable("timeout"))
    agent(queue, down, ReportJournal(path)).run_once()

    up = FakeReporter()
    result = agent(queue, up, ReportJournal(path)).run_once()
    assert (result.analysed, result.reported) == (0, 1)
    assert up.accepted[0]["job_uuid"] == "urn:uuid:1"


def test_an_unanalysable_file_is_reported_with_the_fallback(journal: ReportJournal) -> None:
    reporter = FakeReporter()
    queue = FakeSpoolQueue([FakeSpooledJob("urn:uuid:1", pages=3)])
    agent(queue, reporter, journal, damaged).run_once()

    assert reporter.accepted[0]["counts"] == [{"colour": "colour", "size": "A4", "count": 3}]
    assert reporter.accepted[0]["error"] == "xref table is truncated"


def test_a_job_without_its_file_yet_is_reported_once_the_file_is_there(
    journal: ReportJournal,
) -> None:
    queue, reporter = FakeSpoolQueue([FakeSpooledJob("urn:uuid:1", document=None)]), FakeReporter()
    spool = agent(queue, reporter, journal)

    assert spool.run_once().analysed == 0 and reporter.accepted == []
    queue.jobs = [FakeSpooledJob("urn:uuid:1")]
    assert spool.run_once().reported == 1
    assert "error" not in reporter.accepted[0]


def test_refusals_for_good_are_settled_and_temporary_ones_kept(
    journal: ReportJournal,
) -> None:
    queue = FakeSpoolQueue([FakeSpooledJob("urn:uuid:1")])
    reporter = FakeReporter(failure=BackendRejected("terminal_revoked", "", 401))
    spool = agent(queue, reporter, journal)

    assert spool.run_once().pending == 1  # a revoked token may be replaced: keep it

    reporter.failure = BackendRejected("invalid_request", "username too long", 422)
    result = spool.run_once()
    assert (result.refused, result.pending) == (1, 0)
    assert journal.state_of("urn:uuid:1") == REFUSED


def test_a_job_the_backend_already_knows_is_settled(journal: ReportJournal) -> None:
    reporter = FakeReporter(failure=BackendRejected("job_analysis_exists", "", 409))
    spool = agent(FakeSpoolQueue([FakeSpooledJob("urn:uuid:1")]), reporter, journal)
    assert spool.run_once().reported == 1
    assert journal.state_of("urn:uuid:1") == REPORTED


def test_cups_down_still_sends_what_was_journalled(journal: ReportJournal) -> None:
    queue = FakeSpoolQueue([FakeSpooledJob("urn:uuid:1")])
    reporter = FakeReporter(failure=BackendUnavailable("down"))
    spool = agent(queue, reporter, journal)
    spool.run_once()

    queue.down, reporter.failure = True, None
    result = spool.run_once()
    assert result.queue_error == "cupsd not answering" and result.reported == 1


def test_settled_jobs_that_left_the_server_are_forgotten(journal: ReportJournal) -> None:
    queue = FakeSpoolQueue([FakeSpooledJob("urn:uuid:1")])
    spool = agent(queue, FakeReporter(), journal)
    spool.run_once()
    queue.jobs = []
    spool.run_once()
    assert journal.state_of("urn:uuid:1") is None


class _Plain(BaseHTTPRequestHandler):
    """A proxy or a web server in front of the backend: plain-text answers."""

    status = 404

    def do_GET(self) -> None:
        self._answer()

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        self._answer()

    def _answer(self) -> None:
        body = b"<html>not here</html>"
        self.send_response(self.status)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        """Quiet."""


@pytest.mark.parametrize("status", [404, 413, 502])
def test_the_kiosk_and_the_agent_read_an_answer_the_same_way(status: int) -> None:
    handler = type("Handler", (_Plain,), {"status": status})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}"
    kiosk = HttpBackend(url, "token", retries=0)
    reporter = HttpAnalysisReporter(url, "token")
    try:
        with pytest.raises(BackendError) as by_kiosk:
            kiosk.balance("alice")
        with pytest.raises(BackendError) as by_agent:
            reporter.report({"job_uuid": "urn:uuid:1"})
    finally:
        kiosk.close()
        reporter.close()
        server.shutdown()
        server.server_close()
    assert type(by_kiosk.value) is type(by_agent.value)
    assert by_kiosk.value.code == by_agent.value.code
    if status < 500:  # a 4xx is a refusal, never resent as if the backend were away
        assert isinstance(by_kiosk.value, BackendRejected)
        assert (by_kiosk.value.code, by_kiosk.value.status) == (f"http_{status}", status)


def test_the_kiosk_and_the_agent_load_their_token_the_same_way(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    secret = tmp_path / "token"
    secret.write_text("s3cret\n", encoding="utf-8")
    secret.chmod(0o644)
    kiosk = parse_kiosk_config({
        "terminal": {"name": "k", "timezone": "UTC"},
        "backend": {"url": "http://127.0.0.1:9", "token_file": str(secret)},
        "card_reader": {"type": "simulated"}, "printer": {"name": "MFP"},
    }, "kiosk.toml")
    config_path = tmp_path / "spool-agent.toml"
    config_path.write_text(
        f'[spool_agent]\nqueues = ["followme"]\nstate_dir = "{tmp_path}"\n'
        f'[backend]\nurl = "http://127.0.0.1:9"\ntoken_file = "{secret}"\n',
        encoding="utf-8")
    spool = load_spool_agent_config(config_path)
    for load in (lambda: terminal_token(kiosk), lambda: agent_token(spool)):
        with pytest.raises(ConfigError, match="too open"):
            load()
    secret.chmod(0o600)
    assert terminal_token(kiosk) == agent_token(spool) == "s3cret"


def test_config_errors_name_file_key_and_value(tmp_path: Path) -> None:
    path = tmp_path / "agent.toml"
    path.write_text('[spool_agent]\nqueues = ["a", "a"]\npoll_interval_s = 0\ncolour = 1\n'
                    '[backend]\nurl = "http://b"\n', encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_spool_agent_config(path)
    assert caught.value.problems == [
        "agent.toml: spool_agent.queues: ['a', 'a'] names a queue twice",
        "agent.toml: spool_agent.poll_interval_s: 0 is not a number of seconds "
        "between 0.5 and 3600",
        "agent.toml: spool_agent.colour: 1 is not a known key (allowed here: cups_port, "
        "cups_server, poll_interval_s, queues, spool_dir, state_dir)",
    ]


# -- end to end against the real peers --------------------------------------------------

sys.path.insert(0, str(REPO / "tests" / "drivers" / "cups"))
from cups_peers import FOLLOW_ME, KIOSK, PeerStack, missing_tools  # noqa: E402


@pytest.fixture(scope="module")
def cups() -> Iterator[PeerStack]:
    """cupsd with one hold queue printing to ippeveprinter. Not under pytest's 0700 temp
    dir: CUPS filters run as ``lp`` and must reach the spool."""
    if missing_tools():
        pytest.skip(f"CUPS peers missing: {', '.join(missing_tools())}")
    base = Path(tempfile.mkdtemp(prefix="spool-agent-"))
    stack = PeerStack(base)
    try:
        stack.start()
        stack.add_queue(KIOSK)
        stack.add_queue(FOLLOW_ME)
        yield stack
    finally:
        stack.close()
        shutil.rmtree(base, ignore_errors=True)


def write_config(stack: PeerStack, backend_url: str, state: Path, queue: str = KIOSK) -> Path:
    """Each test watches its own queue, so one test's jobs are not another's."""
    path = state / "spool-agent.toml"
    path.write_text(
        f'[spool_agent]\ncups_server = "127.0.0.1"\ncups_port = {stack.cups_port}\n'
        f'queues = ["{queue}"]\nspool_dir = "{stack.spool}"\nstate_dir = "{state}"\n'
        f'[backend]\nurl = "{backend_url}"\n', encoding="utf-8")
    return path


@pytest.mark.peer
@pytest.mark.skipif(not DOCUMENT.exists(), reason="shared corpus absent")
def test_held_job_is_analysed_reported_once_and_read_by_a_kiosk(
    cups: PeerStack, demo_backend_url: str, tmp_path: Path
) -> None:
    from terminal.wiring import build_spool_agent

    job_id = cups.submit(KIOSK, "alice", DOCUMENT, "thesis.pdf", "print-color-mode=color")
    config_file = write_config(cups, demo_backend_url, tmp_path)
    spool = build_spool_agent(load_spool_agent_config(config_file), DEMO_TERMINAL_TOKEN)
    try:
        first = spool.run_once()
        again = spool.run_once()
    finally:
        spool.close()
    assert (first.analysed, first.reported, first.pending, first.queue_error) == (
        1, 1, 0, None)
    assert (again.analysed, again.reported) == (0, 0)

    job_uuid = _job_uuid(cups, job_id)
    assert job_uuid.startswith("urn:uuid:")
    answer = _kiosk_reads(demo_backend_url, job_uuid)
    assert answer.status_code == 200, answer.text
    got = answer.json()
    assert got["counts"] == [{"colour": "colour", "size": "A4", "count": 2},
                             {"colour": "mono", "size": "A4", "count": 2}]
    assert (got["username"], got["queue"], got["document_name"], got["error"]) == (
        "alice", KIOSK, "thesis.pdf", None)

    # the command, a new process over the same journal: nothing analysed, nothing sent
    command = subprocess.run(
        [sys.executable, "-m", "printkiosk.cli", "spool-agent", "--config", str(config_file),
         "--once"],
        capture_output=True, text=True, timeout=120, check=False, cwd=REPO,
        env={**os.environ, "PRINTKIOSK_SPOOL_AGENT_TOKEN": DEMO_TERMINAL_TOKEN},
    )
    assert command.returncode == 0, command.stderr
    assert command.stdout.strip() == "analysed 0, reported 0, refused 0, waiting 0"


def _kiosk_reads(backend_url: str, job_uuid: str) -> requests.Response:
    return requests.get(f"{backend_url}/api/v1/job-analyses/{job_uuid}",
                        headers={"Authorization": f"Bearer {DEMO_TERMINAL_TOKEN}"},
                        timeout=10)


def _ipp(stack: PeerStack, operation: int, attrs: dict[str, Any], job_attrs: Any = None,
         document: bytes = b"") -> Any:
    from drivers.cups import ipp

    base = {"printer-uri": ipp.attr(ipp.URI,
                                    f"ipp://localhost:{stack.cups_port}/printers/{FOLLOW_ME}"),
            "requesting-user-name": ipp.attr(ipp.NAME, "bob")}
    request = ipp.encode_request(operation, 1, {**base, **attrs}, job_attrs)
    response = ipp.post("127.0.0.1", stack.cups_port, f"/printers/{FOLLOW_ME}",
                        request + document)
    assert response.ok, response.message
    return response


@pytest.mark.peer
@pytest.mark.skipif(not DOCUMENT.exists(), reason="shared corpus absent")
def test_a_job_whose_document_is_still_incoming_waits_for_it(
    cups: PeerStack, demo_backend_url: str, tmp_path: Path
) -> None:
    """Create-Job lists the job held (job-incoming) before Send-Document brings the file:
    reporting it then would report the fallback for good."""
    from drivers.cups import ipp
    from terminal.wiring import build_spool_agent

    created = _ipp(cups, 0x0005,  # Create-Job
                   {"job-name": ipp.attr(ipp.NAME, "late.pdf")},
                   {"job-hold-until": ipp.attr(ipp.KEYWORD, "indefinite")})
    job_id = int(created.group("job")[0]["job-id"][0])
    job_uuid = _job_uuid(cups, job_id, FOLLOW_ME)
    config = load_spool_agent_config(write_config(cups, demo_backend_url, tmp_path, FOLLOW_ME))
    spool = build_spool_agent(config, DEMO_TERMINAL_TOKEN)
    try:
        early = spool.run_once()
        assert (early.analysed, early.reported) == (0, 0)
        assert _kiosk_reads(demo_backend_url, job_uuid).json()["code"] == "job_analysis_unknown"

        _ipp(cups, 0x0006,  # Send-Document
             {"job-id": ipp.attr(ipp.INTEGER, job_id),
              "document-format": ipp.attr(ipp.MIME, "application/pdf"),
              "last-document": ipp.attr(ipp.BOOLEAN, True)},
             document=DOCUMENT.read_bytes())
        late = spool.run_once()
    finally:
        spool.close()
    assert (late.analysed, late.reported) == (1, 1)
    got = _kiosk_reads(demo_backend_url, job_uuid).json()
    assert (got["colour_pages"], got["mono_pages"], got["error"]) == (2, 2, None)


def _job_uuid(stack: PeerStack, job_id: int, queue: str = KIOSK) -> str:
    """job-uuid asked of cupsd with IPP Get-Job-Attributes, independently of the agent."""
    from drivers.cups import ipp

    request = ipp.encode_request(
        ipp.GET_JOB_ATTRIBUTES,
        1,
        {
            "printer-uri": ipp.attr(ipp.URI, f"ipp://localhost:{stack.cups_port}/printers/{queue}"),
            "job-id": ipp.attr(ipp.INTEGER, job_id),
            "requesting-user-name": ipp.attr(ipp.NAME, "root"),
            "requested-attributes": ipp.attr(ipp.KEYWORD, "job-uuid"),
        },
    )
    response = ipp.post("127.0.0.1", stack.cups_port, "/", request)
    assert response.ok, response.message
    return str(response.group("job")[0]["job-uuid"][0])
