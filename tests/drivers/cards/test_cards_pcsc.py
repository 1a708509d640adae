"""PcscCardReader against a real pcscd with the vpcd virtual reader and an emulated card.

pcscd's client socket is fixed (/run/pcscd/pcscd.comm): the session fixture starts the only
pcscd, with a reader.conf naming just the vpcd readers on free ports, and stops it at the end.
Every test that needs it lives in this module: scripts/test.sh runs the suite on two
pytest-xdist workers with --dist loadfile, which keeps a module on one worker.
If pcscd cannot run here, the pcscd tests are skipped with the reason and the APDU-level
tests at the top still check the UID read against the same card emulator.
"""

from __future__ import annotations

import queue
from collections.abc import Iterator
from pathlib import Path

import pytest
from vpcd_card import Pcscd, VirtualCard, can_run_pcscd

from drivers.cards.atr import AtrList
from drivers.cards.events import CardRead, ReaderChange, ReaderEvent
from drivers.cards.pcsc import PcscCardReader, read_uid

pytest.importorskip("smartcard")

CORPUS = Path(__file__).resolve().parents[3] / ".." / "shared" / "corpus"
WAIT_S = 20  # a safety net against hanging, not a speed requirement
MIFARE_1K_ATR = bytes.fromhex("3B8F8001804F0CA000000306030001000000006A")
MIFARE_4K_ATR = bytes.fromhex("3B8F8001804F0CA0000003060300020000000069")
DESFIRE_ATR = bytes.fromhex("3B8180018080")
CONTACT_ATR = bytes.fromhex("3B02 1401".replace(" ", ""))


def emulator_transmit(card: VirtualCard):  # type: ignore[no-untyped-def]
    def transmit(apdu: list[int]) -> tuple[list[int], int, int]:
        response = card.respond(bytes(apdu))
        return list(response[:-2]), response[-2], response[-1]

    return transmit


# -- APDU level: always runs, also where pcscd cannot -------------------------------------


def test_uid_is_read_with_get_data_apdu() -> None:
    card = VirtualCard(bytes.fromhex("04A1B2C3"), MIFARE_1K_ATR)
    assert read_uid(emulator_transmit(card)) == "04A1B2C3"
    assert card.apdus == [bytes.fromhex("FFCA000000")]


def test_card_refusing_get_data_has_no_uid() -> None:
    card = VirtualCard(None, CONTACT_ATR)
    assert read_uid(emulator_transmit(card)) is None


# -- real pcscd ---------------------------------------------------------------------------


@pytest.fixture(scope="session")
def pcscd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Pcscd]:
    reason = can_run_pcscd()
    if reason is not None:
        pytest.skip(f"real pcscd not available ({reason}); APDU-level tests ran instead")
    daemon = Pcscd(tmp_path_factory.mktemp("pcscd"))
    daemon.start()
    try:
        yield daemon
    finally:
        daemon.stop()


@pytest.fixture(scope="module")
def atr_list() -> AtrList | None:
    path = CORPUS / "cards" / "smartcard_list.txt"
    return AtrList.from_file(path) if path.exists() else None


class Recorder:
    """Collects reads and reader events, and waits for them (never asserting a duration)."""

    def __init__(self) -> None:
        self.reads: queue.Queue[CardRead] = queue.Queue()
        self.events: queue.Queue[ReaderEvent] = queue.Queue()
        self.history: list[ReaderEvent] = []

    def on_change(self, event: ReaderEvent) -> None:
        self.history.append(event)
        self.events.put(event)

    def next_read(self) -> CardRead:
        return self.reads.get(timeout=WAIT_S)

    def wait_for(self, change: ReaderChange, reader: str | None = None) -> ReaderEvent:
        while True:
            event = self.events.get(timeout=WAIT_S)
            if event.change == change and (reader is None or event.reader == reader):
                return event


@pytest.fixture
def reader(pcscd: Pcscd, atr_list: AtrList | None) -> Iterator[tuple[PcscCardReader, Recorder]]:
    recorder = Recorder()
    card_reader = PcscCardReader(atr_list=atr_list, debounce_s=60, on_change=recorder.on_change)
    card_reader.start(recorder.reads.put)
    for name in pcscd.reader_names:
        recorder.wait_for(ReaderChange.READER_ADDED, name)
    try:
        yield card_reader, recorder
    finally:
        card_reader.stop()


def test_is_usable_when_pcscd_runs(pcscd: Pcscd) -> None:
    assert PcscCardReader.is_usable()


