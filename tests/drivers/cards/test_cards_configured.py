"""Building readers from the terminal's [card_reader] table, and the import guards."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

from drivers.cards import (
    CardConfigError,
    NormalisationRule,
    PcscCardReader,
    SimulatedCardReader,
    WedgeCardReader,
    reader_from_config,
)
from drivers.cards.errors import CardNumberError

REPO = Path(__file__).resolve().parents[3]
ATR_LIST = REPO / ".." / "shared" / "corpus" / "cards" / "smartcard_list.txt"


def test_simulated_reader_reports_normalised_numbers() -> None:
    reader = reader_from_config(
        {"type": "simulated", "debounce_s": 0,
         "normalise": {"input": "dec", "reverse_bytes": True, "bytes": 4}}
    )
    assert isinstance(reader.source, SimulatedCardReader)
    numbers: list[str] = []
    reader.start(numbers.append)
    reader.source.present("3283263748")
    reader.source.present("not a number")  # rejected, not delivered
    reader.stop()
    assert numbers == ["04A1B2C3"]


def test_rejected_reads_are_reported() -> None:
    rejected: list[CardNumberError] = []
    reader = reader_from_config({"normalise": {"input": "dec"}}, on_rejected=rejected.append)
    reader.start(lambda number: None)
    assert isinstance(reader.source, SimulatedCardReader)
    reader.source.present("04A1")
    reader.stop()
    assert [error.raw for error in rejected] == ["04A1"]


def test_pcsc_and_wedge_are_built_without_touching_anything() -> None:
    if not ATR_LIST.exists():
        pytest.skip("corpus absent")
    pcsc = reader_from_config({"type": "pcsc", "atr_list": str(ATR_LIST), "debounce_s": 2})
    assert isinstance(pcsc.source, PcscCardReader)
    assert pcsc.rule == NormalisationRule()
    wedge = reader_from_config(
        {"type": "wedge", "device": "HID c216:0180", "terminator": "none", "pause_s": 0.2,
         "prefix": ";", "suffix": "?", "normalise": {"input": "dec", "output": "dec"}}
    )
    assert isinstance(wedge.source, WedgeCardReader)
    assert wedge.rule == NormalisationRule(input="dec", output="dec")


@pytest.mark.parametrize(
    ("config", "key", "expected"),
    [
        ({"type": "nfc"}, "card_reader.type", 'is not one of "pcsc", "wedge", "simulated"'),
        ({"type": "pcsc", "colour": 1}, "card_reader.colour", "is not a known key"),
        ({"type": "pcsc", "device": "x"}, "card_reader.device", 'applies only to type = "wedge"'),
        ({"type": "wedge"}, "card_reader.device", "is required for a wedge reader"),
        ({"type": "wedge", "device": "x", "terminator": "cr"}, "card_reader.terminator",
         'is not one of "enter", "tab", "none"'),
        ({"type": "wedge", "device": "x", "pause_s": 0}, "card_reader.pause_s",
         "is not a number of seconds between 0.05 and 10"),
        ({"debounce_s": "2"}, "card_reader.debounce_s", "is not a number of seconds"),
        ({"debounce_s": 61}, "card_reader.debounce_s", "between 0 and 60"),
        ({"normalise": {"input": "oct"}}, "card_reader.normalise.input", 'is not one of "hex"'),
        ({"normalise": "hex"}, "card_reader.normalise", "is not a table"),
        ({"type": "pcsc", "atr_list": "/nonexistent/list.txt"}, "card_reader.atr_list",
         "cannot be read: No such file or directory"),
        ({"fifo": "/tmp/a", "socket": "/tmp/b"}, "card_reader.socket", "together with fifo"),
    ],
)
def test_bad_tables_name_key_value_and_expectation(
    config: dict[str, Any], key: str, expected: str
) -> None:
    with pytest.raises(CardConfigError) as caught:
        reader_from_config(config)
    assert caught.value.key == key
    assert expected in caught.value.expected


def test_package_imports_without_vendor_libraries_or_devices() -> None:
    """With pyscard and evdev unimportable, the package imports and the adapters say no."""
    script = textwrap.dedent(
        """
        import builtins, os, sys
        real_import = builtins.__import__
        def guarded(name, *args, **kwargs):
            if name.split(".")[0] in ("smartcard", "evdev"):
                raise ImportError(f"{name} blocked for this test")
            return real_import(name, *args, **kwargs)
        builtins.__import__ = guarded
        real_open = os.open
        def no_devices(path, *args, **kwargs):
            if str(path).startswith(("/dev/", "/run/pcscd")):
                raise AssertionError(f"import opened {path}")
            return real_open(path, *args, **kwargs)
        os.open = no_devices
        import drivers.cards as cards
        assert not any(m.split(".")[0] in ("smartcard", "evdev") for m in sys.modules)
        print(cards.PcscCardReader.is_usable(), cards.WedgeCardReader.is_usable(),
              cards.SimulatedCardReader.is_usable())
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=REPO, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["False", "False", "True"]
