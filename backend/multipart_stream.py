"""A streaming reader of ``multipart/form-data`` (RFC 7578) for one file and a few fields.

Why not the framework's form parser: Starlette's needs ``python-multipart`` (not a
dependency here) and spools each file to an unbounded temporary file before the route
sees it. A G-code upload may be 200 MB and must stop at the size limit as it arrives,
written straight into the job store's temporary file (hashed and counted on the way).
This reader is fed the body chunk by chunk; small fields are collected (at most
``max_field_bytes`` each), the one file part goes to the sink the caller gives.
"""

from __future__ import annotations

from collections.abc import Callable
from email.message import Message
from typing import Protocol

MAX_HEADER_BYTES = 8 * 1024
MAX_PARTS = 16


class MultipartError(ValueError):
    """The body is not the multipart form it claims to be; ``str()`` says why."""


class Sink(Protocol):
    def write(self, data: bytes) -> None: ...


def boundary_of(content_type: str | None) -> bytes:
    """The boundary of a ``multipart/form-data`` Content-Type header."""
    message = Message()
    message["content-type"] = content_type or ""
    if message.get_content_type() != "multipart/form-data":
        raise MultipartError(f"Content-Type {content_type!r} is not multipart/form-data")
    boundary = message.get_param("boundary")
    if not isinstance(boundary, str) or not 1 <= len(boundary) <= 70:
        raise MultipartError("the multipart Content-Type has no valid boundary")
    return boundary.encode("latin-1")


def _disposition(headers: bytes) -> tuple[str, str | None]:
    """(name, filename) of a part, from its Content-Disposition header."""
    message = Message()
    for line in headers.decode("utf-8", "replace").split("\r\n"):
        key, sep, value = line.partition(":")
        if sep and key.strip().lower() == "content-disposition":
            message["content-disposition"] = value.strip()
    name = message.get_param("name", header="content-disposition")
    if not isinstance(name, str) or not name:
        raise MultipartError("a part has no Content-Disposition name")
    filename = message.get_param("filename", header="content-disposition")
    return name, filename if isinstance(filename, str) else None


class MultipartReader:
    """Feed the body with :meth:`feed`, then :meth:`close`; read :attr:`fields` and
    :attr:`filename`. ``open_file(filename)`` is called for the part named ``file_field``
    and returns where its bytes go (it may raise to stop the upload)."""

    def __init__(self, boundary: bytes, file_field: str, open_file: Callable[[str | None], Sink],
                 max_field_bytes: int = 1024) -> None:
        self._separator = b"\r\n--" + boundary
        self._file_field = file_field
        self._open_file = open_file
        self._max_field = max_field_bytes
        self._buffer = bytearray(b"\r\n")  # so the first delimiter looks like the others
        self._state = "preamble"
        self._part: str | None = None
        self._field = bytearray()
        self._sink: Sink | None = None
        self._parts = 0
        self.fields: dict[str, str] = {}
        self.filename: str | None = None
        self.has_file = False

    def feed(self, data: bytes) -> None:
        self._buffer += data
        while self._step():
            pass

    def close(self) -> None:
        if self._state != "done":
            raise MultipartError("the multipart body ends before its closing boundary")

    def _step(self) -> bool:
        """Consume what the buffer allows in the current state; True to go on."""
        buffer = self._buffer
        if self._state in ("preamble", "body"):
            at = buffer.find(self._separator)
            if at < 0:
                keep = len(self._separator) - 1
                if len(buffer) > keep:
                    self._emit(bytes(buffer[:-keep]))
                    del buffer[:-keep]
                return False
            self._emit(bytes(buffer[:at]))
            del buffer[:at + len(self._separator)]
            self._end_part()
            self._state = "delimiter"
            return True
        if self._state == "delimiter":
            if len(buffer) < 2:
                return False
            if buffer[:2] == b"--":
                self._state = "done"
                buffer.clear()
                return False
            end = buffer.find(b"\r\n")
            if end < 0:
                if len(buffer) > 80:
                    raise MultipartError("garbage after a multipart boundary")
                return False
            if buffer[:end].strip(b" \t"):
                raise MultipartError("garbage after a multipart boundary")
            del buffer[:end + 2]
            self._state = "headers"
            return True
        if self._state == "headers":
            end = buffer.find(b"\r\n\r\n")
            if end < 0:
                if len(buffer) > MAX_HEADER_BYTES:
                    raise MultipartError("a part's headers are too long")
                return False
            self._start_part(bytes(buffer[:end]))
            del buffer[:end + 4]
            self._state = "body"
            return True
        buffer.clear()  # done: an epilogue is ignored
        return False

    def _start_part(self, headers: bytes) -> None:
        self._parts += 1
        if self._parts > MAX_PARTS:
            raise MultipartError(f"more than {MAX_PARTS} parts")
        name, filename = _disposition(headers)
        if name == self._file_field:
            if self.has_file:
                raise MultipartError(f"more than one {name!r} part")
            self.has_file = True
            self.filename = filename
            self._sink = self._open_file(filename)
        elif name in self.fields:
            raise MultipartError(f"field {name!r} given twice")
        self._part = name
        self._field.clear()

    def _emit(self, data: bytes) -> None:
        if self._state != "body" or not data:
            return
        if self._sink is not None:
            self._sink.write(data)
            return
        self._field += data
        if len(self._field) > self._max_field:
            raise MultipartError(f"field {self._part!r} is longer than {self._max_field} bytes")

    def _end_part(self) -> None:
        if self._state == "body" and self._part is not None and self._sink is None:
            try:
                self.fields[self._part] = self._field.decode("utf-8")
            except UnicodeDecodeError as exc:
                raise MultipartError(f"field {self._part!r} is not UTF-8") from exc
        self._sink = None
        self._part = None
