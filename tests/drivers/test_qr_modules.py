"""The payment QR's module grid: pyzbar reads it back when drawn at whole pixels per
module, its quiet zone is 4 light modules on every side, bad payloads say why."""

from __future__ import annotations

import pytest
from PIL import Image
from pyzbar.pyzbar import decode

from drivers.qr import QUIET_ZONE, qr_modules

URL = "http://192.168.1.20:8000/pay/Jq3xv9N0bT2mLw8rZyK4hA7sPcD1eF5gH6iU0oQ_-Xw"


def _drawn(modules: tuple[tuple[bool, ...], ...], scale: int) -> Image.Image:
    size = len(modules)
    image = Image.new("L", (size, size), 255)
    image.putdata([0 if dark else 255 for row in modules for dark in row])
    return image.resize((size * scale, size * scale), Image.Resampling.NEAREST)


def test_the_grid_decodes_to_the_payload_and_keeps_its_quiet_zone() -> None:
    modules = qr_modules(URL)
    assert len(modules) == len(modules[0])
    for edge in range(QUIET_ZONE):
        assert not any(modules[edge]) and not any(modules[-1 - edge])
        assert not any(row[edge] or row[-1 - edge] for row in modules)
    assert modules[QUIET_ZONE][QUIET_ZONE], "the finder pattern starts right after it"
    assert [found.data.decode() for found in decode(_drawn(modules, 6))] == [URL]


def test_an_empty_or_oversized_payload_is_refused_with_the_reason() -> None:
    with pytest.raises(ValueError, match="needs a payload"):
        qr_modules("")
    with pytest.raises(ValueError, match="8000 characters does not fit"):
        qr_modules("x" * 8000)
