"""Fixtures of the terminal tests: a backend process of their own (see backend_process)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from backend_process import BackendProcess


@pytest.fixture
def backend_process(tmp_path: Path) -> Iterator[BackendProcess]:
    process = BackendProcess(tmp_path / "backend")
    process.data_dir.mkdir()
    process.start()
    try:
        yield process
    finally:
        process.stop()
