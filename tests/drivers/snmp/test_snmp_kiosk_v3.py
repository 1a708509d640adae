"""The kiosk's SNMPv3 from its configuration to the real agent: ``printer.snmp`` with
``version = "3"`` builds an authPriv monitor whose keys come from the 0600 keys file or
the environment, and it reads the printer (snmpsim) -- it is no longer silently unused."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

import pytest

from drivers.snmp import poll_printer
from terminal.config import ConfigError, parse_kiosk_config
from terminal.wiring import build_monitor, snmp_target
from tests.drivers.snmp.snmpsim_peer import REPO, Agent

pytestmark = pytest.mark.peer


def kiosk(agent: Agent, **snmp: Any) -> Any:
    data = tomllib.loads((REPO / "config" / "kiosk-mfp.toml").read_text(encoding="utf-8"))
    data["printer"]["snmp"] = {"enabled": True, "host": agent.host, "port": agent.port,
                               "version": "3", "v3_user": agent.v3_user,
                               "auth_protocol": "SHA", "priv_protocol": "AES",
                               "context": "konica_c250i", "timeout_s": 1.0, "retries": 0,
                               **snmp}
    return parse_kiosk_config(data, "kiosk.toml")


def keys_file(tmp_path: Path, auth_key: str, priv_key: str) -> Path:
    path = tmp_path / "snmp-keys.toml"
    path.write_text(f'auth_key = "{auth_key}"\npriv_key = "{priv_key}"\n')
    path.chmod(0o600)
    return path


@pytest.fixture(autouse=True)
def no_keys_in_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PRINTKIOSK_SNMP_AUTH_KEY", raising=False)
    monkeypatch.delenv("PRINTKIOSK_SNMP_PRIV_KEY", raising=False)


def test_v3_with_keys_file_reads_the_printer(snmp_agent: Agent, tmp_path: Path) -> None:
    path = keys_file(tmp_path, snmp_agent.v3_auth_key, snmp_agent.v3_priv_key)
    monitor = build_monitor(kiosk(snmp_agent, keys_file=str(path)))
    assert monitor is not None
    assert monitor.page_count() == 33810  # the Konica's prtMarkerLifeCount, over authPriv
    assert monitor.printer_problem() is None


def test_v3_keys_from_the_environment(snmp_agent: Agent,
                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PRINTKIOSK_SNMP_AUTH_KEY", snmp_agent.v3_auth_key)
    monkeypatch.setenv("PRINTKIOSK_SNMP_PRIV_KEY", snmp_agent.v3_priv_key)
    monitor = build_monitor(kiosk(snmp_agent, context="sharp"))
    assert monitor is not None
    assert monitor.page_count() == 121104


def test_v3_with_a_wrong_key_reaches_nothing(snmp_agent: Agent, tmp_path: Path) -> None:
    """The keys file's keys are the ones used: a wrong privacy key is refused by the agent."""
    path = keys_file(tmp_path, snmp_agent.v3_auth_key, "not-the-privacy-key")
    target = snmp_target(kiosk(snmp_agent, keys_file=str(path)))
    assert target is not None
    result = poll_printer(target)
    assert not result.reachable and result.reason
    assert result.counters is None


def test_v3_without_keys_stops_the_kiosk_with_the_reason(snmp_agent: Agent) -> None:
    with pytest.raises(ConfigError) as caught:
        build_monitor(kiosk(snmp_agent))
    assert caught.value.problems == [
        "kiosk.toml: printer.snmp.keys_file: not set and PRINTKIOSK_SNMP_AUTH_KEY/"
        "PRINTKIOSK_SNMP_PRIV_KEY are empty: SNMPv3 has no keys"]


def test_one_key_in_the_environment_is_refused(snmp_agent: Agent,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PRINTKIOSK_SNMP_AUTH_KEY", snmp_agent.v3_auth_key)
    with pytest.raises(ConfigError, match="set both or neither"):
        build_monitor(kiosk(snmp_agent))


def test_config_protocols_are_the_drivers() -> None:
    """The config's protocol names are exactly those the driver maps (no drift)."""
    from typing import get_args

    from drivers.snmp.monitor import AUTH_PROTOCOLS, PRIV_PROTOCOLS
    from terminal.config import SnmpAuthProtocol, SnmpPrivProtocol

    assert get_args(SnmpAuthProtocol) == AUTH_PROTOCOLS
    assert get_args(SnmpPrivProtocol) == PRIV_PROTOCOLS
