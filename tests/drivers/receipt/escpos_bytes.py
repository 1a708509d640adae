"""Reading back what a receipt printer would receive, for the driver's tests and the
terminal's: the native QR payloads (``GS ( k``), the raster images (``GS v 0``) as Pillow
images, the text lines in their code pages, and a TCP listener on 127.0.0.1 standing in
for a network printer's raw port."""

from __future__ import annotations

import re
import socket
import threading

from PIL import Image
from pyzbar.pyzbar import ZBarSymbol, decode


def native_qr_payloads(raw: bytes) -> list[bytes]:
    """The data of every ``GS ( k`` "store QR data" (cn=1, fn=P, m=0) command."""
    payloads = []
    for match in re.finditer(rb"\x1d\(k(..)1P0", raw, re.S):
        length = int.from_bytes(match[1], "little") - 3  # cn, fn and m are counted
        payloads.append(raw[match.end():match.end() + length])
    return payloads


def raster_images(raw: bytes) -> list[Image.Image]:
    """Every ``GS v 0`` raster image as a Pillow image (1 bits are black dots)."""
    images = []
    for match in re.finditer(rb"\x1dv0(.)(..)(..)", raw, re.S):
        width_bytes, height = (int.from_bytes(match[i], "little") for i in (2, 3))
        data = raw[match.end():match.end() + width_bytes * height]
        images.append(Image.frombytes("1", (width_bytes * 8, height),
                                      bytes(255 - byte for byte in data)))
    return images


def scanned(image: Image.Image) -> list[str]:
    return [r.data.decode() for r in decode(image.convert("L"), symbols=[ZBarSymbol.QRCODE])]


def printed_text(raw: bytes, profile: str = "TM-T88III") -> list[str]:
    """The text lines of a job as the printer shows them: its ESC/GS commands removed,
    each run of bytes decoded in the code page the last ``ESC t n`` selected."""
    from escpos.capabilities import get_profile

    pages = get_profile(profile).codePages
    codec = "cp437"  # what ESC @ selects
    text = []
    for _command, page, plain in re.findall(
            rb"(\x1bt(.)|\x1b[@]|\x1b[!aEd].|\x1dV[AB].|\x1dV.|\x1d\(k..(?:1P0[^\x1d]*|[^\x1d]*))"
            rb"|([^\x1b\x1d]+)", raw, re.S):
        if page:
            codec = pages[str(page[0])].lower()
        elif plain:
            text.append(plain.decode(codec))
    return "".join(text).splitlines()


class StandInPrinter:
    """A TCP listener on 127.0.0.1 that keeps what each connection sent."""

    def __init__(self) -> None:
        self.server = socket.create_server(("127.0.0.1", 0))
        self.port = self.server.getsockname()[1]
        self.jobs: list[bytes] = []
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        while True:
            try:
                connection, _ = self.server.accept()
            except OSError:
                return
            with connection:
                chunks = []
                while chunk := connection.recv(65536):
                    chunks.append(chunk)
                self.jobs.append(b"".join(chunks))

    def close(self) -> None:
        self.server.close()

    def wait_for_jobs(self, count: int = 1, timeout_s: float = 5.0) -> list[bytes]:
        """The jobs once ``count`` connections were read to their end."""
        waited = 0.0
        while len(self.jobs) < count and waited < timeout_s:
            threading.Event().wait(0.05)
            waited += 0.05
        return self.jobs
