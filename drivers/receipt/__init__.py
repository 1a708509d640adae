"""Receipt printers (ESC/POS, through python-escpos): voucher cards and receipts.

A standalone library with its own types and exceptions: :func:`open_receipt_printer`
opens a printer from a target string (``usb:VID:PID``, ``network:HOST[:PORT]``,
``file:/path``), :func:`print_voucher_card` and :func:`print_receipt` print on it, and
every device error comes out as :class:`ReceiptPrinterUnavailable` with a reason an
operator can act on. Importing this package opens nothing and works without
python-escpos or pyusb; :func:`is_usable` says whether a target's libraries are there.
See docs/voucher-cards-and-receipts.md.
"""

from drivers.receipt.errors import ReceiptError, ReceiptPrinterUnavailable, ReceiptTargetError
from drivers.receipt.layout import (
    print_receipt,
    print_voucher_card,
    receipt_job,
    voucher_card_job,
)
from drivers.receipt.printer import (
    ReceiptPrinterHandle,
    check_profile,
    draws_qr_codes,
    is_usable,
    known_profiles,
    open_receipt_printer,
    probe_receipt_printer,
)
from drivers.receipt.targets import (
    FileTarget,
    NetworkTarget,
    ReceiptTarget,
    UsbTarget,
    parse_target,
)

__all__ = [
    "FileTarget",
    "NetworkTarget",
    "ReceiptError",
    "ReceiptPrinterHandle",
    "ReceiptPrinterUnavailable",
    "ReceiptTarget",
    "ReceiptTargetError",
    "UsbTarget",
    "check_profile",
    "draws_qr_codes",
    "is_usable",
    "known_profiles",
    "open_receipt_printer",
    "parse_target",
    "print_receipt",
    "print_voucher_card",
    "probe_receipt_printer",
    "receipt_job",
    "voucher_card_job",
]
