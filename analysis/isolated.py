"""Analysis in a child process: a crash, hang or memory blow-up cannot take the caller down.

PDFium and Ghostscript are C code reading files strangers sent; a malicious or broken
document could crash them, loop, or inflate a 1.5 MB Flate stream into gigabytes. Every
path that analyses a held job -- the kiosk, the spool agent, ``printkiosk analyze`` --
therefore goes through :func:`analyse_isolated`: :mod:`analysis.worker` runs in its own
session under an address-space limit (RLIMIT_AS) and a wall-clock limit; on timeout the
whole process group (the worker and any Ghostscript it started) is killed.

The worker streams what it learns (format, page count, each page), so when a limit stops
it the :class:`AnalysisStopped` error says which limit, in words ("analysis stopped: over
20 s (4 000 of 200 000 pages analysed)"), and carries the pages analysed and the page
count, which the fallback estimate keeps (never fewer pages than the document has).

Why the memory limit is capped at 1 GiB: PDFium silently drops a content stream that
inflates beyond 1 GiB, so a colour page behind such a stream would come out blank. Under
1 GiB of address space it can never get that far; the allocation fails first and the
page falls back (colour by default).
"""

from __future__ import annotations

import contextlib
import json
import os
import select
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import IO, Any

from analysis import errors
from analysis.model import DocumentAnalysis, PageAnalysis, PageColour
from analysis.paper import PaperSize

MIB = 1024**2
DEFAULT_TIMEOUT_SECONDS = 20.0
DEFAULT_MEMORY_LIMIT = 512 * MIB
MIN_MEMORY_LIMIT = 128 * MIB  # the worker's own start-up (Python, PDFium, Pillow) fits in it
MAX_MEMORY_LIMIT = 1024 * MIB
# Ways the worker dies when an allocation fails under RLIMIT_AS (PDFium aborts; glibc and
# the kernel may also give a segmentation fault or a kill).
_OUT_OF_MEMORY_SIGNALS = frozenset({signal.SIGABRT, signal.SIGSEGV, signal.SIGBUS, signal.SIGKILL})
# How often the parent samples the worker's peak memory while it runs.
_SAMPLE_S = 0.02
_ERRORS: dict[str, type[errors.DocumentAnalysisError]] = {
    cls.__name__: cls
    for cls in (
        errors.DocumentAnalysisError,
        errors.MalformedDocument,
        errors.EncryptedDocument,
        errors.UnsupportedDocument,
        errors.AnalysisStopped,
    )
}
_REPO = Path(__file__).resolve().parents[1]


def check_limits(timeout_seconds: float, memory_limit_bytes: int) -> None:
    """Refuse limits that cannot work, saying what is allowed."""
    if not 0 < timeout_seconds <= 3600:
        raise ValueError(f"analysis time limit must be over 0 and at most 3600 s, "
                         f"not {timeout_seconds!r}")
    if not MIN_MEMORY_LIMIT <= memory_limit_bytes <= MAX_MEMORY_LIMIT:
        raise ValueError(
            f"analysis memory limit must be between {MIN_MEMORY_LIMIT // MIB} and "
            f"{MAX_MEMORY_LIMIT // MIB} MiB, not {memory_limit_bytes / MIB:g} MiB"
        )


class _Progress:
    """What the worker reported before it ended, read back from its output."""

    def __init__(self, stream: IO[bytes]) -> None:
        self.format = "unknown"
        self.total: int | None = None
        self.pages: list[PageAnalysis] = []
        self.end: dict[str, Any] | None = None
        for line in stream:
            try:
                value = json.loads(line)
            except ValueError:
                break  # the last line, cut by a kill
            if isinstance(value, list):
                colour, width, height, name = value
                self.pages.append(PageAnalysis(
                    len(self.pages) + 1, PageColour(colour), PaperSize(width, height, name)
                ))
            elif "format" in value:
                self.format = value["format"]
            elif "total" in value:
                self.total = int(value["total"])
            else:
                self.end = value

    def done(self) -> str:
        """How far the analysis got, for a reason: "(4 of 12 pages analysed)"."""
        of = f" of {self.total:,}" if self.total is not None else ""
        return f"({len(self.pages):,}{of} pages analysed)"

    def stopped(self, path: Path, why: str) -> errors.AnalysisStopped:
        return errors.AnalysisStopped(
            path, f"analysis stopped: {why} {self.done()}",
            pages=self.pages, page_total=self.total,
        )


