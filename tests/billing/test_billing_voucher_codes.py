"""Voucher codes: the check character catches every single substitution and every swap of
two unequal neighbours, at every position; typing is forgiving; the randomness is real."""

from __future__ import annotations

import secrets

from hypothesis import given, settings
from hypothesis import strategies as st

from billing.voucher_codes import (
    ALPHABET,
    BODY_LENGTH,
    DATA_LENGTH,
    assess,
    canonical,
    check_character,
    is_valid_body,
    new_code,
    validate_prefix,
)

data_strings = st.text(alphabet=ALPHABET, min_size=DATA_LENGTH, max_size=DATA_LENGTH)


def _body(data: str) -> str:
    return data + check_character(data)


@settings(max_examples=300)
@given(data_strings)
def test_every_single_substitution_is_caught_at_every_position(data: str) -> None:
    body = _body(data)
    assert is_valid_body(body)
    for position in range(BODY_LENGTH):
        for replacement in ALPHABET:
            if replacement == body[position]:
                continue
            typo = body[:position] + replacement + body[position + 1:]
            assert not is_valid_body(typo), (body, position, replacement)


@settings(max_examples=300)
@given(data_strings)
def test_every_swap_of_unequal_neighbours_is_caught_including_the_check(data: str) -> None:
    body = _body(data)
    for position in range(BODY_LENGTH - 1):
        left, right = body[position], body[position + 1]
        if left == right:
            continue
        swapped = body[:position] + right + left + body[position + 2:]
        assert not is_valid_body(swapped), (body, position)


def test_new_codes_carry_65_random_bits_and_are_valid() -> None:
    codes = {new_code().body for _ in range(2000)}
    assert len(codes) == 2000
    assert all(len(body) == BODY_LENGTH and is_valid_body(body) for body in codes)
    # Every character of the alphabet turns up in every data position over 2000 codes.
    for position in range(DATA_LENGTH):
        assert {body[position] for body in codes} == set(ALPHABET)


def test_the_code_is_drawn_from_secrets_bits() -> None:
    seen: list[int] = []

    def randbits(bits: int) -> int:
        seen.append(bits)
        return secrets.randbits(bits)

    new_code(randbits=randbits)
    assert seen == [65]


def test_display_groups_by_four_after_the_prefix() -> None:
    code = new_code("lib", randbits=lambda bits: 0)
    assert code.prefix == "LIB"
    assert code.display == "LIB-0000-0000-0000-" + code.body[12:]
    assert len(code.display.split("-")) == 5


def test_what_people_type_is_normalised() -> None:
    body = new_code().body
    messy = " " + body.lower().replace("0", "o").replace("1", "l") + "  "
    messy = messy[:5] + "-" + messy[5:9] + " " + messy[9:]
    assert canonical(messy) == body
    assert assess(messy).status == "valid"
    assert assess(messy).body == body


def test_a_scanned_display_code_with_its_prefix_is_read_as_its_body() -> None:
    code = new_code("LIB")
    assessment = assess(code.display)
    assert assessment.status == "valid" and assessment.body == code.body


def test_a_typo_is_told_apart_from_a_well_formed_code() -> None:
    body = new_code().body
    wrong = ALPHABET[(ALPHABET.index(body[3]) + 1) % 32]
    typo = body[:3] + wrong + body[4:]
    assert assess(typo).status == "typo"
    assert assess(body).status == "valid"


def test_partial_empty_and_foreign_input() -> None:
    assert assess("").status == "empty"
    assert assess(" - ").status == "empty"
    partial = assess("7k3m q9")
    assert partial.status == "incomplete" and partial.shown == "7K3M-Q9"
    foreign = assess("7K3M-Q9U")
    assert foreign.status == "invalid_character" and foreign.invalid == "U"


def test_prefixes_are_checked_with_a_clear_message() -> None:
    assert validate_prefix(" lib ") == "LIB"
    for bad in ("", "TOOLONGX", "LI B", "LIB-1", "É"):
        try:
            validate_prefix(bad)
        except ValueError as error:
            assert "voucher prefix" in str(error) and "1 to 6" in str(error)
        else:
            raise AssertionError(f"{bad!r} accepted")
