"""A reader without hardware, for the demo and for tests of the layers above.

Card numbers come from :meth:`SimulatedCardReader.present` (the kiosk's "type a card
number" box) and, when a path is configured, from a local FIFO or Unix stream socket, one
number per line (``echo 04A1B2C3 > /run/printkiosk/card`` in the demo). A FIFO suits shell
scripts; a socket suits several writers at once. The path is created by :meth:`start` and
removed by :meth:`stop`, never at construction or import.
"""

from __future__ import annotations

import contextlib
import logging
import os
import selectors
import socket
import stat
import threading
import time
from pathlib import Path
from typing import Literal

from drivers.cards.events import CardRead, Debouncer, ReadCallback, ReaderThread, deliver

log = logging.getLogger(__name__)

READER_NAME = "simulated"
_MAX_LINE = 256
_POLL_S = 0.2


class SimulatedCardReader:
    """Delivers numbers given to :meth:`present` or written to the FIFO / socket path."""

    def __init__(
        self,
        path: str | Path | None = None,
        *,
        kind: Literal["fifo", "socket"] = "fifo",
        debounce_s: float = 0.0,
    ) -> None:
        if kind not in ("fifo", "socket"):
            raise ValueError(f"simulated reader kind {kind!r} is not 'fifo' or 'socket'")
        self._path = Path(path) if path is not None else None
        self._kind = kind
        self._debouncer = Debouncer(debounce_s)
        self._on_read: ReadCallback | None = None
        self._worker = ReaderThread("simulated-card-reader", "simulated card reader")
        self._stop = self._worker.stopping
        self._lock = threading.Lock()

    @staticmethod
    def is_usable() -> bool:
        """Always: the simulated reader needs nothing but the standard library."""
        return True

    def start(self, on_read: ReadCallback) -> None:
        with self._lock:
            if self._on_read is not None:
                raise RuntimeError("simulated card reader already started")
            self._on_read = on_read
        if self._path is None:
            return
        listener = self._open_fifo(self._path) if self._kind == "fifo" else self._listen(self._path)
        self._worker.start(lambda: self._run(listener))

    def stop(self) -> None:
        self._worker.stop()
        if self._path is not None:
            with contextlib.suppress(FileNotFoundError):
                self._path.unlink()
        with self._lock:
            self._on_read = None

    def present(self, number: str) -> None:
        """Report ``number`` as if a card carrying it had been presented."""
        number = number.strip()
        with self._lock:
            on_read = self._on_read
        if not number or on_read is None:
            return
        if self._debouncer.accept(number):
            read = CardRead(raw=number, reader=READER_NAME, card_type=None, at=time.time())
            deliver(on_read, read)

    @staticmethod
    def _open_fifo(path: Path) -> list[int]:
        if path.exists() and not stat.S_ISFIFO(path.stat().st_mode):
            raise ValueError(f"{path} exists and is not a FIFO")
        if not path.exists():
            os.mkfifo(path, 0o600)
        reader = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
        # Holding a writer open ourselves means the FIFO never reports end-of-file when a
        # writing process closes it, so select() does not spin between writers.
        keeper = os.open(path, os.O_WRONLY | os.O_NONBLOCK)
        return [reader, keeper]

    @staticmethod
    def _listen(path: Path) -> socket.socket:
        with contextlib.suppress(FileNotFoundError):
            if not stat.S_ISSOCK(path.stat().st_mode):
                raise ValueError(f"{path} exists and is not a socket")
            path.unlink()
        server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        server.bind(str(path))
        os.chmod(path, 0o600)
        server.listen()
        server.setblocking(False)
        return server

    def _run(self, listener: list[int] | socket.socket) -> None:
        selector = selectors.DefaultSelector()
        pending: dict[int, bytes] = {}
        if isinstance(listener, list):
            selector.register(listener[0], selectors.EVENT_READ)
        else:
            selector.register(listener, selectors.EVENT_READ)
        try:
            while not self._stop.is_set():
                for key, _ in selector.select(_POLL_S):
                    if isinstance(key.fileobj, socket.socket) and key.fileobj is listener:
                        connection, _ = key.fileobj.accept()
                        connection.setblocking(False)
                        selector.register(connection, selectors.EVENT_READ)
                        continue
                    try:
                        chunk = os.read(key.fd, 4096)
                    except BlockingIOError:
                        continue
                    except OSError as exc:  # a client that reset its connection
                        log.info("simulated reader: read failed: %s", exc)
                        chunk = b""
                    if chunk:
                        pending[key.fd] = self._take_lines(pending.get(key.fd, b"") + chunk)
                    elif isinstance(key.fileobj, socket.socket):  # a client hung up
                        self._take_lines(pending.pop(key.fd, b"") + b"\n")
                        selector.unregister(key.fileobj)
                        key.fileobj.close()
        finally:
            for key in list(selector.get_map().values()):
                if isinstance(key.fileobj, socket.socket):
                    key.fileobj.close()
            selector.close()
            if isinstance(listener, list):
                for fd in listener:
                    os.close(fd)

    def _take_lines(self, data: bytes) -> bytes:
        """Present every complete line of ``data``; return the incomplete rest."""
        *lines, rest = data.split(b"\n")
        for line in lines:
            self.present(line.decode("utf-8", errors="replace"))
        if len(rest) > _MAX_LINE:
            log.warning("simulated reader: dropping an over-long line")
            return b""
        return rest
