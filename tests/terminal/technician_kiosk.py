"""A kiosk file for the technician tests: the shipped MFP file with the site's
addresses replaced by the test's (state directory, token file, simulated reader, SNMP
off unless asked), its comments kept, and a desk over it with a real outbox."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from terminal.charges import ChargeBook
from terminal.config_store import write_atomic
from terminal.fakes import FakeLedger, FakeTechnicianBackend
from terminal.offline import OfflinePolicy
from terminal.outbox import Outbox
from terminal.technician import DeskDevices, TechnicianMode
from terminal.technician_types import SnmpProbe, Technician
from terminal.wiring import check_kiosk_file, derive_normalisation, load_checked_config

REPO = Path(__file__).resolve().parents[2]
SHIPPED = REPO / "config" / "kiosk-mfp.toml"
TESS = Technician("tess", "Tess Technician", "card")


def kiosk_file(tmp_path: Path, **replace: str) -> Path:
    """The shipped file, with only what names this machine replaced (text edits, so the
    comments are those of the shipped file)."""
    text = SHIPPED.read_text(encoding="utf-8")
    token = tmp_path / "terminal-token"
    write_atomic(token, "demo-token\n", mode=0o600, keep_previous=False)
    edits = {
        'token_file = "/etc/printkiosk/terminal-token"': f'token_file = "{token}"',
        'type = "pcsc"              # pcsc | wedge | simulated':
            'type = "simulated"         # pcsc | wedge | simulated',
        'atr_list = "/usr/share/pcsc/smartcard_list.txt"\n': "",
        "enabled = true\nhost": "enabled = false\nhost",
        "cache_max_age_h = 72": f'cache_max_age_h = 72\nstate_dir = "{tmp_path / "state"}"',
        **replace,
    }
    for old, new in edits.items():
        assert old in text, old
        text = text.replace(old, new)
    path = tmp_path / "kiosk.toml"
    path.write_text(text, encoding="utf-8")
    return path


def desk(path: Path, backend: FakeTechnicianBackend | None = None,
         devices: DeskDevices | None = None) -> tuple[TechnicianMode, ChargeBook]:
    config = load_checked_config(path)
    charges = ChargeBook(Outbox(path.parent / "outbox.sqlite"), FakeLedger(),
                         OfflinePolicy(True, Decimal("5.00")))
    mode = TechnicianMode(
        path, config, check_kiosk_file, charges, backend or FakeTechnicianBackend(),
        devices or DeskDevices(snmp_probe=lambda: SnmpProbe("", code="snmp_disabled"),
                               derive=derive_normalisation))
    return mode, charges
