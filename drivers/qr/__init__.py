"""Payment QR codes as a grid of modules, for a screen to draw at whatever size it has.

A screen scales the grid itself (whole pixels per module, no smoothing), so this gives
the modules rather than an image: ``True`` is a dark module. The grid already holds the
quiet zone of 4 light modules on every side that ISO/IEC 18004 asks for: a phone's camera
finds the code by that margin, and a screen's own dark background must never touch it.
Error correction M (15 %) is what a phone at arm's length reads easily off a glossy
screen, and keeps a pay URL in a small version (fewer, bigger modules).
"""

from __future__ import annotations

QUIET_ZONE = 4  # modules, as ISO/IEC 18004 asks

Modules = tuple[tuple[bool, ...], ...]


def qr_modules(payload: str) -> Modules:
    """The QR code of ``payload`` (the smallest version that holds it), quiet zone
    included; a payload too long for any version is a ``ValueError`` saying so."""
    import qrcode
    from qrcode.constants import ERROR_CORRECT_M
    from qrcode.exceptions import DataOverflowError

    if not payload:
        raise ValueError("a QR code needs a payload: the top-up's qr_payload is empty")
    qr = qrcode.QRCode(error_correction=ERROR_CORRECT_M, border=QUIET_ZONE, box_size=1)
    qr.add_data(payload)
    try:
        qr.make(fit=True)
    except (DataOverflowError, ValueError) as exc:  # qrcode 8 says "Invalid version"
        raise ValueError(f"a payload of {len(payload)} characters does not fit a QR code"
                         ) from exc
    return tuple(tuple(bool(module) for module in row) for row in qr.get_matrix())
