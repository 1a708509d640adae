"""Normalisation rules as a table of cases, their configuration, and derivation from examples."""

from __future__ import annotations

from typing import Any

import pytest

from drivers.cards.derive import derive_rule
from drivers.cards.errors import CardConfigError, CardNumberError, NoRuleFits
from drivers.cards.normalise import NormalisationRule, rule_from_config

# The worked example of docs/card-readers.md: one MIFARE Classic card, UID bytes 04 A1 B2 C3.
PCSC_UID = "04A1B2C3"  # what PcscCardReader reports (FF CA 00 00 00, bytes as sent)
WEDGE_REVERSED_DEC = "3283263748"  # 0xC3B2A104: the wedge reader types the bytes reversed
WEDGE_RULE = {"input": "dec", "reverse_bytes": True, "bytes": 4}


def reversed_decimal(uid_hex: str) -> str:
    """What a reversed-decimal wedge reader types for a UID: computed independently of the rule."""
    return str(int.from_bytes(bytes.fromhex(uid_hex)[::-1], "big"))


CASES = [
    # (config, raw, expected card number)
    ({}, PCSC_UID, PCSC_UID),
    ({}, "04a1b2c3", PCSC_UID),
    ({}, "04:A1:B2:C3", PCSC_UID),
    ({}, " 04 A1 B2 C3 ", PCSC_UID),
    (WEDGE_RULE, WEDGE_REVERSED_DEC, PCSC_UID),
    (WEDGE_RULE, reversed_decimal("04000000"), "04000000"),  # a zero low byte keeps its place
    ({"input": "dec", "reverse_bytes": True}, reversed_decimal("04000000"), "04"),  # why bytes=4
    ({"output": "dec"}, PCSC_UID, "77705923"),
    ({"output": "dec", "length": 10}, PCSC_UID, "0077705923"),
    ({"reverse_bytes": True, "output": "dec"}, PCSC_UID, WEDGE_REVERSED_DEC),
    ({"reverse_bytes": True}, PCSC_UID, "C3B2A104"),
    ({"hex_case": "lower"}, PCSC_UID, "04a1b2c3"),
    ({"strip_zeros": True}, PCSC_UID, "4A1B2C3"),
    ({"input": "dec", "output": "dec", "strip_zeros": True}, "0000123456", "123456"),
    ({"input": "dec", "output": "dec", "length": 8}, "0000123456", "00123456"),
    ({"input": "dec", "output": "dec", "length": 4}, "0000123456", "3456"),  # keep the last
    ({"input": "dec", "output": "hex"}, "123456", "01E240"),
    ({"input": "dec", "bytes": 4}, "123456", "0001E240"),
    ({"extract": r";(\d+)\?", "input": "dec", "output": "dec"}, ";0012345?", "12345"),
    ({"extract": r"ID=(?P<id>[0-9A-F]+)", "reverse_bytes": True}, "X ID=0102 Y", "0201"),
    ({"extract": r"[0-9A-F]{8}"}, "card 04A1B2C3 ok", PCSC_UID),
    ({"extract": r"^.{2}(.*).{1}$", "input": "dec", "output": "dec"}, "0212345X", "12345"),
    # a 7-byte DESFire UID read by both reader kinds
    (WEDGE_RULE | {"bytes": 7}, reversed_decimal("04112233445566"), "04112233445566"),
]


@pytest.mark.parametrize(("config", "raw", "expected"), CASES)
def test_rule_maps_raw_to_card_number(config: dict[str, Any], raw: str, expected: str) -> None:
    assert rule_from_config(config).apply(raw) == expected


def test_one_card_one_identity_whichever_reader() -> None:
    pcsc = rule_from_config({})
    wedge = rule_from_config(WEDGE_RULE)
    for uid in ("04A1B2C3", "8A0B0C00", "0011AA22", "FFFFFFFF"):
        assert pcsc.apply(uid) == wedge.apply(reversed_decimal(uid)) == uid


@pytest.mark.parametrize(
    ("config", "raw", "reason"),
    [
        ({}, "04G1", "is not hexadecimal"),
        ({}, "", "is not hexadecimal"),
        ({"input": "dec"}, "12A4", "is not decimal"),
        ({"input": "dec", "bytes": 2}, "70000", "does not fit in 2 bytes"),
        ({"extract": r"ID=(\d+)"}, "nothing here", "does not match extract pattern"),
        ({"extract": r"ID=(\d*)"}, "ID=", "captured nothing"),
    ],
)
def test_unusable_read_is_a_clear_error(config: dict[str, Any], raw: str, reason: str) -> None:
    with pytest.raises(CardNumberError, match=reason) as caught:
        rule_from_config(config).apply(raw)
    assert caught.value.raw.strip() == raw.strip()


