"""The 3D job routes (docs/print3d-backend.md, docs/api.md):

POST /print3d/jobs                 upload a G-code/bgcode file for a user and a group
GET  /print3d/jobs?username=&group= the user's ready and printing jobs (user session)
POST /print3d/jobs/{id}/claim      the job prints under a hold of this terminal
GET  /print3d/jobs/{id}/gcode      its text G-code, for the terminal that claimed it
POST /print3d/jobs/{id}/settle     how the print ended: capture, partial capture or void

The upload is read as it arrives (``backend.multipart_stream``) into the job store's
temporary file, stopped at ``[print3d] max_file_mb``, analysed in a child process, and
stored with its row in one step (``backend.print3d_store``). The settlement is an
idempotent write keyed by ``key``: the filament is measured in the stored file before
the transaction (never a large read under the user's lock), the money moves inside it.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Any

from fastapi import APIRouter, Request
from fastapi import Path as PathParam
from fastapi.responses import FileResponse, JSONResponse
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool
from starlette.requests import ClientDisconnect

from backend import ledger, print3d_jobs
from backend.api.deps import (
    Context,
    CurrentTerminal,
    SessionToken,
    problem_from,
    rate_limited,
    require_user_session,
)
from backend.api.holds import _hold_json
from backend.api.schemas import DATABASE_ID_MAX, Print3DClaimRequest, Print3DSettleRequest
from backend.api.writes import idempotent_write
from backend.body_limit import PathBodyTooLarge
from backend.config import Print3DSettings
from backend.context import BackendContext
from backend.idempotency import replay
from backend.ledger import LedgerError
from backend.models import Hold, Print3DJob, User
from backend.money import fmt
from backend.multipart_stream import MultipartError, MultipartReader, Sink, boundary_of
from backend.print3d_analysis import Malformed
from backend.print3d_intake import Intake, store
from backend.print3d_store import FileTooLarge, JobFiles, TempUpload
from backend.problems import ApiProblem

router = APIRouter(tags=["3D printing"])
# A job id the database can hold (a larger one would fail in the driver: a 500).
JobId = Annotated[int, PathParam(ge=1, le=DATABASE_ID_MAX)]
UPLOAD_PATH = "/print3d/jobs"
# What a form needs beyond the file: the fields, the part headers, the boundaries.
FORM_OVERHEAD_BYTES = 64 * 1024


def settings_of(context: BackendContext) -> Print3DSettings:
    if context.config.print3d is None:
        raise ApiProblem(404, "print3d_not_configured", "3D printing not configured",
                         "the backend has no [print3d] section")
    return context.config.print3d


def files_of(settings: Print3DSettings) -> JobFiles:
    return JobFiles(settings.storage_path)


def file_too_large(limit: int) -> ApiProblem:
    return ApiProblem(413, "print3d_file_too_large", "File too large",
                      f"the file is larger than {limit // (1024 * 1024)} MiB "
                      "([print3d] max_file_mb)", max_file_mb=limit // (1024 * 1024))


def upload_limit(settings: Print3DSettings) -> tuple[int, ApiProblem]:
    """The body limit of the upload path (the file and its form), and its 413."""
    return (settings.max_file_bytes + FORM_OVERHEAD_BYTES,
            file_too_large(settings.max_file_bytes))


def prepare_storage(context: BackendContext) -> list[str]:
    """At start: the storage directory exists, and what a crash left in it is removed."""
    settings = context.config.print3d
    if settings is None:
        return []
    files = files_of(settings)
    files.prepare()
    with context.db.read() as session:
        known = set(session.scalars(select(Print3DJob.id)))
    return files.clean_orphans(known)


def malformed(exc: Malformed) -> ApiProblem:
    return ApiProblem(400, "gcode_malformed", "G-code cannot be analysed", str(exc),
                      line=exc.line, block=exc.block, reason=exc.reason)


UPLOAD_FORM = {"requestBody": {"required": True, "content": {"multipart/form-data": {
    "schema": {"type": "object", "required": ["file", "username", "group"], "properties": {
        "file": {"type": "string", "format": "binary",
                 "description": "the G-code or bgcode file (at most [print3d] max_file_mb)"},
        "username": {"type": "string", "description": "whose job"},
        "group": {"type": "string", "description": "the [[print3d.groups]] name"}}}}}}}


@router.post(UPLOAD_PATH, status_code=201, openapi_extra=UPLOAD_FORM)
async def upload_job(request: Request, context: Context,
                     terminal: CurrentTerminal) -> JSONResponse:
    """Multipart ``file``, ``username``, ``group``: the job, analysed and priced."""
    settings = settings_of(context)
    rate_limited(context.limits.print3d_uploads, terminal, "3D uploads")
    intake = Intake(context.db, settings, context.prices, context.currency)
    files = intake.files
    temp: TempUpload | None = None

    def open_file(_filename: str | None) -> Sink:
        nonlocal temp
        temp = files.temp_upload(settings.max_file_bytes)
        return temp

    try:
        reader = MultipartReader(boundary_of(request.headers.get("content-type")), "file",
                                 open_file)
        async for chunk in request.stream():
            await run_in_threadpool(reader.feed, chunk)
        reader.close()
        username, group = (reader.fields.get(name) for name in ("username", "group"))
        if temp is None or not username or not group:
            raise MultipartError("give the parts file, username and group")
        answer = await run_in_threadpool(store, intake, temp, reader.filename, username,
                                         group, f"terminal:{terminal.id}")
    except FileTooLarge as exc:
        raise file_too_large(exc.limit) from exc
    except PathBodyTooLarge as exc:
        raise exc.problem from exc
    except ClientDisconnect as exc:  # nobody reads the answer; the file is discarded
        raise ApiProblem(400, "invalid_request", "Upload cut",
                         "the client went away before the end of the upload") from exc
    except MultipartError as exc:
        raise ApiProblem(400, "invalid_request", "Invalid upload", str(exc)) from exc
    except Malformed as exc:
        raise malformed(exc) from exc
    except LedgerError as exc:
        raise problem_from(exc) from exc
    finally:
        if temp is not None:
            temp.discard()  # nothing once installed (renamed away)
    return JSONResponse(answer, status_code=201)


@router.get(UPLOAD_PATH)
def list_jobs(username: str, group: str, context: Context, terminal: CurrentTerminal,
              session_token: SessionToken = None) -> dict[str, Any]:
    """The user's ready and printing jobs for the group, newest first (user session)."""
    settings = settings_of(context)
    require_user_session(context, terminal, session_token, username)
    try:
        with context.db.read() as session:
            print3d_jobs.group_of(settings, group)
            user = print3d_jobs.user_named(session, username)
            return {"jobs": [print3d_jobs.job_json(session, job)
                             for job in print3d_jobs.listed_jobs(session, user, group)]}
    except LedgerError as exc:
        raise problem_from(exc) from exc


