"""The ``bank_transfer`` gateway: the kiosk shows a GiroCode (EPC069-12 QR), the user's
banking app pays it, and the operator's bank statement import settles the top-up.

Why no state here: the payment's id is the top-up's ISO 11649 creditor reference,
a function of the top-up id alone; the bank sends no webhook and cannot be asked about
one payment, so :meth:`fetch_status` says pending until a statement line names the
reference (``backend.payments.statement_import``). A refund needs a transfer to the
payer's account, which only a person at the cash desk can make: it is refused here, so
``refund_top_up`` changes nothing and says why.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from decimal import Decimal

from backend.config import BackendConfig, BankTransferSettings
from backend.payments.epc_qr import EpcError, EpcTransfer, build_payload
from backend.payments.gateway import CreatedPayment, GatewayError, PaymentEvent, PaymentStatus
from backend.payments.iban import bic_error, iban_error, normalize_iban
from backend.payments.references import reference_for_top_up

NAME = "bank_transfer"
_INFO_CHARS = 70  # element 12


class BankTransferGateway:
    """A SEPA credit transfer in euros to the site's account, by QR."""

    name = NAME

    def __init__(self, settings: BankTransferSettings) -> None:
        problems = []
        iban = normalize_iban(settings.iban or "")
        if not iban:
            problems.append("payments.bank_transfer.iban: required (the account the "
                            "GiroCode pays into)")
        elif (problem := iban_error(iban)) is not None:
            problems.append(f"payments.bank_transfer.iban: {problem}")
        if settings.bic and (problem := bic_error(settings.bic)) is not None:
            problems.append(f"payments.bank_transfer.bic: {problem}")
        beneficiary = (settings.beneficiary or "").strip()
        if not beneficiary or len(beneficiary) > 70:
            problems.append("payments.bank_transfer.beneficiary: the account holder's "
                            "name as the bank knows it, 1 to 70 characters")
        prefix = settings.remittance_prefix
        if re.fullmatch(r"[A-Za-z0-9]{0,6}", prefix) is None:
            problems.append(f"payments.bank_transfer.remittance_prefix {prefix!r}: up to 6 "
                            "letters or digits (the start of every reference)")
        if problems:
            raise GatewayError("; ".join(problems))
        self._iban, self._bic = iban, settings.bic or ""
        self._beneficiary, self._prefix = beneficiary, prefix.upper()

    @classmethod
    def from_config(cls, config: BackendConfig, _secret: bytes = b"") -> BankTransferGateway:
        """The registry's factory signature (config, server secret)."""
        return cls(config.payments.bank_transfer)

    def reference(self, top_up_id: str) -> str:
        return reference_for_top_up(top_up_id, self._prefix)

    def create_payment(self, top_up_id: str, amount: Decimal, currency: str,
                       description: str, return_url: str) -> CreatedPayment:
        """The GiroCode of the top-up. ``pay_url`` is empty (the API answers null): there
        is no page to pay on, the banking app pays, and ``return_url`` has no use."""
        if currency != "EUR":
            raise GatewayError(f"bank_transfer: a GiroCode is a SEPA transfer in euros, "
                               f"not {currency} (set ledger.currency = \"EUR\" or use "
                               "another gateway)")
        reference = self.reference(top_up_id)
        information = " ".join(description.split())[:_INFO_CHARS]
        try:
            payload = build_payload(EpcTransfer(
                beneficiary=self._beneficiary, iban=self._iban, bic=self._bic,
                amount=amount, reference=reference, information=information))
        except EpcError as exc:
            raise GatewayError(f"bank_transfer: cannot make the GiroCode: {exc}") from exc
        return CreatedPayment(pay_url="", gateway_payment_id=reference, qr_payload=payload)

    def parse_webhook(self, body: bytes, headers: Mapping[str, str]) -> PaymentEvent | None:
        """Banks send no webhooks: nothing to apply (statements are imported instead)."""
        return None

    def fetch_status(self, gateway_payment_id: str) -> PaymentStatus:
        """A bank cannot be asked about one transfer: pending until a statement matches.
        (Amount and currency are unknown here, as for the demo gateway.)"""
        return PaymentStatus("pending", Decimal("0.00"), "")

    def refund(self, gateway_payment_id: str, amount: Decimal) -> str:
        raise GatewayError(f"bank_transfer: {gateway_payment_id} cannot be refunded "
                           "automatically; a bank transfer is refunded by the cash desk "
                           "(pay the amount back from the cash drawer or by a transfer, "
                           "and record it there)")
