"""A contactless card for vsmartcard's vpcd reader driver, and a pcscd run for the tests.

vpcd (the pcscd driver from Debian's vsmartcard-vpcd) listens on a TCP port per virtual
reader; a card emulator connects to "insert" a card and disconnects to remove it. Debian's
own emulator (vicc) is broken, so this one speaks the protocol directly: every message is a
2-byte big-endian length then the payload; a 1-byte payload is a control (0 power off,
1 power on, 2 reset, 4 send the ATR), longer payloads are command APDUs answered with the
response data and status word.
"""

from __future__ import annotations

import contextlib
import os
import socket
import struct
import subprocess
import threading
import time
from pathlib import Path

VPCD_DRIVER = Path("/usr/lib/pcsc/drivers/serial/libifdvpcd.so")
PCSCD_SOCKET = Path("/run/pcscd/pcscd.comm")
CTRL_ATR = 4
GET_UID = bytes([0xFF, 0xCA, 0x00, 0x00, 0x00])


class VirtualCard:
    """A card with a UID and an ATR; only GET DATA (UID) is implemented, like a MIFARE UID read."""

    def __init__(self, uid: bytes | None, atr: bytes) -> None:
        self.uid = uid
        self.atr = atr
        self.apdus: list[bytes] = []
        self._answered = threading.Condition()
        self._socket: socket.socket | None = None
        self._thread: threading.Thread | None = None

    def respond(self, apdu: bytes) -> bytes:
        """The card's answer to one command APDU."""
        self.apdus.append(apdu)
        if apdu == GET_UID:
            if self.uid is None:
                return bytes([0x6A, 0x81])  # function not supported: a card without UID
            return self.uid + bytes([0x90, 0x00])
        return bytes([0x6D, 0x00])  # instruction not supported

    def wait_for_apdus(self, count: int, timeout: float) -> None:
        """Block until ``count`` APDUs have been answered (or fail after ``timeout``)."""
        with self._answered:
            if not self._answered.wait_for(lambda: len(self.apdus) >= count, timeout):
                raise TimeoutError(f"{len(self.apdus)} of {count} APDUs after {timeout} s")

    def insert(self, port: int) -> None:
        """Put the card on the reader whose vpcd port is ``port``."""
        if self._socket is not None:
            raise RuntimeError("card already inserted")
        self._socket = socket.create_connection(("127.0.0.1", port), timeout=10)
        self._socket.settimeout(None)
        self._thread = threading.Thread(target=self._serve, args=(self._socket,), daemon=True)
        self._thread.start()

    def remove(self) -> None:
        """Take the card off the reader."""
        if self._socket is None:
            return
        with contextlib.suppress(OSError):
            self._socket.shutdown(socket.SHUT_RDWR)
        self._socket.close()
        self._socket = None
        if self._thread is not None:
            self._thread.join(timeout=10)
            self._thread = None

    def _serve(self, connection: socket.socket) -> None:
        try:
            while True:
                header = _receive(connection, 2)
                if header is None:
                    return
                (length,) = struct.unpack(">H", header)
                payload = _receive(connection, length)
                if payload is None:
                    return
                if length == 1:
                    if payload[0] == CTRL_ATR:
                        _send(connection, self.atr)
                    continue  # power on / off / reset need no answer
                _send(connection, self.respond(payload))
                with self._answered:
                    self._answered.notify_all()
        except OSError:
            return


def _receive(connection: socket.socket, size: int) -> bytes | None:
    data = b""
    while len(data) < size:
        chunk = connection.recv(size - len(data))
        if not chunk:
            return None
        data += chunk
    return data


def _send(connection: socket.socket, payload: bytes) -> None:
    connection.sendall(struct.pack(">H", len(payload)) + payload)


def free_port_pair() -> int:
    """A loopback port p such that p and p + 1 are free (vpcd opens two readers)."""
    for _ in range(50):
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = int(probe.getsockname()[1])
        if port >= 65535:
            continue
        with socket.socket() as first, socket.socket() as second:
            try:
                first.bind(("0.0.0.0", port))  # vpcd binds every interface
                second.bind(("0.0.0.0", port + 1))
            except OSError:
                continue
        return port
    raise RuntimeError("no free pair of ports for vpcd")


def pcscd_is_answering() -> bool:
    if not PCSCD_SOCKET.exists():
        return False
    with socket.socket(socket.AF_UNIX) as probe:
        try:
            probe.connect(str(PCSCD_SOCKET))
        except OSError:
            return False
    return True


class Pcscd:
    """pcscd in the foreground with only the vpcd readers, started and stopped by the tests."""

    def __init__(self, workdir: Path) -> None:
        self.port = free_port_pair()
        self.reader_names = ("Virtual PCD 00 00", "Virtual PCD 00 01")
        self.conf_dir = workdir / "reader.conf.d"
        self.conf_dir.mkdir()
        (self.conf_dir / "vpcd").write_text(
            'FRIENDLYNAME "Virtual PCD"\n'
            f"DEVICENAME /dev/null:{self.port}\n"
            f"LIBPATH {VPCD_DRIVER}\n"
            f"CHANNELID {self.port}\n"
        )
        self.log = workdir / "pcscd.log"
        self._process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        PCSCD_SOCKET.parent.mkdir(parents=True, exist_ok=True)
        with self.log.open("ab") as log:
            self._process = subprocess.Popen(
                ["pcscd", "--foreground", "--config", str(self.conf_dir)],
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + 15
        while not self._ports_open():
            if self._process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"pcscd did not start: {self.log.read_text()[-2000:]}")
            time.sleep(0.05)

    def _ports_open(self) -> bool:
        """True once pcscd lists both vpcd readers (asked through pyscard's own calls)."""
        from smartcard import scard

        if not pcscd_is_answering():
            return False
        result, context = scard.SCardEstablishContext(scard.SCARD_SCOPE_USER)
        if result != scard.SCARD_S_SUCCESS:
            return False
        try:
            result, readers = scard.SCardListReaders(context, [])
            return result == scard.SCARD_S_SUCCESS and set(self.reader_names) <= set(readers)
        finally:
            scard.SCardReleaseContext(context)

    def stop(self) -> None:
        if self._process is None:
            return
        self._process.terminate()
        try:
            self._process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()
        self._process = None


def can_run_pcscd() -> str | None:
    """Why pcscd cannot run here, or None when it can."""
    if os.geteuid() != 0:
        return "pcscd needs root for its fixed socket /run/pcscd/pcscd.comm"
    if not VPCD_DRIVER.exists():
        return f"vpcd driver {VPCD_DRIVER} is not installed (apt vsmartcard-vpcd)"
    if pcscd_is_answering():
        return "another pcscd already owns /run/pcscd/pcscd.comm (one per machine)"
    return None
