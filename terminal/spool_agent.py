"""The spool agent: analyses held jobs on the print-server host and reports them.

When the kiosk and CUPS share a host the kiosk reads the spool file itself
(``terminal.wiring`` passes the spool directory to the job service). When they do not,
the kiosk cannot reach the document, so this agent runs beside CUPS: each pass lists the
jobs waiting on the watched hold queues, analyses every job it has not seen yet once its
spool file is there (in a child process, with the configured fallback rule when the file
cannot be analysed) and reports the result to the backend, where kiosks read it by the
job's IPP ``job-uuid``.

Why a local journal (:class:`ReportJournal`, SQLite) before sending: a backend outage
must only delay reports, and a restart must neither analyse nor report a job twice. A
report is written to the journal, with its idempotency key (the job uuid), before it is
sent; it stays pending until the backend accepts it, and pending reports are sent again
at every pass. Should the journal ever be lost, the backend's idempotency replays the
first answer, so a second report of a job still stores nothing twice.

CUPS is reached through the :class:`SpoolQueue` port; the real adapter is built in
:func:`terminal.wiring.build_spool_agent`. See docs/print-release.md.
"""

from __future__ import annotations

import functools
import json
import logging
import sqlite3
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

from pydantic import BeforeValidator, Field

from analysis import (
    DocumentAnalysis,
    DocumentAnalysisError,
    FallbackRule,
    analyse_isolated,
    analyse_or_fall_back,
    fallback_analysis,
)
from analysis.isolated import DEFAULT_MEMORY_LIMIT, DEFAULT_TIMEOUT_SECONDS, MIB
from analysis.paper import NAMED_SIZES
from terminal.config import (
    Port,
    Table,
    Text,
    http_url,
    read_toml,
    seconds_between,
    validate_table,
)
from terminal.http_answers import load_token, single_line
from terminal.ports import (
    AnalysisReporter,
    BackendRejected,
    BackendUnavailable,
    SpooledJob,
    SpoolQueue,
    SpoolQueueUnavailable,
)

log = logging.getLogger(__name__)

TOKEN_ENV = "PRINTKIOSK_SPOOL_AGENT_TOKEN"  # noqa: S105 - a variable name, not a secret
REPORT_PATH = "/api/v1/job-analyses"

# -- configuration ---------------------------------------------------------------------




def _queues(value: object) -> list[str]:
    if (
        not isinstance(value, list)
        or not value
        or not all(isinstance(q, str) and q.strip() and "/" not in q for q in value)
    ):
        raise ValueError('is not a non-empty list of CUPS queue names, e.g. ["followme"]')
    if len(set(value)) != len(value):
        raise ValueError("names a queue twice")
    return list(value)


def _paper_size(value: object) -> str:
    names = [name for name, _, _ in NAMED_SIZES]
    if value not in names:
        raise ValueError(f"is not one of {', '.join(names)}")
    return str(value)



class AgentSection(Table):
    """Which CUPS server and queues to watch, where its spool is, how often to look."""

    queues: Annotated[list[str], BeforeValidator(_queues)]
    cups_server: Text = "127.0.0.1"
    cups_port: Port = 631
    spool_dir: Text = "/var/spool/cups"
    poll_interval_s: Annotated[float, BeforeValidator(seconds_between(0.5, 3600))] = 5.0
    state_dir: Text = "/var/lib/printkiosk/spool-agent"


class AgentBackendSection(Table):
    url: Annotated[str, BeforeValidator(http_url)]
    token_file: Text | None = None
    connect_timeout_s: Annotated[float, BeforeValidator(seconds_between(0.1, 60))] = 3.0
    read_timeout_s: Annotated[float, BeforeValidator(seconds_between(0.1, 120))] = 10.0


class FallbackSection(Table):
    """What to report for a file that cannot be analysed (see analysis.fallback)."""

    pages: int = Field(default=1, ge=1, le=100_000)
    colour: bool = True
    paper_size: Annotated[str, BeforeValidator(_paper_size)] = "A4"

    def rule(self) -> FallbackRule:
        return FallbackRule(self.pages, self.colour, self.paper_size)


