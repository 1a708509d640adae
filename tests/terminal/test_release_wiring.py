"""The wiring gives the terminal its job service and release workflow from configuration."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from terminal.adapters import SnmpPrinter
from terminal.config import ConfigError, parse_kiosk_config
from terminal.jobs import UserPricer
from terminal.wiring import build_terminal, load_checked_config, load_pricer

REPO = Path(__file__).resolve().parents[2]
CAMPUS = REPO / "config" / "pricelists" / "campus-default.toml"


def kiosk(tmp_path: Path, **sections: Any) -> Any:
    data: dict[str, Any] = {
        "terminal": {"name": "kiosk 1", "timezone": "Europe/Paris"},
        "backend": {"url": "http://127.0.0.1:9"},
        "card_reader": {"type": "simulated"},
        "printer": {"name": "MFP", "queue": "kiosk", "cups_port": 9},
        "offline": {"state_dir": str(tmp_path / "state")},
    }
    for name, values in sections.items():
        data.setdefault(name, {}).update(values)
    return parse_kiosk_config(data, "kiosk.toml")


def test_a_kiosk_with_a_price_list_and_a_queue_gets_jobs_and_release(tmp_path: Path) -> None:
    terminal = build_terminal(kiosk(tmp_path, pricing={"price_list": str(CAMPUS)}), "token")
    try:
        assert terminal.jobs is not None and terminal.release is not None
        assert terminal.release.charges is terminal.charges  # money goes through the outbox
        assert terminal.release.monitor is None  # SNMP not enabled
        assert isinstance(terminal.jobs.pricer, UserPricer)  # each user's list, per session
        # the session is told while a release runs: no idle logout under it
        assert terminal.release.running == terminal.session.release_running
        assert (tmp_path / "state" / "outbox.sqlite").exists()
    finally:
        terminal.close()


def test_snmp_enabled_gives_the_release_a_page_counter(tmp_path: Path) -> None:
    config = kiosk(tmp_path, pricing={"price_list": str(CAMPUS)},
                   printer={"snmp": {"enabled": True, "host": "127.0.0.1", "port": 9}})
    terminal = build_terminal(config, "token")
    try:
        assert terminal.release is not None
        assert isinstance(terminal.release.monitor, SnmpPrinter)
    finally:
        terminal.close()


def test_without_a_local_price_list_the_kiosk_still_lists_jobs(tmp_path: Path) -> None:
    """The backend prices them; the local list is only the offline fallback."""
    terminal = build_terminal(kiosk(tmp_path), "token")
    try:
        assert terminal.jobs is not None and terminal.release is not None
    finally:
        terminal.close()


def test_a_bad_price_list_names_the_kiosk_file_the_key_and_the_problem(tmp_path: Path) -> None:
    missing = kiosk(tmp_path, pricing={"price_list": str(tmp_path / "nope.toml")})
    with pytest.raises(ConfigError, match=r"kiosk.toml: pricing.price_list = .*nope.toml"):
        load_pricer(missing)
    broken = tmp_path / "broken.toml"
    broken.write_text('[price_list]\nname = "x"\ncurrency = "EUR"\nscope = "default"\n'
                      '[print]\nmono = { A4 = "cheap" }\n', encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_pricer(kiosk(tmp_path, pricing={"price_list": str(broken)}))
    assert all(p.startswith("kiosk.toml: pricing.price_list = ") for p in caught.value.problems)
    assert "print.mono.A4" in str(caught.value)


def test_the_doctor_check_reads_the_price_list_too(tmp_path: Path) -> None:
    kiosk_file = tmp_path / "kiosk.toml"
    kiosk_file.write_text(
        '[terminal]\nname = "k"\n[backend]\nurl = "http://127.0.0.1:9"\n'
        f'[printer]\nname = "p"\nqueue = "q"\n[pricing]\nprice_list = "{tmp_path}/none.toml"\n',
        encoding="utf-8")
    with pytest.raises(ConfigError, match=r"kiosk.toml: pricing\.price_list"):
        load_checked_config(kiosk_file)


def test_the_spool_age_is_configured_and_checked(tmp_path: Path) -> None:
    config = kiosk(tmp_path, pricing={"price_list": str(CAMPUS)},
                   printer={"spool_max_age_h": 6})
    terminal = build_terminal(config, "token")
    try:
        assert terminal.purger is not None
        assert terminal.purger.max_age == timedelta(hours=6)
    finally:
        terminal.close()
    with pytest.raises(ConfigError, match="spool_max_age_h"):
        kiosk(tmp_path, printer={"spool_max_age_h": 0})
