"""The simulated reader: programmatic presents, a real FIFO and a real Unix socket."""

from __future__ import annotations

import os
import queue
import socket
from pathlib import Path

import pytest

from drivers.cards.events import CardRead, Debouncer
from drivers.cards.simulated import SimulatedCardReader

WAIT_S = 10  # a safety net against hanging, not a speed requirement


def collect(reader: SimulatedCardReader) -> queue.Queue[CardRead]:
    reads: queue.Queue[CardRead] = queue.Queue()
    reader.start(reads.put)
    return reads


def test_present_delivers_a_read() -> None:
    reader = SimulatedCardReader()
    reads = collect(reader)
    reader.present(" 04A1B2C3\n")
    read = reads.get_nowait()
    assert (read.raw, read.reader, read.card_type) == ("04A1B2C3", "simulated", None)
    reader.stop()
    reader.present("04A1B2C3")
    assert reads.empty()


def test_fifo_lines_become_reads(tmp_path: Path) -> None:
    path = tmp_path / "card.fifo"
    reader = SimulatedCardReader(path, kind="fifo")
    reads = collect(reader)
    try:
        for text in ("11111111\n22222", "222\n", "33333333\n"):  # separate writers, split line
            fd = os.open(path, os.O_WRONLY)
            os.write(fd, text.encode())
            os.close(fd)
        got = [reads.get(timeout=WAIT_S).raw for _ in range(3)]
    finally:
        reader.stop()
    assert got == ["11111111", "22222222", "33333333"]
    assert not path.exists()


def test_socket_lines_become_reads(tmp_path: Path) -> None:
    path = tmp_path / "card.sock"
    reader = SimulatedCardReader(path, kind="socket")
    reads = collect(reader)
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as first:
            first.connect(str(path))
            first.sendall(b"04A1B2C3\n0011")
            with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as second:
                second.connect(str(path))
                second.sendall(b"8A0B0C00\n")
                assert reads.get(timeout=WAIT_S).raw == "04A1B2C3"
                assert reads.get(timeout=WAIT_S).raw == "8A0B0C00"
        # the first writer hung up without a newline: its last number still counts
        assert reads.get(timeout=WAIT_S).raw == "0011"
    finally:
        reader.stop()
    assert not path.exists()


def test_refuses_a_path_of_the_wrong_kind(tmp_path: Path) -> None:
    path = tmp_path / "plain-file"
    path.write_text("")
    with pytest.raises(ValueError, match="is not a FIFO"):
        SimulatedCardReader(path, kind="fifo").start(lambda read: None)
    with pytest.raises(ValueError, match="is not a socket"):
        SimulatedCardReader(path, kind="socket").start(lambda read: None)


def test_debounce_drops_the_same_card_within_the_interval() -> None:
    now = [100.0]
    debouncer = Debouncer(2.0, clock=lambda: now[0])
    assert debouncer.accept("A")
    now[0] = 101.5
    assert not debouncer.accept("A")
    assert debouncer.accept("B")
    now[0] = 102.0
    assert debouncer.accept("A")  # 2 s after the accepted read
    assert not debouncer.accept("A")


def test_a_failing_callback_does_not_stop_the_reader() -> None:
    reader = SimulatedCardReader()
    seen: list[str] = []

    def fragile(read: CardRead) -> None:
        seen.append(read.raw)
        raise RuntimeError("consumer bug")

    reader.start(fragile)
    reader.present("1")
    reader.present("2")
    reader.stop()
    assert seen == ["1", "2"]
