"""The bank_transfer building blocks: IBAN/BIC checks, ISO 11649 references and the
EPC069-12 payload, rule by rule, against the corpus' real GiroCodes and through a QR."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
import qrcode
from pyzbar import pyzbar
from qrcode.constants import ERROR_CORRECT_M

from backend.payments.epc_qr import EpcError, EpcTransfer, build_payload, parse_payload
from backend.payments.iban import bic_error, iban_error
from backend.payments.references import (
    BadReferenceBody,
    creditor_reference,
    find_references,
    is_valid_reference,
    normalize_reference,
    reference_for_top_up,
)

CORPUS = Path(__file__).resolve().parents[3] / "shared" / "corpus"
PAYQR = CORPUS / "payqr"
IBAN = "DE89370400440532013000"  # the IBAN of every textbook (valid check digits)


def transfer(**changes: object) -> EpcTransfer:
    fields: dict[str, object] = {"beneficiary": "Médiathèque de Saint-Étienne", "iban": IBAN,
                                 "amount": Decimal("12.50"),
                                 "reference": creditor_reference("PKAB12CD")}
    fields.update(changes)
    return EpcTransfer(**fields)  # type: ignore[arg-type]


# --- IBAN and BIC ------------------------------------------------------------------

@pytest.mark.parametrize("iban", [IBAN, "DE89 3704 0044 0532 0130 00",
                                  "fr1420041010050500013m02606", "NL77ABNA0574908765",
                                  "DE33100205000001194700",
                                  "CH7400700110006116002", "NO9386011117947"])
def test_valid_ibans_pass(iban: str) -> None:
    assert iban_error(iban) is None


@pytest.mark.parametrize(("iban", "says"), [
    ("DE89370400440532013001", "check digits"),  # one digit changed
    ("DE89370400440532031000", "check digits"),  # two digits swapped
    ("DE8937040044053201300", "has 22 characters, not 21"),
    ("NL77ABNA05749087650", "has 18 characters"),
    ("ZZ89370400440532013000", "ZZ is not a country"),
    ("89DE370400440532013000", "not an IBAN"),
    ("DE89-3704-0044", "not an IBAN"),
])
def test_invalid_ibans_say_why(iban: str, says: str) -> None:
    problem = iban_error(iban)
    assert problem is not None and says in problem


@pytest.mark.parametrize("bic", ["COBADEFFXXX", "ABNANL2A", "BNPAFRPP"])
def test_bic_shapes_pass(bic: str) -> None:
    assert bic_error(bic) is None


@pytest.mark.parametrize("bic", ["COBADEFF1", "COBA DE FF", "cobadeff", "COBAZZFF", "1OBADEFF"])
def test_bad_bic_shapes_refused(bic: str) -> None:
    assert bic_error(bic) is not None


# --- ISO 11649 creditor references -----------------------------------------------------

def test_reference_check_digits_match_the_published_example() -> None:
    # The Swiss QR-bill in the corpus carries RF18539007547034 (SCOR reference).
    assert creditor_reference("539007547034") == "RF18539007547034"
    assert "RF18539007547034" in (PAYQR / "swissqrbill__a4bill_ex3.payload.txt").read_text()


def test_every_reference_we_make_validates_and_a_typo_does_not() -> None:
    for body in ("1", "PK7Q3WZ9", "Z" * 21, "A1B2C3"):
        reference = creditor_reference(body)
        assert is_valid_reference(reference) and len(reference) <= 25
        typo = reference[:-1] + ("0" if reference[-1] != "0" else "1")
        assert not is_valid_reference(typo)


@pytest.mark.parametrize("body", ["", "A" * 22, "AB-12", "ÉCOLE"])
def test_reference_bodies_that_cannot_make_one(body: str) -> None:
    with pytest.raises(BadReferenceBody):
        creditor_reference(body)


def test_top_up_references_are_unique_and_fit() -> None:
    # backend.topups' public ids are "T-" + 10 hex digits: readable in the reference.
    assert reference_for_top_up("T-3F9A0C11BE") == creditor_reference("PKT3F9A0C11BE")
    assert reference_for_top_up("T-3F9A0C11BE", "") == creditor_reference("T3F9A0C11BE")
    ids = [f"tu_{n:08d}-{'x' * 20}" for n in range(20000)]  # too long: digested
    references = {reference_for_top_up(top_up_id) for top_up_id in ids}
    assert len(references) == len(ids)
    assert all(is_valid_reference(ref) and len(ref) == 24 for ref in references)
    assert reference_for_top_up(ids[0]) == reference_for_top_up(ids[0])  # a function of the id


def test_references_found_in_free_text_tolerant_of_spaces_and_case() -> None:
    reference = creditor_reference("PK7Q3WZ9")
    spaced = " ".join(reference[i:i + 4] for i in range(0, len(reference), 4)).lower()
    assert reference in find_references(f"Top-up {spaced} thanks")
    assert reference in find_references(f"{reference} PRINTS")  # words typed after it
    assert normalize_reference(spaced) == reference
    assert normalize_reference("RF00PK7Q3WZ9") is None
    assert find_references("invoice 2014-01 RF nothing here") == []


# --- EPC069-12, rule by rule ---------------------------------------------------------

def test_our_payload_has_the_elements_in_order_and_no_trailing_data() -> None:
    payload = build_payload(transfer(purpose="GDDS", information="Printkiosk top-up"))
    lines = payload.split("\n")
    assert lines == ["BCD", "002", "1", "SCT", "", "Médiathèque de Saint-Étienne", IBAN,
                     "EUR12.50", "GDDS", creditor_reference("PKAB12CD"), "",
                     "Printkiosk top-up"]
    assert "\r" not in payload and not payload.endswith("\n")


def test_trailing_empty_elements_are_left_out() -> None:
    assert build_payload(transfer()).split("\n")[-1] == creditor_reference("PKAB12CD")
    unstructured = build_payload(transfer(reference="", remittance="Top-up AB12CD"))
    assert unstructured.split("\n")[9:] == ["", "Top-up AB12CD"]


def test_bic_is_optional_in_002_and_required_in_001() -> None:
    assert build_payload(transfer(bic="COBADEFFXXX")).split("\n")[4] == "COBADEFFXXX"
    with pytest.raises(EpcError, match="element 5"):
        build_payload(transfer(version="001"))
    with pytest.raises(EpcError, match="element 5"):
        build_payload(transfer(bic="COBADE"))


def test_beneficiary_name_required_and_at_most_70() -> None:
    assert build_payload(transfer(beneficiary="N" * 70))
    for name in ("", "N" * 71, "Two\nlines"):
        with pytest.raises(EpcError, match="element 6"):
            build_payload(transfer(beneficiary=name))


def test_iban_checked() -> None:
    for iban in ("DE89370400440532013001", "DE89 3704 0044 0532 0130 00"):
        with pytest.raises(EpcError, match="element 7"):
            build_payload(transfer(iban=iban))


@pytest.mark.parametrize(("amount", "written"), [("0.01", "EUR0.01"), ("12.5", "EUR12.50"),
                                                 ("999999999.99", "EUR999999999.99")])
def test_amount_written_eur_with_two_decimals(amount: str, written: str) -> None:
    assert build_payload(transfer(amount=Decimal(amount))).split("\n")[7] == written


@pytest.mark.parametrize("amount", ["0", "0.00", "-1", "1000000000.00", "1.005"])
def test_amount_out_of_range_refused(amount: str) -> None:
    with pytest.raises(EpcError, match="element 8"):
        build_payload(transfer(amount=Decimal(amount)))


def test_purpose_is_four_capitals_or_digits() -> None:
    with pytest.raises(EpcError, match="element 9"):
        build_payload(transfer(purpose="gdds"))


def test_reference_or_remittance_never_both_and_their_lengths() -> None:
    with pytest.raises(EpcError, match="never both"):
        build_payload(transfer(remittance="also text"))
    with pytest.raises(EpcError, match="element 10"):
        build_payload(transfer(reference="R" * 36))
    assert build_payload(transfer(reference="", remittance="T" * 140))
    with pytest.raises(EpcError, match="element 11"):
        build_payload(transfer(reference="", remittance="T" * 141))
    with pytest.raises(EpcError, match="element 12"):
        build_payload(transfer(information="I" * 71))


def test_payload_at_most_331_bytes_counted_in_utf8() -> None:
    # Every element at its own maximum makes more than 331 bytes: the total is a rule too.
    def longest(remittance_chars: int, letter: str = "T") -> EpcTransfer:
        return transfer(beneficiary="N" * 70, reference="", remittance=letter * remittance_chars,
                        information="I" * 70, bic="COBADEFFXXX", purpose="GDDS")

    at_limit = build_payload(longest(125))
    assert len(at_limit.encode()) == 331
    with pytest.raises(EpcError, match="payload: 332 bytes, at most 331"):
        build_payload(longest(126))
    with pytest.raises(EpcError, match="payload: 340 bytes"):  # 67 letters of 2 bytes
        build_payload(longest(67, "é"))


def test_parse_refuses_what_the_standard_forbids() -> None:
    good = build_payload(transfer()).encode()
    assert parse_payload(good) == transfer()
    assert parse_payload(good.replace(b"\n", b"\r\n")) == transfer()
    cases = {
        good + b"\n": "ends with a line feed",
        good.replace(b"BCD", b"BCX", 1): "element 1",
        good.replace(b"\n002\n", b"\n003\n", 1): "element 2",
        good.replace(b"\n1\nSCT", b"\n9\nSCT", 1): "element 3",
        good.replace(b"SCT", b"INST", 1): "element 4",
        good.replace(b"EUR12.50", b"USD12.50"): "element 8",
        good.replace(b"EUR12.50", b"EUR12,50"): "element 8",
        b"BCD\n002\n1\nSCT": "elements, must be 7 to 12",
        b"BCD\n002\n1\nSCT\n\nN\n" + IBAN.encode() + b"\n" * 6 + b"x": "elements",
        good + b"\n" + b"x" * 300: "bytes, at most 331",
        good.replace("é".encode(), b"\xe9"): "not utf-8",
    }
    for data, says in cases.items():
        with pytest.raises(EpcError, match=says):
            parse_payload(data)


@pytest.mark.parametrize("name", ["segno__epc_spende-wikipedia", "segno__epc_spende-wikipedia2"])
def test_corpus_girocodes_parse_and_validate(name: str) -> None:
    parsed = parse_payload((PAYQR / f"{name}.payload.txt").read_bytes())
    assert parsed.beneficiary == "Wikimedia Foerdergesellschaft"
    assert parsed.iban == "DE33100205000001194700" and parsed.bic == ""
    assert parsed.remittance == "Spende fuer Wikipedia" and parsed.reference == ""
    assert parsed.amount == {"segno__epc_spende-wikipedia": Decimal("20"),
                             "segno__epc_spende-wikipedia2": Decimal("13.05")}[name]
    assert parsed.character_set == ("2" if name.endswith("wikipedia") else "1")


def test_corpus_girocode_image_decodes_to_its_payload() -> None:
    from PIL import Image

    decoded = pyzbar.decode(Image.open(PAYQR / "segno__epc_spende-wikipedia2.png"))
    assert [symbol.data for symbol in decoded] == [
        (PAYQR / "segno__epc_spende-wikipedia2.payload.txt").read_bytes()]


def test_a_swiss_qr_bill_is_not_a_girocode() -> None:
    with pytest.raises(EpcError, match="element 1"):
        parse_payload((PAYQR / "swissqrbill__a4bill_ex3.payload.txt").read_bytes())


def test_our_payload_as_a_qr_image_decodes_to_the_same_text() -> None:
    ours = transfer(bic="COBADEFFXXX", beneficiary="Bibliotheque universitaire Lyon 2")
    payload = build_payload(ours)
    image = qrcode.make(payload.encode("utf-8"), error_correction=ERROR_CORRECT_M)
    decoded = pyzbar.decode(image.get_image())
    assert len(decoded) == 1
    assert decoded[0].data.decode("utf-8") == payload
    assert parse_payload(decoded[0].data) == ours


def test_zbar_misreads_non_ascii_utf8_without_an_eci() -> None:
    """Why docs/payments-bank-transfer.md asks for an ASCII beneficiary name: a QR in byte
    mode without an ECI header leaves the reader to guess the encoding, and zbar guesses
    Shift JIS for UTF-8 accents. If this starts to pass, zbar has changed its guess."""
    payload = build_payload(transfer())
    decoded = pyzbar.decode(qrcode.make(payload.encode("utf-8")).get_image())
    assert decoded[0].data.decode("utf-8") != payload
