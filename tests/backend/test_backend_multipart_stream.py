"""The streaming multipart reader: a real client's encoding (httpx), fed whole or one
byte at a time, gives the same fields and file; broken bodies are refused with a reason."""

from __future__ import annotations

import io

import httpx
import pytest

from backend.multipart_stream import MultipartError, MultipartReader, boundary_of


def encoded(fields: dict[str, str], file: bytes) -> tuple[str, bytes]:
    request = httpx.Request("POST", "http://x/", data=fields,
                            files={"file": ("a b.gcode", file, "application/octet-stream")})
    return request.headers["content-type"], request.read()


def read(content_type: str, body: bytes, step: int) -> tuple[dict[str, str], str | None, bytes]:
    sink = io.BytesIO()
    reader = MultipartReader(boundary_of(content_type), "file", lambda _name: sink)
    for start in range(0, len(body), step):
        reader.feed(body[start:start + step])
    reader.close()
    return reader.fields, reader.filename, sink.getvalue()


@pytest.mark.parametrize("step", [1, 7, 4096, 10**9])
def test_fields_and_file_whatever_the_chunks(step: int) -> None:
    # The file holds what looks like a boundary's start, CRLFs and every byte value.
    payload = b"G1 X1 E0.5\r\n--not-the-boundary\r\n" + bytes(range(256)) * 50 + b"\r\n"
    content_type, body = encoded({"username": "alice", "group": "makerspace"}, payload)
    fields, filename, data = read(content_type, body, step)
    assert fields == {"username": "alice", "group": "makerspace"}
    assert filename == "a b.gcode"
    assert data == payload


@pytest.mark.parametrize(("body", "reason"), [
    (b"--B\r\nContent-Disposition: form-data; name=\"file\"\r\n\r\nG1 E1", "ends before"),
    (b"--B\r\nContent-Disposition: form-data\r\n\r\nx\r\n--B--\r\n", "no Content-Disposition"),
    (b"--B\r\nContent-Disposition: form-data; name=\"username\"\r\n\r\n" + b"a" * 2000
     + b"\r\n--B--\r\n", "longer than 1024"),
    (b"--B\r\nContent-Disposition: form-data; name=\"file\"\r\n\r\nx\r\n--B\r\n"
     b"Content-Disposition: form-data; name=\"file\"\r\n\r\ny\r\n--B--\r\n", "more than one"),
])
def test_broken_bodies_say_why(body: bytes, reason: str) -> None:
    with pytest.raises(MultipartError, match=reason):
        read("multipart/form-data; boundary=B", body, 5)


def test_not_a_form() -> None:
    with pytest.raises(MultipartError, match="not multipart/form-data"):
        boundary_of("application/json")
    with pytest.raises(MultipartError, match="no valid boundary"):
        boundary_of("multipart/form-data")