class AnalysisSection(Table):
    """Limits of the isolated analysis child, the kiosk's by default (analysis.isolated).

    A job stopped by one is reported as the fallback's pages, with the reason as error.
    """

    time_limit_s: Annotated[float, BeforeValidator(seconds_between(1, 3600))] = (
        DEFAULT_TIMEOUT_SECONDS
    )
    memory_limit_mib: int = Field(default=DEFAULT_MEMORY_LIMIT // MIB, ge=128, le=1024)

    def analyser(self) -> Callable[[Path], DocumentAnalysis]:
        return functools.partial(
            analyse_isolated,
            timeout_seconds=self.time_limit_s,
            memory_limit_bytes=self.memory_limit_mib * MIB,
        )


class SpoolAgentConfig(Table):
    spool_agent: AgentSection
    backend: AgentBackendSection
    fallback: FallbackSection = Field(default_factory=FallbackSection)
    analysis: AnalysisSection = Field(default_factory=AnalysisSection)




def load_spool_agent_config(path: Path) -> SpoolAgentConfig:
    """Read and validate the agent's TOML; every problem names file, key and value."""
    return validate_table(SpoolAgentConfig, read_toml(path), path.name)


def agent_token(config: SpoolAgentConfig, file_label: str = "spool-agent.toml") -> str:
    """The agent's terminal token: from the environment, else from the 0600 token file."""
    return load_token(TOKEN_ENV, config.backend.token_file, f"{file_label}: backend.token_file")


# -- the journal -----------------------------------------------------------------------

PENDING, REPORTED, REFUSED = "pending", "reported", "refused"
# The backend already holds an analysis of this job: another key reported it, or this
# key with another body (a re-analysis after the journal was lost). Nothing to resend.
ALREADY_KNOWN = frozenset({"job_analysis_exists", "idempotency_key_reused"})


class ReportJournal:
    """Each job's report, written before it is sent, and whether the backend took it.

    Keyed by job uuid: a job is analysed once, whatever the restarts. Rows of jobs that
    left the print server (printed, cancelled, purged) are dropped once settled.
    """

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS reports (job_uuid TEXT PRIMARY KEY, body TEXT NOT NULL,"
            " state TEXT NOT NULL, detail TEXT NOT NULL DEFAULT '')"
        )

    def knows(self, job_uuid: str) -> bool:
        row = self._db.execute("SELECT 1 FROM reports WHERE job_uuid = ?", (job_uuid,))
        return row.fetchone() is not None

    def record(self, job_uuid: str, body: Mapping[str, Any]) -> None:
        self._db.execute(
            "INSERT INTO reports (job_uuid, body, state) VALUES (?, ?, ?)",
            (job_uuid, json.dumps(body, sort_keys=True), PENDING),
        )

    def pending(self) -> list[tuple[str, dict[str, Any]]]:
        rows = self._db.execute(
            "SELECT job_uuid, body FROM reports WHERE state = ? ORDER BY rowid", (PENDING,)
        )
        return [(uuid, json.loads(body)) for uuid, body in rows]

    def settle(self, job_uuid: str, state: str, detail: str = "") -> None:
        self._db.execute(
            "UPDATE reports SET state = ?, detail = ? WHERE job_uuid = ?",
            (state, detail, job_uuid),
        )

    def state_of(self, job_uuid: str) -> str | None:
        row = self._db.execute("SELECT state FROM reports WHERE job_uuid = ?", (job_uuid,))
        found = row.fetchone()
        return None if found is None else str(found[0])

    def forget_settled_except(self, present: set[str]) -> int:
        """Drop settled rows of jobs no longer on the print server; how many."""
        settled = self._db.execute(
            "SELECT job_uuid FROM reports WHERE state != ?", (PENDING,)
        ).fetchall()
        gone = [(uuid,) for (uuid,) in settled if uuid not in present]
        self._db.executemany("DELETE FROM reports WHERE job_uuid = ?", gone)
        return len(gone)

    def close(self) -> None:
        self._db.close()


# -- the agent -------------------------------------------------------------------------


@dataclass(frozen=True)
class PassResult:
    """What one pass did: jobs analysed, reports accepted, refused, still waiting."""

    analysed: int = 0
    reported: int = 0
    refused: int = 0
    pending: int = 0
    queue_error: str | None = None


def report_body(job: SpooledJob, analysis: DocumentAnalysis, at: datetime) -> dict[str, Any]:
    """The backend's report: pages counted per (colour, size); ``error`` for a fallback."""
    counts = [
        {"colour": colour.value, "size": size, "count": count}
        for (colour, size), count in sorted(
            analysis.tally().items(), key=lambda item: (item[0][0].value, item[0][1])
        )
    ]
    body: dict[str, Any] = {
        "idempotency_key": job.uuid,
        "job_uuid": job.uuid,
        "queue": job.queue,
        "username": job.username,
        "document_name": single_line(job.name)[:500],
        "counts": counts,
        "analysed_at": at.astimezone(UTC).isoformat(),
    }
    if analysis.estimated:
        body["error"] = single_line(analysis.note or "document could not be analysed")[:1000]
    return body


class SpoolAgent:
    """One pass: journal new jobs' analyses, then send every pending report in order."""

    def __init__(
        self,
        queue: SpoolQueue,
        reporter: AnalysisReporter,
        journal: ReportJournal,
        fallback: FallbackRule,
        *,
        analyse: Callable[[Path], DocumentAnalysis] = analyse_isolated,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._queue = queue
        self._reporter = reporter
        self._journal = journal
        self._fallback = fallback
        self._analyse = analyse
        self._clock = clock
        self._waiting_for_file: set[str] = set()
        self._queue_down = False

    def _analysis(self, document: Path, job: SpooledJob) -> DocumentAnalysis:
        analysis = analyse_or_fall_back(document, self._fallback, job.pages, analyse=self._analyse)
        if analysis.page_count == 0:
            empty = DocumentAnalysisError(document, "the document has no pages")
            return fallback_analysis(empty, self._fallback, job.pages)
        return analysis

    def _document_of(self, job: SpooledJob) -> Path | None:
        """The spool file, or None to look again next pass.

        A job made with Create-Job is listed held before Send-Document brings its file
        (CUPS renames it into the spool once fully received), so a missing file is not
        an error to report for good: the job is simply not reported yet, and kiosks price
        it by their fallback rule meanwhile. Said once per job in the log, as it may also
        mean the agent cannot read the spool (spool_dir, group lp).
        """
        if job.document is None and job.uuid not in self._waiting_for_file:
            self._waiting_for_file.add(job.uuid)
            log.warning("job %s (%s): no readable spool file yet; not reported until there is",
                        job.uuid, job.name)
        return job.document

    def _journal_new_jobs(self) -> tuple[int, str | None]:
        try:
            jobs = self._queue.waiting_jobs()
        except SpoolQueueUnavailable as exc:
            if not self._queue_down:  # once per outage, not at every pass
                log.warning("cannot list held jobs: %s", exc)
            self._queue_down = True
            return 0, str(exc)
        if self._queue_down:
            log.info("print server answers again")
            self._queue_down = False
        analysed = 0
        for job in jobs:
            if not job.uuid:
                log.warning("job %r of %s has no job-uuid; not reported", job.name, job.username)
                continue
            if self._journal.knows(job.uuid):
                continue
            document = self._document_of(job)
            if document is None:
                continue
            body = report_body(job, self._analysis(document, job), self._clock())
            self._journal.record(job.uuid, body)
            analysed += 1
        present = {job.uuid for job in jobs}
        self._journal.forget_settled_except(present)
        self._waiting_for_file &= present
        return analysed, None

    def run_once(self) -> PassResult:
        analysed, queue_error = self._journal_new_jobs()
        reported = refused = 0
        pending = self._journal.pending()
        for index, (job_uuid, body) in enumerate(pending):
            try:
                self._reporter.report(body)
            except BackendUnavailable as exc:
                log.warning("backend unavailable, %d report(s) wait: %s",
                            len(pending) - index, exc)
                return PassResult(analysed, reported, refused, len(pending) - index, queue_error)
            except BackendRejected as exc:
                if exc.code in ALREADY_KNOWN:
                    # reported before the journal knew it (lost journal, second agent)
                    self._journal.settle(job_uuid, REPORTED, exc.code)
                    reported += 1
                    continue
                if not exc.final:  # token revoked, rate limited...: keep and send later
                    log.warning("backend refused the agent for now (%s)", exc.code)
                    return PassResult(analysed, reported, refused, len(pending) - index,
                                      queue_error)
                log.error("report of job %s refused for good: %s", job_uuid, exc)
                self._journal.settle(job_uuid, REFUSED, str(exc))
                refused += 1
                continue
            self._journal.settle(job_uuid, REPORTED)
            reported += 1
        return PassResult(analysed, reported, refused, 0, queue_error)

    def close(self) -> None:
        self._reporter.close()
        self._journal.close()

    def run_until(self, stop: threading.Event, interval_s: float) -> None:
        """Pass after pass until ``stop`` is set; a failed pass never ends the loop."""
        while not stop.is_set():
            try:
                result = self.run_once()
            except Exception:  # the agent must outlive one bad job or a full disk
                log.exception("spool agent pass failed")
            else:
                if result.analysed or result.reported or result.refused:
                    log.info("pass: %s", result)
            stop.wait(interval_s)
