"""The one error family analysis raises, so the caller can always fall back.

Every error names the file and the reason in words a technician can act on; the foreign
exception (PDFium, Ghostscript, zipfile, ...) is chained, never leaked as the type.
"""

from __future__ import annotations

from pathlib import Path


class DocumentAnalysisError(Exception):
    """A document that could not be analysed; ``reason`` is one human sentence."""

    def __init__(self, path: Path | str, reason: str) -> None:
        super().__init__(f"{path}: {reason}")
        self.path = Path(path)
        self.reason = reason


class MalformedDocument(DocumentAnalysisError):
    """The file claims a format but its content is damaged or truncated."""


class EncryptedDocument(DocumentAnalysisError):
    """The file needs a password to be read (a held print job never carries one)."""


class UnsupportedDocument(DocumentAnalysisError):
    """The format is not one we analyse, or a tool it needs is missing."""
