"""The receipt printer library's own exceptions: callers never see python-escpos's,
pyusb's or the socket module's.

Two families, because callers act differently on them: a :class:`ReceiptTargetError` is a
configuration that can never work (a misspelt target or profile: fix the file), a
:class:`ReceiptPrinterUnavailable` is a printer that cannot be reached now (off, unplugged,
no paper feed, no permission): worth telling the operator and trying again later.
"""

from __future__ import annotations


class ReceiptError(RuntimeError):
    """Base of the receipt printer library's errors."""


class ReceiptTargetError(ReceiptError, ValueError):
    """A target string or profile name that cannot name a printer; says what is allowed."""


class ReceiptPrinterUnavailable(ReceiptError):
    """The printer could not be opened or stopped taking data.

    ``str()`` is ``"<target>: <reason>"``, fit to show an operator as it is; ``reason``
    says what to check (power, cable, address, the udev rule), not a library's wording.
    """

    def __init__(self, target: str, reason: str) -> None:
        super().__init__(f"receipt printer {target}: {reason}")
        self.target = target
        self.reason = reason
