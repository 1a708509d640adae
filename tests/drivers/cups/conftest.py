"""Session fixture: the real CUPS peer stack (see cups_peers.py), torn down even on failure."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from cups_peers import FOLLOW_ME, KIOSK, PAUSED_FOLLOW_ME, PeerStack, add_queue, missing_tools

from drivers.cups import is_usable

CORPUS = Path(__file__).resolve().parents[3] / ".." / "shared" / "corpus"


@pytest.fixture(scope="session")
def cups_stack() -> Iterator[PeerStack]:
    missing = missing_tools()
    if missing:
        pytest.skip(f"CUPS peers not installed: {', '.join(missing)}")
    if not is_usable():
        pytest.skip("pycups is not installed")
    # not pytest's tmp_path: its parents are 0700, and cupsd's filters run as lp
    base = Path(tempfile.mkdtemp(prefix="printkiosk-cups-"))
    stack = PeerStack(base)
    try:
        stack.start()
        add_queue(stack, KIOSK)
        add_queue(stack, FOLLOW_ME)
        add_queue(stack, PAUSED_FOLLOW_ME, enabled=False)
        yield stack
    finally:
        stack.close()
        shutil.rmtree(base, ignore_errors=True)


@pytest.fixture(scope="session")
def corpus_jobs() -> Path:
    jobs = CORPUS.resolve() / "jobs"
    if not jobs.is_dir():
        pytest.skip(f"corpus not found at {jobs}")
    return jobs
