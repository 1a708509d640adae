"""Fixtures shared by the whole suite: the real backend process on a free loopback port."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from printkiosk.commands.demo import free_port, start_demo_backend

REPO = Path(__file__).resolve().parents[1]
CORPUS = REPO.parent / "shared" / "corpus"


@pytest.fixture(scope="session")
def demo_backend_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """``printkiosk backend --demo-data`` on SQLite, as a separate process, for the session."""
    port = free_port()
    process: subprocess.Popen[bytes] = start_demo_backend(
        port, tmp_path_factory.mktemp("demo-backend")
    )
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
