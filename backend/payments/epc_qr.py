"""The EPC069-12 "GiroCode" payload: a SEPA credit transfer a banking app reads from a QR.

Why our own few lines and not segno's ``make_epc_qr``: the backend only needs the text
(the kiosk draws the QR with ``qrcode``), and the statement import must recognise the
reference we put in it, so building and checking it belong together here. The rules are
those of EPC069-12 version 2.1, checked one by one by tests/backend/test_payments_epc.py.

Layout (one element per line, LF separated, nothing after the last populated element):

  1 BCD   2 version 001|002   3 character set 1-8   4 SCT   5 BIC (optional in 002)
  6 beneficiary name (<= 70)  7 IBAN   8 amount "EUR12.50" (optional)   9 purpose (4)
  10 structured creditor reference (<= 35) | 11 unstructured remittance (<= 140), never both
  12 beneficiary-to-originator information (<= 70)
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal

from backend.payments.iban import bic_error, iban_error, normalize_iban
from backend.text import CONTROL_CHARACTER

MAX_BYTES = 331
MIN_AMOUNT = Decimal("0.01")
MAX_AMOUNT = Decimal("999999999.99")
# Element 3: the encoding of the payload's bytes (1 is UTF-8, the one we write).
CHARACTER_SETS = {"1": "utf-8", "2": "iso-8859-1", "3": "iso-8859-2", "4": "iso-8859-4",
                  "5": "iso-8859-5", "6": "iso-8859-7", "7": "iso-8859-10",
                  "8": "iso-8859-15"}
_AMOUNT = re.compile(r"EUR([0-9]{1,9}(?:\.[0-9]{1,2})?)")
_PURPOSE = re.compile(r"[A-Z0-9]{4}")


class EpcError(ValueError):
    """A payload, or the fields of one, that breaks EPC069-12; says which element."""


@dataclass(frozen=True)
class EpcTransfer:
    """The fields of a GiroCode, as we write them and as we read them back."""

    beneficiary: str
    iban: str
    amount: Decimal | None = None
    bic: str = ""
    purpose: str = ""
    reference: str = ""  # element 10, the structured creditor reference (RF...)
    remittance: str = ""  # element 11, free text
    information: str = ""  # element 12, shown to the payer by some apps
    version: str = "002"
    character_set: str = "1"


def _check_text(element: str, value: str, limit: int, *, required: bool = False) -> None:
    if required and not value.strip():
        raise EpcError(f"{element}: required")
    if len(value) > limit:
        raise EpcError(f"{element}: {len(value)} characters, at most {limit}")
    if CONTROL_CHARACTER.search(value) is not None:
        raise EpcError(f"{element}: a line break or control character is not allowed")


def _check(transfer: EpcTransfer) -> None:
    """Every rule of EPC069-12 that concerns the fields, with the element that breaks it."""
    if transfer.version not in ("001", "002"):
        raise EpcError(f"element 2 (version): {transfer.version!r}, must be 001 or 002")
    if transfer.character_set not in CHARACTER_SETS:
        raise EpcError(f"element 3 (character set): {transfer.character_set!r}, must be 1-8")
    if transfer.bic:
        problem = bic_error(transfer.bic)
        if problem is not None:
            raise EpcError(f"element 5 (BIC): {problem}")
    elif transfer.version == "001":
        raise EpcError("element 5 (BIC): required in version 001")
    _check_text("element 6 (beneficiary name)", transfer.beneficiary, 70, required=True)
    problem = iban_error(transfer.iban)
    if problem is not None or transfer.iban != normalize_iban(transfer.iban):
        raise EpcError(f"element 7 (IBAN): {problem or 'write it without spaces, in capitals'}")
    if transfer.amount is not None:
        if not MIN_AMOUNT <= transfer.amount <= MAX_AMOUNT:
            raise EpcError(f"element 8 (amount): {transfer.amount}, must be from "
                           f"{MIN_AMOUNT} to {MAX_AMOUNT}")
        if transfer.amount != transfer.amount.quantize(MIN_AMOUNT):
            raise EpcError(f"element 8 (amount): {transfer.amount} has more than 2 decimals")
    if transfer.purpose and _PURPOSE.fullmatch(transfer.purpose) is None:
        raise EpcError(f"element 9 (purpose): {transfer.purpose!r}, must be a 4-character "
                       "ISO 20022 purpose code such as GDDS")
    if transfer.reference and transfer.remittance:
        raise EpcError("elements 10 and 11: a structured reference OR an unstructured "
                       "remittance, never both")
    _check_text("element 10 (creditor reference)", transfer.reference, 35)
    _check_text("element 11 (remittance)", transfer.remittance, 140)
    _check_text("element 12 (information)", transfer.information, 70)


def _elements(transfer: EpcTransfer) -> list[str]:
    amount = "" if transfer.amount is None else f"EUR{transfer.amount.quantize(MIN_AMOUNT)}"
    elements = ["BCD", transfer.version, transfer.character_set, "SCT", transfer.bic,
                transfer.beneficiary, transfer.iban, amount, transfer.purpose,
                transfer.reference, transfer.remittance, transfer.information]
    while not elements[-1]:
        elements.pop()  # "the last populated element is not followed by a line feed"
    return elements


def build_payload(transfer: EpcTransfer) -> str:
    """The payload text; raises :class:`EpcError` naming the element that breaks a rule
    (including the 331-byte limit in the chosen character set)."""
    _check(transfer)
    payload = "\n".join(_elements(transfer))
    size = len(payload.encode(CHARACTER_SETS[transfer.character_set], errors="strict"))
    if size > MAX_BYTES:
        raise EpcError(f"payload: {size} bytes, at most {MAX_BYTES} (shorten the "
                       "beneficiary name or the remittance text)")
    return payload


def parse_payload(data: bytes) -> EpcTransfer:
    """Read and check a payload (the bytes a QR decoder gave); raises :class:`EpcError`.

    LF or CR LF separators are accepted, as the standard allows; trailing empty
    elements may be left out."""
    if len(data) > MAX_BYTES:
        raise EpcError(f"payload: {len(data)} bytes, at most {MAX_BYTES}")
    lines = data.split(b"\n")
    if lines[-1] == b"":
        raise EpcError("payload: ends with a line feed after the last element")
    lines = [line.removesuffix(b"\r") for line in lines]
    if lines[0] != b"BCD":
        raise EpcError(f"element 1 (service tag): {lines[0][:10]!r}, must be BCD")
    if len(lines) < 7 or len(lines) > 12:
        raise EpcError(f"payload: {len(lines)} elements, must be 7 to 12")
    character_set = lines[2].decode("ascii", errors="replace")
    if character_set not in CHARACTER_SETS:
        raise EpcError(f"element 3 (character set): {character_set!r}, must be 1-8")
    try:
        text = [line.decode(CHARACTER_SETS[character_set]) for line in lines]
    except UnicodeDecodeError as exc:
        raise EpcError(f"payload: not {CHARACTER_SETS[character_set]} as element 3 "
                       f"says ({exc.reason})") from exc
    text += [""] * (12 - len(text))
    if text[3] != "SCT":
        raise EpcError(f"element 4 (identification): {text[3]!r}, must be SCT")
    amount: Decimal | None = None
    if text[7]:
        matched = _AMOUNT.fullmatch(text[7])
        if matched is None:
            raise EpcError(f"element 8 (amount): {text[7]!r}, must be EUR then the amount "
                           "with a point and at most 2 decimals, such as EUR12.50")
        amount = Decimal(matched.group(1))
    transfer = EpcTransfer(version=text[1], character_set=character_set, bic=text[4],
                           beneficiary=text[5], iban=text[6], amount=amount,
                           purpose=text[8], reference=text[9], remittance=text[10],
                           information=text[11])
    _check(transfer)
    return transfer
