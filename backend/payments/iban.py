"""IBAN (ISO 13616) and BIC (ISO 9362) checks for the bank_transfer configuration.

Why here and not left to the bank: a typo in ``[payments.bank_transfer] iban`` would put a
GiroCode on every kiosk that sends the users' money to nobody (or to somebody else). The
mod-97 check and the country's length catch every single-character error and almost every
transposition, so the backend refuses such a file at start.
"""

from __future__ import annotations

import re

# Length of the IBAN per country (SWIFT IBAN registry). A country not listed is refused:
# the bank_transfer gateway is a SEPA credit transfer, and every SEPA country is here.
IBAN_LENGTHS: dict[str, int] = {
    "AD": 24, "AE": 23, "AL": 28, "AT": 20, "AZ": 28, "BA": 20, "BE": 16, "BG": 22,
    "BH": 22, "BI": 27, "BR": 29, "BY": 28, "CH": 21, "CR": 22, "CY": 28, "CZ": 24,
    "DE": 22, "DJ": 27, "DK": 18, "DO": 28, "EE": 20, "EG": 29, "ES": 24, "FI": 18,
    "FK": 18, "FO": 18, "FR": 27, "GB": 22, "GE": 22, "GI": 23, "GL": 18, "GR": 27,
    "GT": 28, "HR": 21, "HU": 28, "IE": 22, "IL": 23, "IQ": 23, "IS": 26, "IT": 27,
    "JO": 30, "KW": 30, "KZ": 20, "LB": 28, "LC": 32, "LI": 21, "LT": 20, "LU": 20,
    "LV": 21, "LY": 25, "MC": 27, "MD": 24, "ME": 22, "MK": 19, "MN": 20, "MR": 27,
    "MT": 31, "MU": 30, "NI": 28, "NL": 18, "NO": 15, "OM": 23, "PK": 24, "PL": 28,
    "PS": 29, "PT": 25, "QA": 29, "RO": 24, "RS": 22, "RU": 33, "SA": 24, "SC": 31,
    "SD": 18, "SE": 24, "SI": 19, "SK": 24, "SM": 27, "SO": 23, "ST": 25, "SV": 28,
    "TL": 23, "TN": 24, "TR": 26, "UA": 29, "VA": 22, "VG": 24, "XK": 20, "YE": 30,
}
_IBAN_SHAPE = re.compile(r"[A-Z]{2}[0-9]{2}[A-Z0-9]{1,30}")
_BIC_SHAPE = re.compile(r"[A-Z]{4}[A-Z]{2}[A-Z0-9]{2}([A-Z0-9]{3})?")


def alphanumeric_mod97(text: str) -> int:
    """``text`` read as a number, letters as 10 (A) to 35 (Z), modulo 97: the check shared
    by IBAN (ISO 13616) and the RF creditor reference (ISO 11649)."""
    remainder = 0
    for char in text:
        value = int(char, 36)
        remainder = (remainder * (100 if value > 9 else 10) + value) % 97
    return remainder


def normalize_iban(text: str) -> str:
    """The electronic form: spaces removed, upper case (``DE89 3704 ...`` as printed)."""
    return "".join(text.split()).upper()


def iban_error(text: str) -> str | None:
    """Why ``text`` is not a valid IBAN, or None. Checks the shape, the country's length
    and the mod-97 check digits; the input may be in the printed form with spaces."""
    iban = normalize_iban(text)
    if _IBAN_SHAPE.fullmatch(iban) is None:
        return (f"{text!r} is not an IBAN: two letters (the country), two check digits, "
                "then up to 30 letters or digits")
    expected = IBAN_LENGTHS.get(iban[:2])
    if expected is None:
        return f"{text!r}: {iban[:2]} is not a country that uses IBANs"
    if len(iban) != expected:
        return f"{text!r}: an IBAN of {iban[:2]} has {expected} characters, not {len(iban)}"
    if alphanumeric_mod97(iban[4:] + iban[:4]) != 1:
        return f"{text!r}: the check digits do not match (a typo in the IBAN?)"
    return None


def bic_error(text: str) -> str | None:
    """Why ``text`` is not a BIC (8 or 11 characters: bank, country, location, branch)."""
    if _BIC_SHAPE.fullmatch(text) is None:
        return (f"{text!r} is not a BIC: 4 letters (bank), 2 letters (country), 2 letters "
                "or digits (location) and optionally 3 more (branch), in capitals")
    if text[4:6] not in IBAN_LENGTHS:
        return f"{text!r}: {text[4:6]} is not a known country code"
    return None
