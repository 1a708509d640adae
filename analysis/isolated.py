"""Analysis in a child process: a crash, hang or memory blow-up cannot take the kiosk down.

PDFium and Ghostscript are C code reading files strangers sent; a malicious or broken
document could crash them or loop. The kiosk therefore analyses held jobs through
:func:`analyse_isolated`, which runs :mod:`analysis.worker` in its own session
under a time limit and an address-space limit, kills the whole process group (the
worker and any Ghostscript it started) on timeout, and turns every failure into a
:class:`DocumentAnalysisError` naming the file -- so the fallback rule applies. The
in-process :func:`analyse_document` stays for the command line and the benchmark.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

from analysis import errors
from analysis.model import DocumentAnalysis, PageAnalysis, PageColour
from analysis.paper import PaperSize

DEFAULT_TIMEOUT_SECONDS = 120.0
DEFAULT_MEMORY_LIMIT = 2 * 1024**3
_ERRORS: dict[str, type[errors.DocumentAnalysisError]] = {
    cls.__name__: cls
    for cls in (
        errors.DocumentAnalysisError,
        errors.MalformedDocument,
        errors.EncryptedDocument,
        errors.UnsupportedDocument,
    )
}
_REPO = Path(__file__).resolve().parents[2]


def analyse_isolated(
    path: Path | str,
    *,
    timeout_seconds: float = DEFAULT_TIMEOUT_SECONDS,
    memory_limit_bytes: int = DEFAULT_MEMORY_LIMIT,
) -> DocumentAnalysis:
    """Analyse ``path`` in a child process; raise DocumentAnalysisError on any failure."""
    path = Path(path)
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(_REPO), env.get("PYTHONPATH")]))
    command = [sys.executable, "-m", "analysis.worker", str(path), str(memory_limit_bytes)]
    with subprocess.Popen(
        command,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        env=env,
        start_new_session=True,
    ) as child:
        try:
            out, err = child.communicate(timeout=timeout_seconds)
        except subprocess.TimeoutExpired as exc:
            os.killpg(child.pid, signal.SIGKILL)
            child.communicate()
            raise errors.MalformedDocument(
                path, f"analysis did not finish within {timeout_seconds:g} s"
            ) from exc
    try:
        result = json.loads(out)
    except ValueError:
        detail = err.decode("utf-8", "replace").strip().splitlines()
        why = (
            f"killed by signal {-child.returncode}"
            if child.returncode < 0
            else detail[-1]
            if detail
            else f"exit status {child.returncode}"
        )
        raise errors.MalformedDocument(path, f"analysis failed ({why})") from None
    if "error" in result:
        raise _ERRORS.get(result["error"], errors.DocumentAnalysisError)(path, result["reason"])
    pages = [
        PageAnalysis(number, PageColour(colour), PaperSize(width, height, name))
        for number, (colour, width, height, name) in enumerate(result["pages"], start=1)
    ]
    return DocumentAnalysis(path=path, format=result["format"], pages=pages)
