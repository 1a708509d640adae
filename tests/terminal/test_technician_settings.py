"""Settings changed at the kiosk: validated by doctor's own check on a copy, written
atomically with the previous version kept, comments kept, journalled for the audit."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest
from technician_kiosk import TESS, desk, kiosk_file

from terminal.config_store import previous_path
from terminal.outbox import EntryKind
from terminal.technician_types import Saved, SaveRefused
from terminal.wiring import build_card_reader, load_checked_config


def technician_entries(charges):  # type: ignore[no-untyped-def]
    return [e for e in charges.outbox.pending() if e.kind is EntryKind.TECHNICIAN]


def test_a_change_is_written_with_comments_kept_and_the_old_file_kept(tmp_path: Path) -> None:
    path = kiosk_file(tmp_path)
    before = path.read_text()
    mode, charges = desk(path)
    saved = mode.save(TESS, {"printer.queue": "lobby-mfp", "printer.snmp.host": "192.0.2.99",
                             "printer.snmp.port": "1161", "terminal.idle_timeout_s": "120",
                             "offline.enabled": "off"})
    assert isinstance(saved, Saved), saved
    assert saved.changes == (("printer.queue", "library-mfp", "lobby-mfp"),
                             ("printer.snmp.host", "192.0.2.10", "192.0.2.99"),
                             ("printer.snmp.port", "161", "1161"),
                             ("terminal.idle_timeout_s", "60", "120"),
                             ("offline.enabled", "true", "false"))
    config = load_checked_config(path)
    assert config.printer.queue == "lobby-mfp" and config.printer.snmp.port == 1161
    assert config.terminal.idle_timeout_s == 120.0 and config.offline.enabled is False
    text = path.read_text()
    assert "# pcsc | wedge | simulated" in text and "# Kiosk beside a multifunction" in text
    assert "# amounts are strings: no float ever carries money" in text
    assert previous_path(path).read_text() == before
    assert mode.can_restore()
    [entry] = technician_entries(charges)
    assert entry.body["action"] == "settings.change" and entry.body["technician"] == "tess"
    assert entry.body["via"] == "card"
    assert ["printer.queue", "library-mfp", "lobby-mfp"] in entry.body["details"]["changes"]


@pytest.mark.parametrize(("changes", "expected"), [
    ({"printer.cups_port": "abc"}, "kiosk.toml: printer.cups_port: 'abc' is not an integer "
                                   "between 1 and 65535"),
    ({"terminal.idle_timeout_s": "5"}, "kiosk.toml: terminal.idle_timeout_s: 5.0 is not a "
                                       "number of seconds between 10 and 3600"),
    ({"backend.url": "ftp://x"}, "kiosk.toml: backend.url: 'ftp://x' is not an http:// or "
                                 "https:// URL"),
    ({"offline.spending_limit": "5,00"}, "kiosk.toml: offline.spending_limit: '5,00' is not "
                                         "an amount"),
    ({"offline.spending_limit": "-1"}, "kiosk.toml: offline.spending_limit: '-1' is not a "
                                       "non-negative amount"),
    ({"printer.snmp.version": "3", "printer.snmp.community": ""},
     'kiosk.toml: printer.snmp.v3_user: is required with version = "3"'),
    ({"printer.snmp.version": "3"}, "kiosk.toml: printer.snmp.community: 'public' is for "
                                    "SNMP v1/v2c"),
    ({"terminal.language": "de"}, "kiosk.toml: terminal.language: 'de' is not a supported "
                                  "language"),
    ({"card_reader.type": "barcode"}, 'kiosk.toml: card_reader.type'),
])
def test_a_wrong_value_is_refused_with_the_validators_line_and_nothing_written(
    tmp_path: Path, changes: dict[str, str], expected: str,
) -> None:
    path = kiosk_file(tmp_path)
    before = path.read_bytes()
    mode, charges = desk(path)
    refused = mode.save(TESS, changes)
    assert isinstance(refused, SaveRefused), refused
    assert any(line.startswith(expected) for line in refused.problems), refused.problems
    assert path.read_bytes() == before
    assert not previous_path(path).exists() and not mode.can_restore()
    assert technician_entries(charges) == []
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".")) == []


def test_a_secret_is_never_shown_nor_journalled(tmp_path: Path) -> None:
    path = kiosk_file(tmp_path)
    mode, charges = desk(path)
    shown = {value.spec.key: value.value for value in mode.settings()}
    assert shown["printer.snmp.community"] == "set" and shown["printer.queue"] == "library-mfp"
    saved = mode.save(TESS, {"printer.snmp.community": "s3cret-community"})
    assert isinstance(saved, Saved)
    assert saved.changes == (("printer.snmp.community", "***", "***"),)
    [entry] = technician_entries(charges)
    assert "s3cret" not in str(entry.body)
    assert tomllib.loads(path.read_text())["printer"]["snmp"]["community"] == "s3cret-community"


def test_an_empty_value_removes_the_key_and_its_default_applies(tmp_path: Path) -> None:
    path = kiosk_file(tmp_path)
    mode, _ = desk(path)
    assert isinstance(mode.save(TESS, {"printer.hold_queue": ""}), Saved)
    assert load_checked_config(path).printer.hold_queue is None
    assert "hold_queue" not in path.read_text()


def test_restore_previous_swaps_the_last_version_back(tmp_path: Path) -> None:
    path = kiosk_file(tmp_path)
    original = path.read_text()
    mode, charges = desk(path)
    mode.save(TESS, {"printer.queue": "other"})
    changed = path.read_text()
    restored = mode.restore_previous(TESS)
    assert isinstance(restored, Saved)
    assert restored.changes == (("printer.queue", "other", "library-mfp"),)
    assert path.read_text() == original and previous_path(path).read_text() == changed
    entries = technician_entries(charges)
    assert [e.body["action"] for e in entries] == ["settings.change", "settings.restore"]
    assert entries[1].body["details"] == {"changes": [["printer.queue", "other",
                                                       "library-mfp"]]}


def test_a_previous_version_that_no_longer_passes_the_check_is_not_restored(
    tmp_path: Path,
) -> None:
    path = kiosk_file(tmp_path)
    mode, _ = desk(path)
    mode.save(TESS, {"printer.queue": "other"})
    previous_path(path).write_text(previous_path(path).read_text().replace(
        "idle_timeout_s = 60", "idle_timeout_s = 1"))
    current = path.read_text()
    refused = mode.restore_previous(TESS)
    assert isinstance(refused, SaveRefused)
    assert refused.problems[0].startswith("kiosk.toml: terminal.idle_timeout_s: 1 ")
    assert path.read_text() == current


def test_a_value_equal_to_the_files_is_no_change(tmp_path: Path) -> None:
    path = kiosk_file(tmp_path)
    mode, charges = desk(path)
    same = mode.save(TESS, {"printer.queue": "library-mfp", "printer.snmp.port": "161"})
    assert same == Saved((), restart=False)
    assert not previous_path(path).exists() and technician_entries(charges) == []
    partly = mode.save(TESS, {"printer.queue": "library-mfp", "printer.name": "Lobby"})
    assert isinstance(partly, Saved)
    assert partly.changes == (("printer.name", "Library MFP (2nd floor)", "Lobby"),)


def test_an_unknown_key_is_refused(tmp_path: Path) -> None:
    path = kiosk_file(tmp_path)
    mode, _ = desk(path)
    refused = mode.save(TESS, {"backend.token_file": "/tmp/steal"})
    assert isinstance(refused, SaveRefused)
    assert refused.problems == ("backend.token_file: is not a setting technician mode can "
                                "change",)


def test_normalisation_derived_from_three_cards_is_saved_and_applied(tmp_path: Path) -> None:
    path = kiosk_file(tmp_path)
    mode, _ = desk(path)
    pairs = [("3283263748", "04A1B2C3"), ("789386", "8A0B0C00"), ("581570816", "0011AA22")]
    settings = mode.derive_normalisation(pairs)
    assert isinstance(settings, dict), settings
    assert isinstance(mode.save(TESS, settings), Saved)
    reader = build_card_reader(load_checked_config(path))
    assert [reader.rule.apply(raw) for raw, _ in pairs] == [stored for _, stored in pairs]
    assert isinstance(mode.derive_normalisation(pairs[:2]), str)  # too few: the reason


def test_the_choices_of_a_dynamic_setting_come_from_the_desks_queues(tmp_path: Path) -> None:
    from terminal.technician import DeskDevices
    from terminal.technician_types import SnmpProbe

    path = kiosk_file(tmp_path)
    mode, _ = desk(path, devices=DeskDevices(snmp_probe=lambda: SnmpProbe(""),
                                             queues=lambda: ["a", "b"]))
    # the file's own queue stays offered when CUPS does not list it
    assert mode.choices("printer.queue") == ["library-mfp", "a", "b"]
    assert mode.choices("printer.hold_queue") == ["", "followme", "a", "b"]
    assert mode.choices("terminal.billing_code") == ["off", "optional", "required"]


V3 = {"printer.snmp.version": "3", "printer.snmp.community": "", "printer.snmp.enabled": "on",
      "printer.snmp.v3_user": "kiosk"}


def test_snmpv3_keys_go_to_the_0600_keys_file_never_to_the_kiosk_file(tmp_path: Path) -> None:
    from terminal.config import read_snmp_v3_keys
    from terminal.technician_settings import keys_text

    path = kiosk_file(tmp_path)
    mode, charges = desk(path)
    keys_file = tmp_path / "snmp-keys.toml"
    saved = mode.save(TESS, {**V3, "printer.snmp.keys_file": str(keys_file),
                             "printer.snmp.auth_key": "auth-secret-1",
                             "printer.snmp.priv_key": "priv-secret-2"})
    assert isinstance(saved, Saved), saved
    assert ("printer.snmp.auth_key", "", "***") in saved.changes
    assert keys_file.stat().st_mode & 0o777 == 0o600
    config = load_checked_config(path)
    keys = read_snmp_v3_keys(config.printer.snmp)
    assert (keys.auth_key, keys.priv_key) == ("auth-secret-1", "priv-secret-2")
    assert "secret" not in path.read_text() and "secret" not in str(charges.outbox.pending())
    shown = {value.spec.key: value.value for value in mode.settings()}
    assert shown["printer.snmp.auth_key"] == "set" == shown["printer.snmp.priv_key"]
    only_key = mode.save(TESS, {"printer.snmp.priv_key": "priv-secret-3"})
    assert isinstance(only_key, Saved)
    assert only_key.changes == (("printer.snmp.priv_key", "***", "***"),)
    assert keys_file.read_text() == keys_text("auth-secret-1", "priv-secret-3")


def test_a_short_snmpv3_key_is_refused_naming_the_real_keys_file(tmp_path: Path) -> None:
    path = kiosk_file(tmp_path)
    mode, _ = desk(path)
    keys_file = tmp_path / "snmp-keys.toml"
    before = path.read_text()
    refused = mode.save(TESS, {**V3, "printer.snmp.keys_file": str(keys_file),
                               "printer.snmp.auth_key": "short", "printer.snmp.priv_key":
                               "long-enough-key"})
    assert isinstance(refused, SaveRefused)
    assert refused.problems == (f"{keys_file}: auth_key: has 5 characters; SNMPv3 needs at "
                                "least 8 (RFC 3414)",)
    assert not keys_file.exists() and path.read_text() == before
    no_file = mode.save(TESS, {"printer.snmp.auth_key": "long-enough-key"})
    assert isinstance(no_file, SaveRefused)
    assert no_file.problems[0].startswith("kiosk.toml: printer.snmp.keys_file: not set")
