"""Turn the key events a keyboard-wedge card reader sends into card reads.

A wedge reader is a USB keyboard that types the card number. This decoder is pure: it takes
any iterable of InputEvent-like items (evdev's ``InputEvent`` or ``(sec, usec, type, code,
value)`` tuples) and knows nothing about devices, so it is tested with recorded or
synthesised streams on machines without ``/dev/uinput``.

Rules, each there so that one user's keystrokes never become part of another user's card:

* A read ends at the terminator key (``enter`` or ``tab``); with ``terminator = "none"`` it
  ends when no key came for ``pause_s`` seconds.
* With a terminator, a partial read followed by a pause longer than ``pause_s`` is stale (a
  card pulled away mid-read, a glitch) and is discarded, so the next card starts afresh.
* An unknown key, or more than ``max_length`` characters, spoils the read until its end.
* The reader's own prefix and suffix characters are stripped when present.

Keys map with the US layout, which is what readers emulate unless configured otherwise.
Event codes are the kernel's stable ABI values (linux/input-event-codes.h), so this module
does not need evdev installed.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Literal, Protocol

log = logging.getLogger(__name__)

EV_SYN = 0x00
EV_KEY = 0x01
EV_MSC = 0x04
KEY_UP, KEY_DOWN, KEY_REPEAT = 0, 1, 2

KEY_TAB = 15
KEY_ENTER = 28
KEY_KPENTER = 96
KEY_LEFTSHIFT = 42
KEY_RIGHTSHIFT = 54
_SHIFTS = frozenset({KEY_LEFTSHIFT, KEY_RIGHTSHIFT})
_TERMINATORS = {"enter": frozenset({KEY_ENTER, KEY_KPENTER}), "tab": frozenset({KEY_TAB})}

# code -> (character, character with shift)
_US_KEYS: dict[int, tuple[str, str]] = {
    2: ("1", "!"), 3: ("2", "@"), 4: ("3", "#"), 5: ("4", "$"), 6: ("5", "%"),
    7: ("6", "^"), 8: ("7", "&"), 9: ("8", "*"), 10: ("9", "("), 11: ("0", ")"),
    12: ("-", "_"), 13: ("=", "+"), 39: (";", ":"), 40: ("'", '"'), 41: ("`", "~"),
    43: ("\\", "|"), 26: ("[", "{"), 27: ("]", "}"), 51: (",", "<"), 52: (".", ">"),
    53: ("/", "?"), 57: (" ", " "),
    71: ("7", "7"), 72: ("8", "8"), 73: ("9", "9"), 75: ("4", "4"), 76: ("5", "5"),
    77: ("6", "6"), 79: ("1", "1"), 80: ("2", "2"), 81: ("3", "3"), 82: ("0", "0"),
    74: ("-", "-"), 78: ("+", "+"), 55: ("*", "*"), 83: (".", "."),
}
_LETTER_CODES = {
    "q": 16, "w": 17, "e": 18, "r": 19, "t": 20, "y": 21, "u": 22, "i": 23, "o": 24,
    "p": 25, "a": 30, "s": 31, "d": 32, "f": 33, "g": 34, "h": 35, "j": 36, "k": 37,
    "l": 38, "z": 44, "x": 45, "c": 46, "v": 47, "b": 48, "n": 49, "m": 50,
}
_US_KEYS.update({code: (letter, letter.upper()) for letter, code in _LETTER_CODES.items()})

Terminator = Literal["enter", "tab", "none"]


class InputEventLike(Protocol):
    """The attributes of evdev's ``InputEvent`` that the decoder reads."""

    sec: int
    usec: int
    type: int
    code: int
    value: int


EventItem = InputEventLike | tuple[int, int, int, int, int]


@dataclass(frozen=True)
class Key:
    """One event reduced to what matters: when, which key code, and up/down/repeat."""

    at: float
    code: int
    value: int


def as_key(event: EventItem) -> Key | None:
    """The key event in ``event``, or None for SYN, MSC_SCAN and every other event type."""
    if isinstance(event, tuple):
        sec, usec, ev_type, code, value = event
    else:
        sec, usec, ev_type, code, value = (
            event.sec, event.usec, event.type, event.code, event.value
        )
    if ev_type != EV_KEY:
        return None
    return Key(sec + usec / 1_000_000, code, value)


class WedgeDecoder:
    """Stateful decoder: :meth:`feed` events in order, call :meth:`idle` when none come."""

    def __init__(
        self,
        *,
        terminator: Terminator = "enter",
        pause_s: float = 0.5,
        prefix: str = "",
        suffix: str = "",
        max_length: int = 64,
    ) -> None:
        if terminator not in ("enter", "tab", "none"):
            raise ValueError(f"terminator {terminator!r} is not one of 'enter', 'tab', 'none'")
        if pause_s <= 0:
            raise ValueError(f"pause_s {pause_s!r} is not a positive number of seconds")
        self._terminator_keys = _TERMINATORS.get(terminator, frozenset())
        self._pause_s = pause_s
        self._prefix = prefix
        self._suffix = suffix
        self._max_length = max_length
        self._shift: set[int] = set()
        self._buffer: list[str] = []
        self._spoilt = False
        self._last_key_at: float | None = None

    def reset(self) -> None:
        """Forget any partial read (device reopened, session ended)."""
        self._buffer.clear()
        self._spoilt = False
        self._shift.clear()
        self._last_key_at = None

    def decode(self, events: Iterable[EventItem]) -> Iterator[str]:
        """Every completed read in ``events``, in order (a trailing partial read is kept)."""
        for event in events:
            read = self.feed(event)
            if read is not None:
                yield read

    def feed(self, event: EventItem) -> str | None:
        """Process one event; the completed card read it ends, if any."""
        key = as_key(event)
        if key is None:
            return None
        if key.code in _SHIFTS:
            if key.value == KEY_UP:
                self._shift.discard(key.code)
            else:
                self._shift.add(key.code)
            return None
        if key.value != KEY_DOWN:
            return None  # key up carries nothing; auto-repeat means a stuck key, not a card
        completed = self._after_pause(key.at)
        self._last_key_at = key.at
        if key.code in self._terminator_keys:
            return self._finish()
        chars = _US_KEYS.get(key.code)
        if chars is None:
            log.debug("wedge reader sent key code %d, which no card number contains", key.code)
            self._spoilt = True
        else:
            self._buffer.append(chars[1] if self._shift else chars[0])
            if len(self._buffer) > self._max_length:
                self._spoilt = True
        return completed

    def idle(self, now: float) -> str | None:
        """Called when no event came: ends a read (no terminator) or discards a stale one."""
        return self._after_pause(now)

    def _after_pause(self, now: float) -> str | None:
        if self._last_key_at is None or now - self._last_key_at <= self._pause_s:
            return None
        self._last_key_at = None
        if not self._terminator_keys:
            return self._finish()
        if self._buffer:
            log.info("discarding a partial card read of %d characters", len(self._buffer))
        self._discard()
        return None

    def _finish(self) -> str | None:
        text = "".join(self._buffer)
        spoilt = self._spoilt
        self._discard()
        if spoilt:
            log.info("discarding a card read that contained unexpected keys or was too long")
            return None
        if self._prefix and text.startswith(self._prefix):
            text = text[len(self._prefix) :]
        if self._suffix and text.endswith(self._suffix):
            text = text[: -len(self._suffix)]
        return text or None

    def _discard(self) -> None:
        self._buffer.clear()
        self._spoilt = False
