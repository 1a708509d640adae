"""ISO 11649 structured creditor references ("RF references") for bank-transfer top-ups.

Why RF and not free text: a banking app passes a structured reference through to the
bank statement unchanged (camt.053 ``CdtrRefInf/Ref``), and its two check digits let the
statement import tell a mistyped reference from an unknown one. A payer who types it by
hand into the free-text field still gets matched: :func:`find_references` reads RF
references out of any text, tolerant of spaces and case.
"""

from __future__ import annotations

import hashlib
import re

from backend.payments.iban import alphanumeric_mod97

MAX_BODY = 21  # characters after "RFxx" (ISO 11649: at most 25 in all)
_BODY = re.compile(r"[A-Z0-9]{1,21}")
_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
# In free text: "RF", two digits, then alphanumerics possibly split by single spaces as
# printed in groups of four ("RF18 5390 0754 7034"), up to the longest legal reference.
_IN_TEXT = re.compile(r"RF\s?[0-9]{2}(?:\s?[A-Z0-9]){1,21}", re.IGNORECASE)


class BadReferenceBody(ValueError):
    """The seed of a reference cannot make one (empty, too long, not alphanumeric)."""


def creditor_reference(body: str) -> str:
    """``RF`` + the ISO 11649 check digits + ``body`` (1 to 21 letters and digits)."""
    body = body.upper()
    if _BODY.fullmatch(body) is None:
        raise BadReferenceBody(f"{body!r}: a creditor reference holds 1 to {MAX_BODY} "
                             "letters A-Z and digits")
    check = 98 - alphanumeric_mod97(body + "RF00")
    return f"RF{check:02d}{body}"


def reference_for_top_up(top_up_id: str, prefix: str = "PK") -> str:
    """The one reference of a top-up, a function of its id alone (so the gateway needs no
    state). ``prefix`` (backend.toml's ``remittance_prefix``) then the id's letters and
    digits (``T-3F9A0C11BE`` -> ``PKT3F9A0C11BE``) when they fit, readable on the
    statement; an id too long for that becomes 20 Crockford characters of its SHA-256
    (100 bits: two top-ups never share one, and the top-up table's unique gateway payment
    id would refuse it if they did)."""
    body = prefix.upper() + re.sub(r"[-_]", "", top_up_id).upper()
    if _BODY.fullmatch(body) is not None:
        return creditor_reference(body)
    digest = int.from_bytes(hashlib.sha256(top_up_id.encode()).digest()[:13], "big") >> 4
    encoded = "".join(_CROCKFORD[(digest >> shift) & 31] for shift in range(95, -1, -5))
    return creditor_reference(encoded)


def is_valid_reference(text: str) -> bool:
    """An RF reference in electronic form (no spaces, any case) with right check digits."""
    reference = text.upper()
    return (reference.startswith("RF") and reference[2:4].isdigit()
            and _BODY.fullmatch(reference[4:]) is not None
            and alphanumeric_mod97(reference[4:] + reference[:4]) == 1)


def normalize_reference(text: str) -> str | None:
    """``text`` as an electronic RF reference (spaces dropped, capitals), or None when it
    is not one with valid check digits."""
    compact = "".join(text.split()).upper()
    return compact if is_valid_reference(compact) else None


def find_references(text: str) -> list[str]:
    """Every valid RF reference that a free text (a remittance line) may hold, in order.

    A candidate is read at its longest and every prefix with matching check digits is
    kept, longest first: the payer may have typed words right after it
    ("RF18539007547034 PRINTS" reads as "RF18539007547034PRINTS"), and one in 97 of the
    wrong lengths also has matching digits, so the caller keeps the one that names a
    top-up."""
    found: list[str] = []
    for match in _IN_TEXT.finditer(text):
        compact = "".join(match.group().split()).upper()
        found.extend(compact[:end] for end in range(len(compact), 4, -1)
                     if is_valid_reference(compact[:end]))
    return found
