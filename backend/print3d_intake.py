"""From a received file to a stored job: the steps the API and ``printkiosk 3d submit``
share once the bytes are in the store's temporary file.

1. refuse an unknown group or user, or a full queue, before the costly analysis;
2. analyse in a child process (a bgcode upload is decoded to text first);
3. insert the row and install the files in one transaction (``backend.print3d_store``
   says why a crash then leaves neither half), removing the files if the commit fails.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import Any

from backend import print3d_jobs
from backend.config import Print3DSettings
from backend.db import Database
from backend.pricing import PriceCatalogue
from backend.print3d_analysis import analyse_upload
from backend.print3d_jobs import Upload
from backend.print3d_store import JobFiles, TempUpload


@dataclass(frozen=True)
class Intake:
    """What storing a job needs of the backend."""

    db: Database
    settings: Print3DSettings
    prices: PriceCatalogue | None
    currency: str

    @property
    def files(self) -> JobFiles:
        return JobFiles(self.settings.storage_path)


def display_name(filename: str | None) -> str:
    """The user's file name as shown on the kiosk: its last path component, one line of
    printable text (it names nothing on disk)."""
    base = PurePosixPath((filename or "").replace("\\", "/")).name
    text = "".join(ch for ch in base if unicodedata.category(ch)[0] != "C").strip()
    return re.sub(r"\s+", " ", text)[:255] or "upload.gcode"


def precheck(intake: Intake, username: str, group: str) -> None:
    """Refusals that need no analysis (checked again under the user's lock)."""
    with intake.db.read() as session:
        print3d_jobs.group_of(intake.settings, group)
        user = print3d_jobs.user_named(session, username)
        print3d_jobs.check_room(session, intake.settings, user)


def store(intake: Intake, temp: TempUpload, filename: str | None, username: str,
          group: str, actor: str) -> dict[str, Any]:
    """Analyse the finished temporary file and store the job; its JSON. The caller
    discards ``temp`` afterwards (nothing is left of it once installed)."""
    files = intake.files
    sha256 = temp.finish()
    precheck(intake, username, group)
    text = files.temp_path(".gcode")
    installed: list[str | None] = []
    try:
        fmt, analysis = analyse_upload(temp.path, text, float(intake.settings.analysis_timeout_s))
        bgcode = fmt == "bgcode"
        upload = Upload(display_name(filename), fmt, text if bgcode else temp.path,
                        temp.path if bgcode else None, sha256, temp.size, analysis)
        with intake.db.write() as session:
            job = print3d_jobs.create_job(session, intake.settings, intake.prices, files,
                                          upload, username, group, intake.currency, actor)
            installed = [job.stored_name, job.original_name]
            answer = print3d_jobs.job_json(session, job)
    except BaseException:
        files.remove(*installed)  # the row was not committed: neither is the file
        raise
    finally:
        text.unlink(missing_ok=True)
    return answer
