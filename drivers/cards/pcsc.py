"""PC/SC contactless readers through pyscard: card UID, card type from the ATR, hotplug.

One background thread per reader object runs the classic PC/SC loop on pyscard's
``smartcard.scard`` layer: ``SCardGetStatusChange`` over every reader plus the
``\\\\?PnP?\\Notification`` pseudo-reader, so readers plugged or unplugged and cards put on
or taken off all wake the same wait. pyscard's ``CardMonitor`` / ``ReaderMonitor`` were not
used: they are process-wide singletons whose threads cannot be stopped per consumer, and
the card-monitor thread stops for good on ``SCARD_E_NO_SERVICE``, so a kiosk would go deaf
after pcscd restarts (Debian's socket-activated pcscd exits when idle). This loop instead
re-establishes its context and reports the readers lost and found again.

For each card put on a reader it sends ``FF CA 00 00 00`` (PC/SC part 3 "get data: UID"),
names the card from its ATR with an :class:`~drivers.cards.atr.AtrList`, and reports the
UID as upper-case hex, bytes in the order the reader sends them. The same card within
``debounce_s`` is reported once.

pyscard is imported inside the functions that use it: importing this module needs neither
pyscard nor pcscd, and never opens the pcscd socket.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from drivers.cards.atr import AtrList
from drivers.cards.events import (
    CardRead,
    ChangeReporter,
    Debouncer,
    EventCallback,
    ReadCallback,
    ReaderChange,
    ReaderThread,
    deliver,
)

log = logging.getLogger(__name__)

GET_UID = [0xFF, 0xCA, 0x00, 0x00, 0x00]
PNP_READER = "\\\\?PnP?\\Notification"
_WAIT_MS = 500
_RETRY_S = 1.0

# (response data, SW1, SW2) for one command APDU
Transmit = Callable[[list[int]], tuple[list[int], int, int]]


class PcscError(RuntimeError):
    """A PC/SC call failed; carries pcsc-lite's code and message."""

    def __init__(self, call: str, code: int, message: str) -> None:
        super().__init__(f"{call} failed: {message} (0x{code & 0xFFFFFFFF:08X})")
        self.code = code


def read_uid(transmit: Transmit) -> str | None:
    """The card's UID as upper-case hex, or None when the card has none to give (SW != 90 00).

    Kept apart from the reader loop so it can be checked at the APDU level, card by card.
    """
    data, sw1, sw2 = transmit(list(GET_UID))
    if (sw1, sw2) != (0x90, 0x00) or not data:
        log.info("card answered %02X %02X to GET UID", sw1, sw2)
        return None
    return bytes(data).hex().upper()


class PcscCardReader:
    """Card reads from every PC/SC reader (or those whose name contains ``reader_filter``)."""

    def __init__(
        self,
        *,
        atr_list: AtrList | None = None,
        debounce_s: float = 2.0,
        reader_filter: str | None = None,
        on_change: EventCallback | None = None,
    ) -> None:
        self._atr_list = atr_list
        self._debouncer = Debouncer(debounce_s)
        self._reader_filter = reader_filter
        self._change = ChangeReporter(on_change)
        self._worker = ReaderThread("pcsc-card-reader", "PC/SC card reader")
        self._stop = self._worker.stopping
        self._context: int | None = None
        self._context_lock = threading.Lock()

    @staticmethod
    def is_usable() -> bool:
        """True when pyscard imports and pcscd answers (this connects to pcscd's socket)."""
        try:
            from smartcard import scard
        except ImportError:
            return False
        result, context = scard.SCardEstablishContext(scard.SCARD_SCOPE_USER)
        if result != scard.SCARD_S_SUCCESS:
            return False
        scard.SCardReleaseContext(context)
        return True

    def start(self, on_read: ReadCallback) -> None:
        self._worker.start(lambda: self._run(on_read))

    def stop(self) -> None:
        self._worker.stop(wake=self._cancel_wait)

    def _cancel_wait(self) -> None:
        """Wake ``SCardGetStatusChange`` at once instead of at the end of its timeout."""
        with self._context_lock:
            if self._context is not None:
                from smartcard import scard

                scard.SCardCancel(self._context)

    def _run(self, on_read: ReadCallback) -> None:
        from smartcard import scard

        while not self._stop.is_set():
            result, context = scard.SCardEstablishContext(scard.SCARD_SCOPE_USER)
            if result != scard.SCARD_S_SUCCESS:
                log.debug("pcscd unavailable: %s", scard.SCardGetErrorMessage(result))
                self._stop.wait(_RETRY_S)
                continue
            with self._context_lock:
                self._context = context
            watch = _ContextWatch(
                context,
                self._stop,
                self._reader_filter,
                self._change,
                lambda reader, uid, atr: self._card(reader, uid, atr, on_read),
            )
            try:
                watch.run()
            finally:
                with self._context_lock:
                    self._context = None
                scard.SCardReleaseContext(context)
            if not self._stop.is_set():
                self._stop.wait(_RETRY_S)

    def _card(self, reader: str, uid: str, atr: bytes, on_read: ReadCallback) -> None:
        if not self._debouncer.accept(uid):
            return
        card_type = self._atr_list.card_type(atr) if self._atr_list is not None and atr else None
        deliver(on_read, CardRead(raw=uid, reader=reader, card_type=card_type, at=time.time()))


