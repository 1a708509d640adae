"""The wedge decoder on synthesised evdev streams (this machine has no /dev/uinput).

Streams are built the way the kernel reports a USB HID keyboard: for every key an
EV_MSC/MSC_SCAN with the HID usage, EV_KEY down, SYN_REPORT, then MSC_SCAN, EV_KEY up,
SYN_REPORT; shifted characters are wrapped in KEY_LEFTSHIFT down/up. Key codes come from
evdev's own ``ecodes`` table, not from the decoder, so a wrong table in the decoder fails.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

import pytest

from drivers.cards.wedge_decoder import EventItem, WedgeDecoder

pytest.importorskip("evdev")
from evdev import InputEvent, ecodes

SHIFTED = {'!': "1", "@": "2", "#": "3", "$": "4", "%": "5", "^": "6", "&": "7", "*": "8",
           "(": "9", ")": "0", "_": "MINUS", "+": "EQUAL", ":": "SEMICOLON", "?": "SLASH"}
PLAIN = {"-": "MINUS", "=": "EQUAL", ";": "SEMICOLON", "/": "SLASH", ".": "DOT",
         ",": "COMMA", " ": "SPACE", "\n": "ENTER", "\t": "TAB"}
KEY_GAP_S = 0.008  # a fast reader: 8 ms between keys


class Typist:
    """Builds the event stream of a reader typing text, with a running clock."""

    def __init__(self, start: float = 1_700_000_000.0) -> None:
        self.now = start

    def _event(self, ev_type: int, code: int, value: int) -> InputEvent:
        sec = int(self.now)
        return InputEvent(sec, round((self.now - sec) * 1_000_000), ev_type, code, value)

    def _press(self, name: str, value: int) -> Iterator[InputEvent]:
        code = ecodes.ecodes[f"KEY_{name}"]
        yield self._event(ecodes.EV_MSC, ecodes.MSC_SCAN, 0x70000 + code)
        yield self._event(ecodes.EV_KEY, code, value)
        yield self._event(ecodes.EV_SYN, ecodes.SYN_REPORT, 0)

    def key(self, name: str, shift: bool = False) -> list[InputEvent]:
        events: list[InputEvent] = []
        if shift:
            events += self._press("LEFTSHIFT", 1)
        events += self._press(name, 1)
        events += self._press(name, 0)
        if shift:
            events += self._press("LEFTSHIFT", 0)
        self.now += KEY_GAP_S
        return events

    def type(self, text: str) -> list[InputEvent]:
        events: list[InputEvent] = []
        for char in text:
            if char in SHIFTED:
                events += self.key(SHIFTED[char], shift=True)
            elif char in PLAIN:
                events += self.key(PLAIN[char])
            elif char.isupper():
                events += self.key(char, shift=True)
            else:
                events += self.key(char.upper())
        return events

    def pause(self, seconds: float) -> None:
        self.now += seconds


def reads(decoder: WedgeDecoder, events: Sequence[EventItem]) -> list[str]:
    return list(decoder.decode(events))


def test_decimal_read_ends_at_enter() -> None:
    typist = Typist()
    assert reads(WedgeDecoder(), typist.type("3283263748\n")) == ["3283263748"]


def test_hex_letters_with_and_without_shift() -> None:
    typist = Typist()
    events = typist.type("04A1B2C3\n") + typist.type("04a1b2c3\n")
    assert reads(WedgeDecoder(), events) == ["04A1B2C3", "04a1b2c3"]


def test_shifted_symbols_and_keypad_digits() -> None:
    typist = Typist()
    events = typist.type("%B12^?\n")
    events += typist.key("KP1") + typist.key("KP2") + typist.key("KPENTER")
    assert reads(WedgeDecoder(), events) == ["%B12^?", "12"]


def test_right_shift_counts_too() -> None:
    typist = Typist()
    events = [*typist._press("RIGHTSHIFT", 1), *typist.key("A"), *typist._press("RIGHTSHIFT", 0)]
    events += typist.key("B") + typist.key("ENTER")
    assert reads(WedgeDecoder(), events) == ["Ab"]


def test_tab_terminator() -> None:
    typist = Typist()
    decoder = WedgeDecoder(terminator="tab")
    assert reads(decoder, typist.type("1234\t")) == ["1234"]


def test_prefix_and_suffix_are_stripped() -> None:
    typist = Typist()
    decoder = WedgeDecoder(prefix=";", suffix="?")
    assert reads(decoder, typist.type(";0012345?\n") + typist.type("777\n")) == ["0012345", "777"]


def test_pause_ends_a_read_without_terminator() -> None:
    typist = Typist()
    decoder = WedgeDecoder(terminator="none", pause_s=0.3)
    first = typist.type("1111")
    typist.pause(0.5)
    second = typist.type("2222")
    assert reads(decoder, first + second) == ["1111"]
    assert decoder.idle(typist.now + 0.1) is None  # still within the pause
    assert decoder.idle(typist.now + 0.4) == "2222"
    assert decoder.idle(typist.now + 5) is None  # nothing left to complete


def test_stalled_partial_read_is_discarded_and_never_completes_the_next_one() -> None:
    typist = Typist()
    decoder = WedgeDecoder(pause_s=0.3)
    stale = typist.type("1234")  # first user's card pulled away mid-read
    typist.pause(2.0)
    fresh = typist.type("99887766\n")  # next user's card
    assert reads(decoder, stale + fresh) == ["99887766"]


def test_idle_discards_a_stalled_read_before_the_next_user_types() -> None:
    typist = Typist()
    decoder = WedgeDecoder(pause_s=0.3)
    assert reads(decoder, typist.type("1234")) == []
    typist.pause(1.0)
    assert decoder.idle(typist.now) is None
    assert reads(decoder, typist.type("\n")) == []  # a lone Enter is no card
    assert reads(decoder, typist.type("5678\n")) == ["5678"]


def test_a_slow_but_steady_reader_is_not_cut() -> None:
    typist = Typist()
    decoder = WedgeDecoder(pause_s=0.3)
    events: list[InputEvent] = []
    for char in "04A1B2C3":
        events += typist.type(char)
        typist.pause(0.25)
    events += typist.type("\n")
    assert reads(decoder, events) == ["04A1B2C3"]


def test_unknown_key_spoils_only_its_own_read() -> None:
    typist = Typist()
    events = typist.type("12") + typist.key("F5") + typist.type("34\n") + typist.type("56\n")
    assert reads(WedgeDecoder(), events) == ["56"]


def test_overlong_input_is_dropped() -> None:
    typist = Typist()
    decoder = WedgeDecoder(max_length=8)
    assert reads(decoder, typist.type("123456789\n") + typist.type("12345678\n")) == ["12345678"]


def test_autorepeat_is_not_a_character() -> None:
    typist = Typist()
    events = typist.key("1")
    events.insert(2, typist._event(ecodes.EV_KEY, ecodes.KEY_1, 2))
    assert reads(WedgeDecoder(), events + typist.type("2\n")) == ["12"]


def test_reset_forgets_the_partial_read() -> None:
    typist = Typist()
    decoder = WedgeDecoder()
    reads(decoder, typist.type("123"))
    decoder.reset()
    assert reads(decoder, typist.type("456\n")) == ["456"]


def test_plain_tuples_are_accepted() -> None:
    typist = Typist()
    tuples = [(e.sec, e.usec, e.type, e.code, e.value) for e in typist.type("42\n")]
    assert reads(WedgeDecoder(), tuples) == ["42"]


@pytest.mark.parametrize(("key", "value"), [("terminator", "newline"), ("pause_s", 0)])
def test_bad_settings_are_refused(key: str, value: Any) -> None:
    with pytest.raises(ValueError, match=key):
        WedgeDecoder(**{key: value})
