"""Build the configured reader from the terminal's ``[card_reader]`` table.

The terminal wants card *numbers*; adapters give raw reads. :class:`NormalisedCardReader`
joins one adapter with its normalisation rule and offers ``start(on_card: str -> None)`` /
``stop()``, the shape of the terminal's ``CardReader`` port. :func:`reader_from_config`
validates the table strictly (an unknown key, or a key of another reader type, is an
error naming the key, the value and what is allowed) and constructs without opening
anything: devices, sockets and pcscd are touched only by ``start()``.

Keys: ``type`` (pcsc | wedge | simulated), ``debounce_s``, ``normalise`` (a table, see
:mod:`drivers.cards.normalise`); for pcsc ``atr_list``, ``reader_filter``; for wedge
``device`` (required), ``terminator``, ``pause_s``, ``prefix``, ``suffix``; for simulated
``fifo`` or ``socket``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from drivers.cards.atr import AtrList
from drivers.cards.errors import CardConfigError, CardNumberError
from drivers.cards.events import CardRead, CardSource, EventCallback, deliver
from drivers.cards.normalise import NormalisationRule, rule_from_config
from drivers.cards.pcsc import PcscCardReader
from drivers.cards.simulated import SimulatedCardReader
from drivers.cards.wedge import WedgeCardReader

log = logging.getLogger(__name__)

_COMMON = {"type", "debounce_s", "normalise"}
_BY_TYPE = {
    "pcsc": {"atr_list", "reader_filter"},
    "wedge": {"device", "terminator", "pause_s", "prefix", "suffix"},
    "simulated": {"fifo", "socket"},
}
MAX_DEBOUNCE_S = 60.0
MAX_PAUSE_S = 10.0


class NormalisedCardReader:
    """An adapter plus its rule: reports card numbers, as the terminal's port expects."""

    def __init__(
        self,
        source: CardSource,
        rule: NormalisationRule,
        on_rejected: Callable[[CardNumberError], None] | None = None,
    ) -> None:
        self.source = source
        self.rule = rule
        self._on_rejected = on_rejected

    def start(self, on_card: Callable[[str], None]) -> None:
        def on_read(read: CardRead) -> None:
            try:
                number = self.rule.apply(read.raw)
            except CardNumberError as exc:
                log.warning("card from %s not understood: %s", read.reader, exc)
                if self._on_rejected is not None:
                    deliver(self._on_rejected, exc)
                return
            on_card(number)

        self.source.start(on_read)

    def stop(self) -> None:
        self.source.stop()


def reader_from_config(
    config: Mapping[str, Any],
    *,
    section: str = "card_reader",
    on_change: EventCallback | None = None,
    on_rejected: Callable[[CardNumberError], None] | None = None,
) -> NormalisedCardReader:
    """The reader the table describes, not yet started."""
    kind = config.get("type", "simulated")
    if kind not in _BY_TYPE:
        raise CardConfigError(f"{section}.type", kind, 'is not one of "pcsc", "wedge", "simulated"')
    for key, value in config.items():
        if key in _COMMON or key in _BY_TYPE[kind]:
            continue
        owner = next((name for name, keys in _BY_TYPE.items() if key in keys), None)
        if owner is None:
            known = sorted(_COMMON.union(*_BY_TYPE.values()))
            raise CardConfigError(
                f"{section}.{key}", value, f"is not a known key ({', '.join(known)})"
            )
        raise CardConfigError(
            f"{section}.{key}", value, f'applies only to type = "{owner}", not "{kind}"'
        )
    debounce_s = _seconds(config, "debounce_s", section, 2.0, 0.0, MAX_DEBOUNCE_S)
    normalise = config.get("normalise", {})
    if not isinstance(normalise, Mapping):
        raise CardConfigError(f"{section}.normalise", normalise, "is not a table")
    rule = rule_from_config(normalise, f"{section}.normalise")
    source: CardSource
    if kind == "pcsc":
        source = PcscCardReader(
            atr_list=_atr_list(config, section),
            debounce_s=debounce_s,
            reader_filter=_text(config, "reader_filter", section),
            on_change=on_change,
        )
    elif kind == "wedge":
        device = _text(config, "device", section)
        if device is None:
            raise CardConfigError(
                f"{section}.device",
                None,
                "is required for a wedge reader (path, vendor:product or name)",
            )
        terminator = config.get("terminator", "enter")
        if terminator not in ("enter", "tab", "none"):
            raise CardConfigError(
                f"{section}.terminator", terminator, 'is not one of "enter", "tab", "none"'
            )
        source = WedgeCardReader(
            device,
            terminator=terminator,
            pause_s=_seconds(config, "pause_s", section, 0.5, 0.05, MAX_PAUSE_S),
            prefix=_text(config, "prefix", section, allow_empty=True) or "",
            suffix=_text(config, "suffix", section, allow_empty=True) or "",
            debounce_s=debounce_s,
            on_change=on_change,
        )
    else:
        fifo, sock = _text(config, "fifo", section), _text(config, "socket", section)
        if fifo and sock:
            raise CardConfigError(f"{section}.socket", sock, "cannot be set together with fifo")
        source = SimulatedCardReader(
            fifo or sock, kind="socket" if sock else "fifo", debounce_s=debounce_s
        )
    return NormalisedCardReader(source, rule, on_rejected)


def _text(
    config: Mapping[str, Any], key: str, section: str, allow_empty: bool = False
) -> str | None:
    value = config.get(key)
    if value is None:
        return None
    if not isinstance(value, str) or (not value and not allow_empty):
        raise CardConfigError(f"{section}.{key}", value, "is not a non-empty text string")
    return value


def _seconds(
    config: Mapping[str, Any], key: str, section: str, default: float, low: float, high: float
) -> float:
    value = config.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int | float) or not low <= value <= high:
        raise CardConfigError(
            f"{section}.{key}", value, f"is not a number of seconds between {low:g} and {high:g}"
        )
    return float(value)


def _atr_list(config: Mapping[str, Any], section: str) -> AtrList | None:
    path = _text(config, "atr_list", section)
    if path is None:
        return None
    try:
        return AtrList.from_file(Path(path))
    except OSError as exc:
        raise CardConfigError(
            f"{section}.atr_list", path, f"cannot be read: {exc.strerror}"
        ) from exc
    except ValueError as exc:
        raise CardConfigError(f"{section}.atr_list", path, f"is not an ATR list: {exc}") from exc