class _ContextWatch:
    """The wait loop of one PC/SC context; returns when the context is no longer usable.

    It tracks readers and card presence and reads UIDs; what to do with a UID (debounce,
    naming, delivery) stays with :class:`PcscCardReader`.
    """

    def __init__(
        self,
        context: int,
        stop: threading.Event,
        reader_filter: str | None,
        report: Callable[[ReaderChange, str, str], None],
        on_uid: Callable[[str, str, bytes], None],
    ) -> None:
        self._context = context
        self._stop = stop
        self._reader_filter = reader_filter
        self._report = report
        self._on_uid = on_uid
        self._states: dict[str, int] = {}  # reader -> last event state

    def run(self) -> None:
        from smartcard import scard

        pnp_state = 0
        try:
            while not self._stop.is_set():
                self._sync_readers(self._list_readers())
                wanted = [(name, state) for name, state in self._states.items()]
                wanted.append((PNP_READER, pnp_state))
                result, new_states = scard.SCardGetStatusChange(self._context, _WAIT_MS, wanted)
                if result in (scard.SCARD_E_TIMEOUT, scard.SCARD_E_CANCELLED):
                    continue
                if result == scard.SCARD_E_UNKNOWN_READER:
                    continue  # a reader vanished between listing and waiting: list again
                _check("SCardGetStatusChange", result)
                for name, event_state, atr in new_states:
                    if name == PNP_READER:
                        pnp_state = event_state & ~scard.SCARD_STATE_CHANGED
                    else:
                        self._reader_changed(name, event_state, bytes(atr))
        except PcscError as exc:
            log.warning("PC/SC: %s; reconnecting to pcscd", exc)
            self._report(ReaderChange.SERVICE_LOST, "", str(exc))
            self._sync_readers([])

    def _list_readers(self) -> list[str]:
        from smartcard import scard

        result, readers = scard.SCardListReaders(self._context, [])
        if result == scard.SCARD_E_NO_READERS_AVAILABLE:
            return []
        _check("SCardListReaders", result)
        part = self._reader_filter
        return [name for name in readers if part is None or part in name]

    def _sync_readers(self, readers: list[str]) -> None:
        from smartcard import scard

        for gone in [name for name in self._states if name not in readers]:
            if self._states.pop(gone) & scard.SCARD_STATE_PRESENT:
                self._report(ReaderChange.CARD_REMOVED, gone, "")
            self._report(ReaderChange.READER_REMOVED, gone, "")
        for name in readers:
            if name not in self._states:
                self._states[name] = scard.SCARD_STATE_UNAWARE
                self._report(ReaderChange.READER_ADDED, name, "")

    def _reader_changed(self, name: str, event_state: int, atr: bytes) -> None:
        from smartcard import scard

        if name not in self._states:
            return
        before = self._states[name]
        self._states[name] = event_state & ~scard.SCARD_STATE_CHANGED
        was_present = bool(before & scard.SCARD_STATE_PRESENT)
        is_present = bool(event_state & scard.SCARD_STATE_PRESENT)
        if is_present and not was_present:
            self._report(ReaderChange.CARD_INSERTED, name, atr.hex(" ").upper())
            if not event_state & scard.SCARD_STATE_MUTE:
                self._read_card(name, atr)
        elif was_present and not is_present:
            self._report(ReaderChange.CARD_REMOVED, name, "")

    def _read_card(self, name: str, atr: bytes) -> None:
        try:
            uid = self._uid(name)
        except PcscError as exc:
            self._report(ReaderChange.CARD_UNREADABLE, name, str(exc))
            return
        if uid is None:
            self._report(ReaderChange.CARD_UNREADABLE, name, "no UID (GET DATA refused)")
            return
        self._on_uid(name, uid, atr)

    def _uid(self, name: str) -> str | None:
        from smartcard import scard

        result, card, protocol = scard.SCardConnect(
            self._context,
            name,
            scard.SCARD_SHARE_SHARED,
            scard.SCARD_PROTOCOL_T0 | scard.SCARD_PROTOCOL_T1,
        )
        _check("SCardConnect", result)
        try:

            def transmit(apdu: list[int]) -> tuple[list[int], int, int]:
                code, response = scard.SCardTransmit(card, protocol, apdu)
                _check("SCardTransmit", code)
                return _split_status(response)

            return read_uid(transmit)
        finally:
            scard.SCardDisconnect(card, scard.SCARD_LEAVE_CARD)


def _split_status(response: list[int]) -> tuple[list[int], int, int]:
    if len(response) < 2:
        raise PcscError("SCardTransmit", 0, f"response {response!r} has no status word")
    return list(response[:-2]), response[-2], response[-1]


def _check(call: str, result: Any) -> None:
    from smartcard import scard

    if result != scard.SCARD_S_SUCCESS:
        raise PcscError(call, int(result), scard.SCardGetErrorMessage(result))
