"""Fixtures shared by the whole suite: the real backend process on a free loopback port,
and the SNMP agent (snmpsim serving the corpus recordings); and, in CI, the rule that a
skipped test is an error unless tests/allowed_skips.py lists it (tests/skip_rule.py)."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from printkiosk.commands.demo import free_port, start_demo_backend, stop_demo_backend
from tests import skip_rule
from tests.allowed_skips import ALLOWED_SKIPS
from tests.drivers.snmp.snmpsim_peer import (
    SNMP_CORPUS,
    SNMPSIM,
    Agent,
    corpus_recordings,
    free_udp_port,
    start_snmpsim,
    stop,
)
from tests.worker_display import give_worker_its_own_display

# the 3D printer servers (session fixtures ``octoprint`` and ``moonraker``)
pytest_plugins = ["tests.peers3d"]

REPO = Path(__file__).resolve().parents[1]
CORPUS = REPO.parent / "shared" / "corpus"


def pytest_configure(config: pytest.Config) -> None:
    skip_rule.register(config, ALLOWED_SKIPS)
    give_worker_its_own_display()
    if getattr(config.option, "numprocesses", None) and not hasattr(config, "workerinput"):
        # the controller of a run on several workers empties the UI screenshot folder
        # once, before any worker starts (tests/ui/conftest.py does it otherwise)
        from tests.ui.harness import clean_screens

        clean_screens()




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
        stop_demo_backend(process)


@pytest.fixture(scope="session")
def snmp_agent(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Agent]:
    """snmpsim on a free 127.0.0.1 UDP port serving every corpus recording (community =
    recording name), for the driver's tests and the terminal's SNMP adapter alike."""
    if not corpus_recordings():
        pytest.skip(f"SNMP corpus {SNMP_CORPUS} is absent")
    if not SNMPSIM.exists():
        pytest.skip("snmpsim is not installed in this environment")
    port = free_udp_port()
    process = start_snmpsim(tmp_path_factory.mktemp("snmpsim"), port)
    try:
        yield Agent("127.0.0.1", port)
    finally:
        stop(process)