def test_card_uid_and_type(
    pcscd: Pcscd, reader: tuple[PcscCardReader, Recorder], atr_list: AtrList | None
) -> None:
    _, recorder = reader
    card = VirtualCard(bytes.fromhex("04A1B2C3"), MIFARE_1K_ATR)
    card.insert(pcscd.port)
    try:
        inserted = recorder.wait_for(ReaderChange.CARD_INSERTED)
        read = recorder.next_read()
    finally:
        card.remove()
    assert inserted.detail == MIFARE_1K_ATR.hex(" ").upper()
    assert (read.raw, read.reader) == ("04A1B2C3", "Virtual PCD 00 00")
    if atr_list is not None:
        assert read.card_type == "NXP/Philips MIFARE Classic 1K (as per PCSC std part3)"
    assert bytes.fromhex("FFCA000000") in card.apdus
    recorder.wait_for(ReaderChange.CARD_REMOVED, "Virtual PCD 00 00")


def test_second_reader_and_seven_byte_uid(
    pcscd: Pcscd, reader: tuple[PcscCardReader, Recorder], atr_list: AtrList | None
) -> None:
    _, recorder = reader
    card = VirtualCard(bytes.fromhex("04112233445566"), DESFIRE_ATR)
    card.insert(pcscd.port + 1)
    try:
        read = recorder.next_read()
    finally:
        card.remove()
    assert (read.raw, read.reader) == ("04112233445566", "Virtual PCD 00 01")
    if atr_list is not None:
        assert read.card_type == "RFID - ISO 14443 Type A - NXP DESFire or DESFire EV1 or EV2"


def test_same_card_again_within_interval_is_ignored(
    pcscd: Pcscd, reader: tuple[PcscCardReader, Recorder]
) -> None:
    _, recorder = reader
    first = VirtualCard(bytes.fromhex("8A0B0C00"), MIFARE_4K_ATR)
    first.insert(pcscd.port)
    assert recorder.next_read().raw == "8A0B0C00"
    first.remove()
    recorder.wait_for(ReaderChange.CARD_REMOVED)
    first.insert(pcscd.port)  # presented again: its UID is read, and dropped
    first.wait_for_apdus(2, WAIT_S)
    first.remove()
    recorder.wait_for(ReaderChange.CARD_REMOVED)
    other = VirtualCard(bytes.fromhex("0011AA22"), MIFARE_4K_ATR)
    other.insert(pcscd.port)
    try:
        # events come from one thread in order: the repeat was handled before this card
        assert recorder.next_read().raw == "0011AA22"
    finally:
        other.remove()
    assert first.apdus.count(bytes.fromhex("FFCA000000")) == 2
    assert recorder.reads.empty()


def test_card_without_uid_is_reported_unreadable(
    pcscd: Pcscd, reader: tuple[PcscCardReader, Recorder]
) -> None:
    _, recorder = reader
    card = VirtualCard(None, CONTACT_ATR)
    card.insert(pcscd.port)
    try:
        event = recorder.wait_for(ReaderChange.CARD_UNREADABLE)
    finally:
        card.remove()
    assert event.reader == "Virtual PCD 00 00"
    assert recorder.reads.empty()


def test_readers_lost_and_found_when_pcscd_restarts(
    pcscd: Pcscd, reader: tuple[PcscCardReader, Recorder]
) -> None:
    """From the client's side a pcscd restart unplugs and re-plugs every reader."""
    _, recorder = reader
    pcscd.stop()
    try:
        recorder.wait_for(ReaderChange.SERVICE_LOST)
        for name in pcscd.reader_names:
            recorder.wait_for(ReaderChange.READER_REMOVED, name)
    finally:
        pcscd.start()
    for name in pcscd.reader_names:
        recorder.wait_for(ReaderChange.READER_ADDED, name)
    card = VirtualCard(bytes.fromhex("DEADBEEF"), MIFARE_1K_ATR)
    card.insert(pcscd.port)
    try:
        assert recorder.next_read().raw == "DEADBEEF"
    finally:
        card.remove()


def test_reader_filter_watches_only_matching_readers(pcscd: Pcscd) -> None:
    recorder = Recorder()
    card_reader = PcscCardReader(reader_filter="00 01", debounce_s=0, on_change=recorder.on_change)
    card_reader.start(recorder.reads.put)
    card = VirtualCard(bytes.fromhex("CAFE0001"), MIFARE_1K_ATR)
    try:
        recorder.wait_for(ReaderChange.READER_ADDED, "Virtual PCD 00 01")
        card.insert(pcscd.port + 1)
        read = recorder.next_read()
    finally:
        card.remove()
        card_reader.stop()
    assert (read.raw, read.reader, read.card_type) == ("CAFE0001", "Virtual PCD 00 01", None)
    added = [e.reader for e in recorder.history if e.change == ReaderChange.READER_ADDED]
    assert added == ["Virtual PCD 00 01"]
