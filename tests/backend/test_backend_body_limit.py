"""Issue 12 item 7: request bodies are bounded and unauthenticated writes refused before
their body is read — measured on a real backend process (its resident memory), with a
200 MB body sent with a Content-Length and chunked."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from backend_fixtures import Backend

from backend.demo import DEMO_TERMINAL_TOKEN
from printkiosk.commands.demo import free_port, start_demo_backend, stop_demo_backend

BIG = 200 * 1024 * 1024
CHUNK = b"x" * (1024 * 1024)
# What the backend may grow by while refusing a 200 MB body: the 4 MiB limit, buffers and
# allocator slack; reading the body (as before the fix) grows it by more than 200 MB.
MAX_GROWTH = 40 * 1024 * 1024


@dataclass
class Served:
    port: int
    pid: int

    def rss(self) -> int:
        status = Path(f"/proc/{self.pid}/status").read_text(encoding="ascii")
        line = next(line for line in status.splitlines() if line.startswith("VmRSS:"))
        return int(line.split()[1]) * 1024


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    data = tmp_path_factory.mktemp("body-limit")
    port = free_port()
    process = start_demo_backend(port, data)
    try:
        yield Served(port, process.pid)
    finally:
        stop_demo_backend(process)


def _post_huge(served: Served, *, token: str | None, chunked: bool,
               path: str = "/api/v1/holds") -> tuple[int, dict[str, object], int]:
    """POST a 200 MB body (or as much as the backend reads of it); returns the status,
    the problem body and how many bytes the backend's memory grew meanwhile."""
    before = served.rss()
    peak = before
    sock = socket.create_connection(("127.0.0.1", served.port), timeout=30)
    head = [f"POST {path} HTTP/1.1", f"Host: 127.0.0.1:{served.port}",
            "Content-Type: application/json"]
    head += ["Transfer-Encoding: chunked"] if chunked else [f"Content-Length: {BIG}"]
    if token is not None:
        head.append(f"Authorization: Bearer {token}")
    answer = bytearray()
    done = threading.Event()

    def read() -> None:
        try:
            while chunk := sock.recv(65536):
                answer.extend(chunk)
                if b"\r\n\r\n" in answer and _complete(bytes(answer)):
                    break
        except OSError:
            pass
        done.set()

    reader = threading.Thread(target=read, daemon=True)
    sock.sendall(("\r\n".join(head) + "\r\n\r\n").encode())
    reader.start()
    sent = 0
    try:
        while sent < BIG and not done.is_set():
            frame = (f"{len(CHUNK):x}\r\n".encode() + CHUNK + b"\r\n") if chunked else CHUNK
            sock.sendall(frame)
            sent += len(CHUNK)
            peak = max(peak, served.rss())
        if chunked and not done.is_set():
            sock.sendall(b"0\r\n\r\n")
    except OSError:
        pass  # the backend answered and closed: what we want
    done.wait(60)
    time.sleep(0.2)
    peak = max(peak, served.rss())
    sock.close()
    status_line, _, rest = bytes(answer).partition(b"\r\n")
    body = rest.partition(b"\r\n\r\n")[2]
    return int(status_line.split()[1]), json.loads(_unchunk(rest, body)), peak - before


def _complete(raw: bytes) -> bool:
    head, _, body = raw.partition(b"\r\n\r\n")
    for line in head.split(b"\r\n"):
        if line.lower().startswith(b"content-length:"):
            return len(body) >= int(line.split(b":")[1])
    return body.endswith(b"0\r\n\r\n")


def _unchunk(head_and_body: bytes, body: bytes) -> bytes:
    if b"transfer-encoding: chunked" not in head_and_body.lower():
        return body
    out = bytearray()
    while body:
        size_line, _, body = body.partition(b"\r\n")
        size = int(size_line, 16)
        if size == 0:
            break
        out.extend(body[:size])
        body = body[size + 2:]
    return bytes(out)


@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
def test_unauthenticated_200mb_post_is_401_without_the_memory_growing(
        served: Served, chunked: bool) -> None:
    status, problem, growth = _post_huge(served, token=None, chunked=chunked)
    print(f"backend grew by {growth / 2**20:.1f} MiB")
    assert growth < MAX_GROWTH, f"backend grew by {growth / 2**20:.0f} MiB"
    assert (status, problem["code"]) == (401, "terminal_unauthorized")


@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
@pytest.mark.parametrize("token", [DEMO_TERMINAL_TOKEN, "not-a-valid-token"],
                         ids=["valid-token", "wrong-token"])
def test_200mb_post_with_a_token_is_413_before_it_is_parsed(
        served: Served, chunked: bool, token: str) -> None:
    status, problem, growth = _post_huge(served, token=token, chunked=chunked)
    print(f"backend grew by {growth / 2**20:.1f} MiB")
    assert growth < MAX_GROWTH, f"backend grew by {growth / 2**20:.0f} MiB"
    assert (status, problem["code"]) == (413, "body_too_large")


def test_a_body_under_the_limit_is_served_and_enrolment_needs_no_token(
        backend: Backend) -> None:
    client = backend.client
    held = client.post("/api/v1/holds", headers=backend.headers(), json={
        "idempotency_key": "hold-small-01", "username": "alice", "amount": "1.00",
        "description": "x" * 400})
    assert held.status_code == 201, held.text
    enrol = client.post("/api/v1/terminals/enrol", json={"enrolment_key": "nope", "name": "k"})
    assert enrol.status_code == 403 and enrol.json()["code"] == "enrolment_key_invalid"


def test_the_limit_is_the_configured_one(backend: Backend, tmp_path: Path) -> None:
    from backend_fixtures import SECRET
    from fastapi.testclient import TestClient

    from backend.app import create_app
    from backend.config import BackendConfig

    config = BackendConfig.model_validate({"server": {"max_body_bytes": 2048},
                                           "database": {"url": str(backend.db.engine.url)}})
    with TestClient(create_app(config, backend.db, SECRET)) as client:
        body = {"idempotency_key": "hold-limit-01", "username": "alice", "amount": "1.00"}
        small = client.post("/api/v1/holds", headers=backend.headers(),
                            json={**body, "description": "y" * 400})
        assert small.status_code == 201, small.text
        large = client.post("/api/v1/holds", headers=backend.headers(),
                            json={**body, "idempotency_key": "hold-limit-02",
                                  "description": "y" * 3000})
        assert large.status_code == 413 and large.json()["code"] == "body_too_large"