@router.post(UPLOAD_PATH + "/{job_id}/claim")
def claim_job(job_id: JobId, body: Print3DClaimRequest, context: Context,
              terminal: CurrentTerminal) -> dict[str, Any]:
    settings_of(context)
    try:
        with context.db.write() as session:
            job = print3d_jobs.claim(session, job_id, body.hold_id, terminal.id)
            return print3d_jobs.job_json(session, job)
    except LedgerError as exc:
        raise problem_from(exc) from exc


@router.get(UPLOAD_PATH + "/{job_id}/gcode", response_class=FileResponse,
            responses={200: {"content": {"application/octet-stream": {}}}})
def job_gcode(job_id: JobId, context: Context, terminal: CurrentTerminal) -> FileResponse:
    """The text G-code the printer gets; only for the terminal printing it."""
    files = files_of(settings_of(context))
    try:
        with context.db.read() as session:
            job = print3d_jobs.find_job(session, job_id)
            if job.status != "printing" or job.terminal_id != terminal.id:
                raise LedgerError("print3d_not_claimed",
                                  f"3D job {job_id} is not printing at this terminal")
            stored = job.stored_name
    except LedgerError as exc:
        raise problem_from(exc) from exc
    return FileResponse(files.path_of(stored), media_type="application/octet-stream",
                        filename=stored)


def _settle_answer(session: Session, job_id: int, outcome: str, policy: str, grams: Decimal,
                   minutes: int, charged: Decimal, hold: Hold, currency: str) -> dict[str, Any]:
    user = session.get_one(User, hold.user_id)
    return {"job_id": job_id, "outcome": outcome, "policy": policy, "grams": str(grams),
            "minutes": minutes, "charged": fmt(charged),
            "hold": _hold_json(hold, session, currency),
            "balance": ledger.balance(session, user, currency).as_json()}


@router.post(UPLOAD_PATH + "/{job_id}/settle")
def settle_job(job_id: JobId, body: Print3DSettleRequest, context: Context,
               terminal: CurrentTerminal) -> JSONResponse:
    """Settle the job's hold per the outcome's policy; the same key, the same answer."""
    settings = settings_of(context)
    files = files_of(settings)
    operation = f"print3d_settle:{job_id}"
    request = body.model_dump(mode="json", exclude={"key"})
    try:
        with context.db.read() as session:
            previous = replay(session, terminal.id, body.key, operation, request)
            if previous is not None:
                return JSONResponse(previous[1], status_code=previous[0])
            job = print3d_jobs.find_job(session, job_id)
            measured = print3d_jobs.measure(settings, context.prices, session, job,
                                            files.path_of(job.stored_name), body.outcome,
                                            body.file_position, body.print_time_s)
            owner = job.user_id
    except LedgerError as exc:
        raise problem_from(exc) from exc
    filament = (None if body.printer_filament_mm is None
                else Decimal(body.printer_filament_mm))

    def lock(session: Session) -> User:
        return ledger.lock_user(session, owner)

    def effect(session: Session, _user: User) -> dict[str, Any]:
        job, hold, charged, applied = print3d_jobs.settle(
            session, job_id, body.hold_id, terminal.id, body.outcome, measured, filament,
            context.currency, context.config.ledger.consumption_order,
            context.config.notifications)
        return _settle_answer(session, job.id, body.outcome, applied.policy, applied.grams,
                              applied.minutes, charged, hold, context.currency)

    return idempotent_write(context, terminal.id, body.key, operation, request, lock, effect)