@pytest.mark.parametrize(
    ("config", "key", "expected"),
    [
        ({"inptu": "hex"}, "normalise.inptu", "is not a known key"),
        ({"input": "hexa"}, "normalise.input", 'is not one of "hex", "dec"'),
        ({"output": 16}, "normalise.output", 'is not one of "hex", "dec"'),
        ({"hex_case": "UPPER"}, "normalise.hex_case", 'is not one of "upper", "lower"'),
        ({"reverse_bytes": "yes"}, "normalise.reverse_bytes", "is not true or false"),
        ({"bytes": 33}, "normalise.bytes", "is not an integer between 0 and 32"),
        ({"length": True}, "normalise.length", "is not an integer between 0 and 64"),
        ({"extract": "("}, "normalise.extract", "is not a valid regular expression"),
        ({"extract": ""}, "normalise.extract", "is not a non-empty regular expression"),
    ],
)
def test_config_errors_name_key_value_and_expectation(
    config: dict[str, Any], key: str, expected: str
) -> None:
    with pytest.raises(CardConfigError) as caught:
        rule_from_config(config)
    error = caught.value
    assert error.key == key
    assert error.value == next(iter(config.values()))
    assert expected in error.expected
    assert str(error).startswith(f"{key}: {error.value!r} ")


def test_config_round_trips() -> None:
    rule = rule_from_config(WEDGE_RULE | {"length": 8, "extract": r"(\d+)"})
    assert rule_from_config(rule.to_config()) == rule
    assert rule_from_config({}).to_config() == {}


def test_worked_example_is_derived_from_three_pairs() -> None:
    uids = ["04A1B2C3", "8A0B0C00", "0011AA22"]
    derivation = derive_rule([(reversed_decimal(uid), uid) for uid in uids])
    assert derivation.rule == NormalisationRule(input="dec", reverse_bytes=True, bytes=4)
    assert derivation.description == (
        "Read it as decimal, reverse the byte order over 4 bytes, "
        "write it as upper-case hexadecimal."
    )
    assert derivation.alternatives == ()
    assert derivation.rule.apply(WEDGE_REVERSED_DEC) == PCSC_UID


@pytest.mark.parametrize(
    ("pairs", "check_raw", "check_stored"),
    [
        # migration from a system that stored the PC/SC UID as zero-padded decimal
        ([("04A1B2C3", "0077705923"), ("8A0B0C00", "2315979776"), ("0011AA22", "0001157666")],
         "FFFFFFFF", "4294967295"),
        # a wedge reader adding its own framing, stored as plain decimal
        ([(";0012345?", "12345"), (";0000777?", "777"), (";4294967?", "4294967")],
         ";0000001?", "1"),
        # lower-case hex stored by a web application
        ([("04A1B2C3", "04a1b2c3"), ("8A0B0C00", "8a0b0c00"), ("0011AA22", "0011aa22")],
         "DEADBEEF", "deadbeef"),
    ],
)
def test_derived_rule_generalises(
    pairs: list[tuple[str, str]], check_raw: str, check_stored: str
) -> None:
    derivation = derive_rule(pairs)
    for raw, stored in pairs:
        assert derivation.rule.apply(raw) == stored
    assert derivation.rule.apply(check_raw) == check_stored
    assert derivation.description.endswith(".")


def test_digits_only_examples_are_explained_as_decimal() -> None:
    derivation = derive_rule([("12345678", "12345678"), ("00000001", "00000001"),
                              ("99999999", "99999999")])
    assert derivation.description == (
        "Read it as decimal, write it as decimal, "
        "make it exactly 8 digits (zeros added in front, or the last 8 kept)."
    )
    assert derivation.rule.apply("00000042") == "00000042"


def test_ambiguous_examples_report_alternatives() -> None:
    # the framing could be cut by a digit run, a hex run or one character each side
    derivation = derive_rule([(";0012345?", "12345"), (";0000777?", "777"),
                              (";4294967?", "4294967")])
    assert derivation.rule == NormalisationRule(extract="[0-9]+", input="dec", output="dec")
    assert derivation.description == (
        "Take the part matching [0-9]+, read it as decimal, write it as decimal."
    )
    assert NormalisationRule(
        extract="[0-9A-Fa-f]+", input="dec", output="dec"
    ) in derivation.alternatives


def test_no_rule_fits_names_the_examples_and_the_closest_rule() -> None:
    pairs = [("04A1B2C3", "04A1B2C3"), ("8A0B0C00", "8A0B0C00"), ("0011AA22", "something")]
    with pytest.raises(NoRuleFits) as caught:
        derive_rule(pairs)
    message = str(caught.value)
    assert "no rule maps all 3 examples" in message
    assert "fits 2 of 3" in message
    assert "'0011AA22' gives '0011AA22', not 'something'" in message


def test_derivation_needs_three_pairs() -> None:
    with pytest.raises(ValueError, match="at least 3"):
        derive_rule([("1", "1"), ("2", "2")])
