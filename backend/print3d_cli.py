"""What ``printkiosk 3d`` does: submit a file for a user, list, show, cancel a ready job.
Every change is audited with the operator as actor (``cli:<user>``)."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select

from backend import print3d_jobs
from backend.cli_output import local_time, table
from backend.ledger import LedgerError
from backend.models import AuditEntry, Print3DJob, User
from backend.money import fmt
from backend.pricing import load_catalogue
from backend.print3d_analysis import Malformed
from backend.print3d_intake import Intake, store
from backend.print3d_store import CHUNK, FileTooLarge, JobFiles
from backend.voucher_cli import Backend, CliRefused


def _intake(backend: Backend) -> Intake:
    settings = backend.config.print3d
    if settings is None:
        raise CliRefused("the backend has no [print3d] section")
    return Intake(backend.db, settings, load_catalogue(backend.config.pricing),
                  backend.config.ledger.currency)


def submit(backend: Backend, path: Path, username: str, group: str) -> int:
    """Store ``path`` as a job of ``username`` for ``group``; print it; return its id."""
    intake = _intake(backend)
    try:
        source = path.open("rb")
    except OSError as exc:
        raise CliRefused(f"{path}: cannot be read: {exc.strerror}") from exc
    temp = intake.files.temp_upload(intake.settings.max_file_bytes)
    try:
        with source:
            while chunk := source.read(CHUNK):
                temp.write(chunk)
        job = store(intake, temp, path.name, username, group, backend.actor)
    except FileTooLarge as exc:
        raise CliRefused(f"{path}: {exc} ([print3d] max_file_mb)") from exc
    except Malformed as exc:
        raise CliRefused(f"{path}: {exc}") from exc
    except LedgerError as exc:
        raise CliRefused(exc.detail) from exc
    finally:
        temp.discard()
    flags = ", ".join(f"{f['code']} (expected {f['expected']}, found {f['found']})"
                      for f in job["flags"]) or "none"
    print(f"3D job {job['job_id']} for {username} on {group}: {job['name']}, "
          f"{job['grams']} g {job['material']}, {job['metres']} m, {job['minutes']} min; "
          f"price {job['price']} {job['currency']} (hold {job['hold_amount']}); flags: {flags}")
    return int(job["job_id"])


def list_jobs(backend: Backend, username: str | None, group: str | None,
              limit: int = 100) -> None:
    with backend.db.read() as session:
        query = (select(Print3DJob, User.username).join(User, User.id == Print3DJob.user_id)
                 .order_by(Print3DJob.id.desc()).limit(limit))
        if username:
            query = query.where(User.username == username)
        if group:
            query = query.where(Print3DJob.group_name == group)
        rows = [[str(job.id), local_time(job.uploaded_at), name, job.group_name, job.name,
                 job.status, f"{job.grams} g", f"{job.minutes} min",
                 f"{fmt(job.price)} {job.currency}",
                 ",".join(flag["code"] for flag in job.flags)]
                for job, name in session.execute(query).tuples()]
    if not rows:
        print("no 3D jobs")
        return
    print(table(["ID", "UPLOADED", "USER", "GROUP", "NAME", "STATUS", "GRAMS", "TIME",
                 "PRICE", "FLAGS"], rows))


def _job_id(text: str) -> int:
    if not text.isdigit() or len(text) > 18:
        raise CliRefused(f"{text!r} is not a 3D job id (a number, from printkiosk 3d list)")
    return int(text)


def show(backend: Backend, job_text: str) -> None:
    with backend.db.read() as session:
        try:
            job = print3d_jobs.find_job(session, _job_id(job_text))
        except LedgerError as exc:
            raise CliRefused(exc.detail) from exc
        data = print3d_jobs.job_json(session, job)
        fields = [("id", str(job.id)), ("user", data["username"]), ("group", job.group_name),
                  ("name", job.name), ("status", job.status), ("format", job.format),
                  ("size", f"{job.size_bytes} bytes"), ("sha256", job.sha256),
                  ("material", job.material or ""),
                  ("grams", f"{job.grams} ({job.grams_source})"), ("metres", job.metres),
                  ("time", f"{job.minutes} min ({job.time_source})"),
                  ("price", f"{fmt(job.price)} {job.currency} ({job.price_list})"),
                  ("hold", fmt(job.hold_amount)),
                  ("slicer", _slicer_line(job.slicer)),
                  ("uploaded", f"{local_time(job.uploaded_at)} by {job.uploaded_by}"),
                  ("hold id", job.hold_id or ""), ("terminal", job.terminal_id or ""),
                  ("outcome", job.outcome or ""), ("policy", job.policy or ""),
                  ("charged", "" if job.charged is None else
                   f"{fmt(job.charged)} for {job.charged_grams} g, {job.charged_minutes} min"),
                  ("printer's filament", f"{job.printer_filament_mm or ''}")]
        history = session.scalars(select(AuditEntry).where(
            AuditEntry.subject == print3d_jobs.job_ref(job.id)).order_by(AuditEntry.id)).all()
        width = max(len(name) for name, _ in fields)
        for name, value in fields:
            print(f"{name.ljust(width)}  {value}")
        for flag in job.flags:
            print(f"flag {flag['code']}: expected {flag['expected']}, found {flag['found']}"
                  f"{' (blocks release)' if flag['blocks_release'] else ''}")
        for entry in history:
            print(f"{local_time(entry.at)}  {entry.actor}  {entry.action}")


def _slicer_line(figures: dict[str, object]) -> str:
    """``PrusaSlicer 2.7.4: 85.76 mm, 0.26 g, 65 s, PLA, for MK4`` (what it states)."""
    def joined(key: str, unit: str) -> str | None:
        values = figures.get(key)
        return f"{' + '.join(map(str, values))} {unit}" if isinstance(values, list) else None

    stated = [joined("filament_mm", "mm"), joined("filament_g", "g"),
              None if figures.get("time_s") is None else f"{figures['time_s']} s",
              figures.get("material"), None if figures.get("printer_model") is None
              else f"for {figures['printer_model']}"]
    name = " ".join(str(part) for part in (figures.get("slicer"), figures.get("version")) if part)
    return f"{name or 'unknown'}: {', '.join(str(s) for s in stated if s) or 'states nothing'}"


def cancel(backend: Backend, job_text: str) -> None:
    settings = _intake(backend).settings
    try:
        with backend.db.write() as session:
            job = print3d_jobs.cancel(session, _job_id(job_text), backend.actor,
                                      backend.config.notifications)
            names = (job.stored_name, job.original_name)
    except LedgerError as exc:
        raise CliRefused(exc.detail) from exc
    JobFiles(settings.storage_path).remove(*names)
    print(f"3D job {job_text} cancelled (its file is deleted)")
