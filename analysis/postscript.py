"""PostScript and EPS: Ghostscript turns the program into a PDF, which we then analyse.

PostScript is a programming language -- the page count and colours are only known by
running it -- so Ghostscript's ``pdfwrite`` device runs it once (with ``-dSAFER``, under a
time limit) and the PDF path does the rest. Colours are left as the program set them,
so an RGB grey stays an exact grey. The PDF lives in a temporary directory for the
duration of the analysis only.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

from analysis.errors import MalformedDocument, UnsupportedDocument
from analysis.model import PageAnalysis
from analysis.pdf import analyse_pdf_pages

GHOSTSCRIPT_SECONDS = 120
_POSITION = re.compile(r"Current file position is (\d+)")


def ghostscript() -> str | None:
    """Path of the ``gs`` executable, or None when Ghostscript is not installed."""
    return shutil.which("gs")


def postscript_to_pdf(source: Path, target: Path, *, eps: bool, shown_as: Path) -> None:
    """Run ``source`` through Ghostscript's pdfwrite into ``target``."""
    gs = ghostscript()
    if gs is None:
        raise UnsupportedDocument(
            shown_as, "PostScript needs Ghostscript (gs), which is not installed"
        )
    command = [
        gs,
        "-q",
        "-dSAFER",
        "-dBATCH",
        "-dNOPAUSE",
        "-sDEVICE=pdfwrite",
        "-dAutoRotatePages=/None",
        f"-sOutputFile={target}",
    ]
    if eps:
        command.append("-dEPSCrop")
    command += ["-f", str(source)]
    try:
        completed = subprocess.run(
            command,
            capture_output=True,
            timeout=GHOSTSCRIPT_SECONDS,
            check=False,
            stdin=subprocess.DEVNULL,
        )
    except subprocess.TimeoutExpired as exc:
        raise MalformedDocument(
            shown_as, f"Ghostscript did not finish within {GHOSTSCRIPT_SECONDS} s"
        ) from exc
    if completed.returncode != 0 or not target.exists() or target.stat().st_size == 0:
        raise MalformedDocument(
            shown_as, f"Ghostscript could not run the PostScript: {_gs_failure(completed)}"
        )


def _gs_failure(completed: subprocess.CompletedProcess[bytes]) -> str:
    """What Ghostscript says went wrong, and where.

    Its stderr holds only "Unrecoverable error, exit code 1"; the PostScript error
    ("Error: /undefined in foo") and the byte it stopped at are on its stdout.
    """
    text = (completed.stdout + b"\n" + completed.stderr).decode("utf-8", "replace")
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    error = next((line for line in lines if line.startswith("Error:")), None)
    position = _POSITION.search(text)
    if error is None:
        error = next(
            (line for line in lines if "Unrecoverable error" not in line),
            f"it stopped with exit status {completed.returncode} and no message",
        )
    where = f" at byte {position.group(1)}" if position else ""
    return f"{error.removeprefix('Error:').strip()}{where}"


def analyse_postscript_pages(
    path: Path,
    *,
    eps: bool,
    shown_as: Path,
    on_total: Callable[[int], None] | None = None,
) -> Iterator[PageAnalysis]:
    """Convert with Ghostscript, then yield the PDF's pages."""
    with tempfile.TemporaryDirectory(prefix="printkiosk-ps-") as work:
        pdf = Path(work) / "converted.pdf"
        postscript_to_pdf(path, pdf, eps=eps, shown_as=shown_as)
        yield from analyse_pdf_pages(pdf, shown_as, on_total)
