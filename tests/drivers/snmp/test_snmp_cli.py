"""``printkiosk snmp`` as a subprocess against the snmpsim agent."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.drivers.snmp.snmpsim_peer import REPO, Agent, free_udp_port

pytestmark = pytest.mark.peer


def printkiosk(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "printkiosk.cli", "snmp", *args], cwd=REPO,
                          capture_output=True, text=True, timeout=60)


def test_json_over_v2c(snmp_agent: Agent) -> None:
    done = printkiosk(f"{snmp_agent.host}:{snmp_agent.port}", "--community", "konica_c250i",
                      "--json")
    assert done.returncode == 0, done.stderr
    data: dict[str, Any] = json.loads(done.stdout)
    assert data["reachable"] is True and data["reason"] is None
    assert data["identity"]["vendor"] == "Konica Minolta"
    assert data["counters"]["life_counts"] == [
        {"marker": "1.1", "value": 33810, "unit": None, "since_power_on": 46}]
    assert {c["kind"]: c["value"] for c in data["counters"]["vendor"]}["print_colour"] == 6711
    waste = data["supplies"][-1]
    assert (waste["description"], waste["state"], waste["percent"], waste["level"]) == (
        "Waste Toner Box", "some_remaining", None, None)
    assert data["status"]["devices"][0]["errors"] == ["serviceRequested"]
    assert data["status"]["devices"][0]["device_status"] == "warning"


def test_json_over_v3(snmp_agent: Agent) -> None:
    done = printkiosk(f"{snmp_agent.host}:{snmp_agent.port}", "--v3-user", snmp_agent.v3_user,
                      "--auth-key", snmp_agent.v3_auth_key, "--priv-key", snmp_agent.v3_priv_key,
                      "--auth-protocol", "SHA", "--priv-protocol", "AES", "--context",
                      "samsungprinter_m4080fx", "--json")
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    assert data["status"]["devices"][0]["errors"] == ["lowPaper"]
    assert data["supplies"][0]["percent"] == 88


def test_text_output(snmp_agent: Agent) -> None:
    done = printkiosk(f"{snmp_agent.host}:{snmp_agent.port}", "--community", "brother_hl5370dw",
                      "--version", "1")
    assert done.returncode == 0, done.stderr
    assert "marker 1.1 life count: 7792 (impressions)" in done.stdout
    assert "1.2 Black Toner Cartridge [toner]: some remaining" in done.stdout
    assert "1.3 Drum Unit [opc]: 69%" in done.stdout


def test_json_is_utf8_not_escaped_even_in_a_c_locale(snmp_agent: Agent) -> None:
    env = {**os.environ, "LANG": "C", "LC_ALL": "C"}
    env.pop("PYTHONIOENCODING", None)
    env.pop("PYTHONUTF8", None)
    done = subprocess.run(
        [sys.executable, "-m", "printkiosk.cli", "snmp", f"{snmp_agent.host}:{snmp_agent.port}",
         "--community", "made_here_no_printer_mib", "--json"],
        cwd=REPO, env=env, capture_output=True, timeout=60)
    assert done.returncode == 0, done.stderr
    name = "Commutateur réseau – étage 2 (NAS Ünïcode)"
    assert name.encode("utf-8") in done.stdout
    assert b"\\u00e9" not in done.stdout
    data = json.loads(done.stdout.decode("utf-8"))
    assert data["identity"]["description"] == name
    assert data["printer_mib"] is False


def test_text_says_when_a_device_has_no_printer_mib(snmp_agent: Agent) -> None:
    done = printkiosk(f"{snmp_agent.host}:{snmp_agent.port}", "--community",
                      "made_here_no_printer_mib")
    assert done.returncode == 0, done.stderr
    assert "no Printer-MIB: this device answers SNMP" in done.stdout
    assert "supplies:" not in done.stdout


def test_text_shows_model_and_serial(snmp_agent: Agent) -> None:
    done = printkiosk(f"{snmp_agent.host}:{snmp_agent.port}", "--community", "jetdirect_m130nw")
    assert done.returncode == 0, done.stderr
    assert "model: HP LaserJet MFP M130nw\nserial number: VNCRC48198\n" in done.stdout


def v3_kiosk_file(agent: Agent, tmp_path: Path, priv_key: str | None = None) -> Path:
    keys = tmp_path / "snmp-keys.toml"
    keys.write_text(f'auth_key = "{agent.v3_auth_key}"\n'
                    f'priv_key = "{priv_key or agent.v3_priv_key}"\n')
    keys.chmod(0o600)
    data = (REPO / "config" / "kiosk-mfp.toml").read_text(encoding="utf-8")
    start = data.index("[printer.snmp]")
    end = data.index("\n[", start + 1)
    snmp = (f'[printer.snmp]\nenabled = true\nhost = "{agent.host}"\nport = {agent.port}\n'
            f'version = "3"\nv3_user = "{agent.v3_user}"\ncontext = "ricoh_mpc3002"\n'
            f'keys_file = "{keys}"\ntimeout_s = 1.0\nretries = 0\n')
    path = tmp_path / "kiosk.toml"
    path.write_text(data[:start] + snmp + data[end:], encoding="utf-8")
    return path


def test_config_polls_the_kiosks_printer_with_its_v3_keys(snmp_agent: Agent,
                                                         tmp_path: Path) -> None:
    done = printkiosk("--config", str(v3_kiosk_file(snmp_agent, tmp_path)), "--json")
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    assert data["counters"]["life_counts"][0]["value"] == 271871
    assert data["identity"]["serial"] == "W492KB03439"


def test_config_with_a_wrong_key_is_unreachable(snmp_agent: Agent, tmp_path: Path) -> None:
    done = printkiosk("--config", str(v3_kiosk_file(snmp_agent, tmp_path, "wrong-priv-key")))
    assert done.returncode == 3
    assert done.stdout.startswith("unreachable: ")


def test_config_refuses_host_and_credentials_beside_it(snmp_agent: Agent,
                                                       tmp_path: Path) -> None:
    done = printkiosk("127.0.0.1", "--config", str(v3_kiosk_file(snmp_agent, tmp_path)),
                      "--community", "x")
    assert done.returncode == 2
    assert "drop HOST, --community" in done.stderr


def test_config_with_snmp_off_says_so() -> None:
    done = printkiosk("--config", str(REPO / "config" / "kiosk-3d.toml"))
    assert done.returncode == 2
    assert "printer.snmp.enabled is false" in done.stderr


def test_unreachable_exits_3_with_the_reason() -> None:
    port = free_udp_port()
    done = printkiosk(f"127.0.0.1:{port}", "--timeout", "0.2", "--retries", "0", "--json")
    assert done.returncode == 3
    data = json.loads(done.stdout)
    assert data["reachable"] is False
    assert data["reason"] == f"127.0.0.1:{port}: no response within 0.2 s (sent 1 time)"


@pytest.mark.parametrize(("args", "message"), [
    (["127.0.0.1:notaport"], "port 'notaport' is not a number"),
    ([], "give HOST[:PORT], or --config KIOSK_TOML"),
    (["127.0.0.1", "--version", "3"], "needs --v3-user, --auth-key, --priv-key"),
    (["127.0.0.1", "--v3-user", "u", "--auth-key", "authkey123", "--priv-key", "privkey123",
      "--community", "c"], "--community is for SNMP v1/v2c"),
    (["127.0.0.1", "--v3-user", "u", "--version", "2c"], "need --version 3"),
    (["127.0.0.1", "--v3-user", "u", "--auth-key", "authkey123", "--priv-key", "privkey123",
      "--priv-protocol", "ROT13"], "privacy protocol 'ROT13'"),
    (["127.0.0.1", "--timeout", "0"], "--timeout 0.0: must be more than 0"),
    (["127.0.0.1", "--version", "4"], "invalid choice"),
])
def test_usage_errors_exit_2(args: list[str], message: str) -> None:
    done = printkiosk(*args)
    assert done.returncode == 2
    assert message in done.stderr
    assert done.stdout == ""