def _signal_name(number: int) -> str:
    try:
        return signal.Signals(number).name
    except ValueError:
        return f"signal {number}"


def _peak_rss(pid: int) -> int:
    """The worker's peak resident memory so far, in bytes (0 once it has ended).

    Why not ``ru_maxrss`` from ``wait4``: Linux carries the parent's peak across fork and
    exec into the child's, so after a kiosk (or a test run) once held 300 MiB, every
    worker crash looked like 300 MiB of its own. ``VmHWM`` is the peak of the worker's
    own address space, fresh from its exec.
    """
    try:
        with open(f"/proc/{pid}/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return 0


def _run(command: list[str], env: dict[str, str], out: IO[bytes], err: IO[bytes],
         timeout_seconds: float) -> tuple[int, int, bool]:
    """Run the worker; (exit status as Popen gives it, peak RSS in bytes, timed out)."""
    child = subprocess.Popen(
        command, stdout=out, stderr=err, stdin=subprocess.DEVNULL, env=env,
        start_new_session=True,
    )  # fmt: skip  (OSError: the caller says the analyser could not start)
    deadline = time.monotonic() + timeout_seconds
    peak, ended = 0, False
    pidfd = os.pidfd_open(child.pid)
    try:
        while not ended:
            peak = max(peak, _peak_rss(child.pid))
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            ready, _, _ = select.select([pidfd], [], [], min(remaining, _SAMPLE_S))
            ended = bool(ready)
    finally:
        os.close(pidfd)
    if not ended:
        with contextlib.suppress(ProcessLookupError):  # it ended at that very moment
            os.killpg(child.pid, signal.SIGKILL)
    _, status, _ = os.wait4(child.pid, 0)
    child.returncode = os.waitstatus_to_exitcode(status)
    return child.returncode, peak, not ended


def analyse_isolated(
    path: Path | str,
    *,
    timeout_seconds: float = DEFAULT_TIMEOUT_SECONDS,
    memory_limit_bytes: int = DEFAULT_MEMORY_LIMIT,
) -> DocumentAnalysis:
    """Analyse ``path`` in a child process; raise DocumentAnalysisError on any failure."""
    check_limits(timeout_seconds, memory_limit_bytes)
    path = Path(path)
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(_REPO), env.get("PYTHONPATH")]))
    command = [sys.executable, "-m", "analysis.worker", str(path), str(memory_limit_bytes)]
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        try:
            status, peak, timed_out = _run(command, env, out, err, timeout_seconds)
        except OSError as exc:
            raise errors.DocumentAnalysisError(
                path, f"the analyser could not start ({exc.strerror or exc})"
            ) from exc
        out.seek(0)
        progress = _Progress(out)
        err.seek(max(0, err.seek(0, os.SEEK_END) - 4096))  # its last words are enough
        last_words = err.read().decode("utf-8", "replace").strip().splitlines()[-1:]
    memory = f"over {memory_limit_bytes / MIB:g} MiB of memory"
    if timed_out:
        raise progress.stopped(path, f"over {timeout_seconds:g} s")
    end = progress.end
    if end is None:
        if status < 0 and -status in _OUT_OF_MEMORY_SIGNALS and peak * 2 >= memory_limit_bytes:
            raise progress.stopped(path, memory)
        why = (
            f"the analyser crashed ({_signal_name(-status)})" if status < 0
            else f"the analyser failed ({last_words[0] if last_words else f'exit status {status}'})"
        )
        raise errors.MalformedDocument(path, f"{why} {progress.done()}",
                                       pages=progress.pages, page_total=progress.total)
    if end.get("memory"):
        raise progress.stopped(path, memory)
    if "error" in end:
        kind = _ERRORS.get(end["error"], errors.DocumentAnalysisError)
        raise kind(path, end["reason"], pages=progress.pages, page_total=progress.total)
    return DocumentAnalysis(path=path, format=progress.format, pages=progress.pages)
