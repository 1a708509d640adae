"""Card readers for the kiosk: PC/SC, keyboard-wedge (evdev) and a simulated reader.

A standalone library with its own types. Every adapter has ``start(on_read)`` / ``stop()``
and calls ``on_read(CardRead)`` from its own thread (:mod:`drivers.cards.events`);
:class:`NormalisedCardReader` turns raw reads into card numbers with a
:class:`NormalisationRule`, and :func:`reader_from_config` builds one from the terminal's
``[card_reader]`` table. Importing this package never opens a device or a socket and works
without pyscard, evdev or pcscd: each adapter says whether it can run here with
``is_usable()``. See docs/card-readers.md.
"""

from drivers.cards.atr import AtrEntry, AtrList
from drivers.cards.configured import NormalisedCardReader, reader_from_config
from drivers.cards.derive import Derivation, derive_rule
from drivers.cards.errors import CardConfigError, CardNumberError, NoRuleFits
from drivers.cards.events import CardRead, CardSource, ReaderChange, ReaderEvent
from drivers.cards.normalise import NormalisationRule, rule_from_config
from drivers.cards.pcsc import PcscCardReader
from drivers.cards.simulated import SimulatedCardReader
from drivers.cards.wedge import WedgeCardReader
from drivers.cards.wedge_decoder import WedgeDecoder

__all__ = [
    "AtrEntry",
    "AtrList",
    "CardConfigError",
    "CardNumberError",
    "CardRead",
    "CardSource",
    "Derivation",
    "NoRuleFits",
    "NormalisationRule",
    "NormalisedCardReader",
    "PcscCardReader",
    "ReaderChange",
    "ReaderEvent",
    "SimulatedCardReader",
    "WedgeCardReader",
    "WedgeDecoder",
    "derive_rule",
    "reader_from_config",
    "rule_from_config",
]
