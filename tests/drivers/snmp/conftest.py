"""The session's SNMP agent: snmpsim on a free 127.0.0.1 UDP port, stopped at the end."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.drivers.snmp.snmpsim_peer import (
    SNMP_CORPUS,
    SNMPSIM,
    Agent,
    corpus_recordings,
    free_udp_port,
    start_snmpsim,
    stop,
)


@pytest.fixture(scope="session")
def snmp_agent(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Agent]:
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
