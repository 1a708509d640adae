"""The one error family analysis raises, so the caller can always fall back.

Every error names the file and the reason in words a technician can act on; the foreign
exception (PDFium, Ghostscript, zipfile, ...) is chained, never leaked as the type.

An error may also carry what was learnt before it happened: the pages analysed so far and
the document's page count when the format declares it (a PDF does, up front). The
fallback estimate keeps those, so a file that fails at page 57 of 200 -- or a limit that
stops it there -- is never priced as fewer pages than it has.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from analysis.model import PageAnalysis


class DocumentAnalysisError(Exception):
    """A document that could not be analysed; ``reason`` is one human sentence.

    ``pages`` are the pages analysed before the failure (in order, from page 1) and
    ``page_total`` the page count the document declares, when known.
    """

    def __init__(
        self,
        path: Path | str,
        reason: str,
        *,
        pages: Sequence[PageAnalysis] = (),
        page_total: int | None = None,
    ) -> None:
        super().__init__(f"{path}: {reason}")
        self.path = Path(path)
        self.reason = reason
        self.pages: Sequence[PageAnalysis] = pages
        self.page_total = page_total


class MalformedDocument(DocumentAnalysisError):
    """The file claims a format but its content is damaged or truncated."""


class EncryptedDocument(DocumentAnalysisError):
    """The file needs a password to be read (a held print job never carries one)."""


class UnsupportedDocument(DocumentAnalysisError):
    """The format is not one we analyse, or a tool it needs is missing."""


class AnalysisStopped(DocumentAnalysisError):
    """A limit (time or memory) stopped the analysis; the file may well be fine."""


def describe(exc: BaseException) -> str:
    """A foreign exception in words: its message, or its kind when the message is empty.

    ``str(MemoryError())`` and ``str(IndexError())`` are empty, which made reasons such
    as "cannot be analysed ()".
    """
    text = str(exc).strip()
    kind = type(exc).__name__
    if not text or text in ("()", "None"):
        return kind
    return text if isinstance(exc, OSError | RuntimeError) else f"{kind}: {text}"
