"""Find the normalisation rule that explains example pairs (what the reader gives -> stored).

Operators migrating from another system know, for a few cards, what their new reader types
and which number the old system stored; they rarely know "reversed decimal over 4 bytes".
This module tries every rule in a small, finite space (the options of
:class:`NormalisationRule`, a few ways to cut the raw text, usual UID sizes) from the simplest
up, and returns the simplest that maps every pair, with its description to confirm. At least
three pairs are required: two pairs are too often explained by a coincidental rule.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from drivers.cards.errors import CardNumberError, NoRuleFits
from drivers.cards.normalise import Base, HexCase, NormalisationRule

MIN_PAIRS = 3
_USUAL_UID_BYTES = (4, 7, 8, 10)
_MAX_CUT = 6
_EXTRACT_RUNS = (r"[0-9]+", r"[0-9A-Fa-f]+")


@dataclass(frozen=True)
class Derivation:
    """The simplest fitting rule, its description, and equally simple rules that also fit.

    Non-empty ``alternatives`` means the examples do not settle the rule: the operator should
    add an example that tells them apart before confirming.
    """

    rule: NormalisationRule
    description: str
    alternatives: tuple[NormalisationRule, ...]


def derive_rule(pairs: Sequence[tuple[str, str]]) -> Derivation:
    """The simplest rule mapping every ``(raw, stored)`` pair; :class:`NoRuleFits` otherwise."""
    if len(pairs) < MIN_PAIRS:
        raise ValueError(f"{len(pairs)} example pairs given; at least {MIN_PAIRS} are needed")
    examples = [(raw.strip(), stored.strip()) for raw, stored in pairs]
    for index, (raw, stored) in enumerate(examples, start=1):
        if not raw or not stored:
            raise ValueError(f"example {index} ({raw!r} -> {stored!r}) has an empty side")
    best: tuple[int, NormalisationRule | None] = (0, None)
    found: list[NormalisationRule] = []
    found_cost: int | None = None
    for cost, rule in _candidates(examples):
        if found_cost is not None and cost > found_cost:
            break
        fitting = sum(1 for raw, stored in examples if _maps(rule, raw, stored))
        if fitting == len(examples):
            found.append(rule)
            found_cost = cost
        elif fitting > best[0]:
            best = (fitting, rule)
    if found:
        return Derivation(found[0], found[0].describe(), tuple(found[1:]))
    raise NoRuleFits(_no_rule_message(examples, best))


def _maps(rule: NormalisationRule, raw: str, stored: str) -> bool:
    try:
        return rule.apply(raw) == stored
    except CardNumberError:
        return False


def _candidates(examples: list[tuple[str, str]]) -> Iterator[tuple[int, NormalisationRule]]:
    """Every rule of the search space, cheapest (fewest non-default settings) first."""
    stored_lengths = {len(stored) for _, stored in examples}
    lengths = [0, *sorted(stored_lengths)] if len(stored_lengths) == 1 else [0]
    widths = sorted({0, *_USUAL_UID_BYTES, *(len(s) // 2 for _, s in examples if len(s) % 2 == 0)})
    any_lower = any(re.search("[a-f]", stored) for _, stored in examples)
    cases: tuple[HexCase, HexCase] = ("lower", "upper") if any_lower else ("upper", "lower")
    bases: tuple[Base, Base] = ("hex", "dec")
    shortest = min(len(raw) for raw, _ in examples)
    extracts: list[str | None] = [None, *_EXTRACT_RUNS]
    for head, tail in itertools.product(range(_MAX_CUT + 1), repeat=2):
        if (head or tail) and head + tail < shortest:
            extracts.append(f"^.{{{head}}}(.*).{{{tail}}}$")
    settings = itertools.product(
        extracts,
        bases,
        (False, True),
        widths,
        bases,
        cases,
        (False, True),
        lengths,
    )
    default = NormalisationRule()
    # Numbers with no hex letter on either side are most plainly read and written as decimal.
    plain: Base = (
        "dec" if all(_is_decimal(raw) and stored.isdigit() for raw, stored in examples) else "hex"
    )
    ranked: list[tuple[int, int, tuple[Any, ...]]] = []
    for order, values in enumerate(settings):
        extract, base_in, reverse, width, base_out, case, strip, length = values
        if base_out == "dec" and case != cases[0]:
            continue
        if width and not reverse and base_out == "dec":
            continue
        cost = sum(
            (
                extract is not None,
                base_in != plain,
                reverse,
                width != 0,
                base_out != plain,
                case != default.hex_case,
                strip,
                length != 0,
            )
        )
        ranked.append((cost, order, values))
    ranked.sort(key=lambda item: (item[0], item[1]))
    for cost, _, values in ranked:
        extract, base_in, reverse, width, base_out, case, strip, length = values
        yield (
            cost,
            NormalisationRule(
                extract=extract,
                input=base_in,
                reverse_bytes=reverse,
                bytes=width,
                output=base_out,
                hex_case=case,
                strip_zeros=strip,
                length=length,
            ),
        )


def _is_decimal(raw: str) -> bool:
    return not re.search("[A-Fa-f]", raw) and any(char.isdigit() for char in raw)


def _no_rule_message(
    examples: list[tuple[str, str]], best: tuple[int, NormalisationRule | None]
) -> str:
    listed = "; ".join(f"{raw!r} -> {stored!r}" for raw, stored in examples)
    message = f"no rule maps all {len(examples)} examples ({listed})"
    fitting, rule = best
    if rule is None:
        return message + "; no rule maps even one of them"
    misses = []
    for raw, stored in examples:
        if not _maps(rule, raw, stored):
            try:
                got = repr(rule.apply(raw))
            except CardNumberError as exc:
                got = f"error: {exc.reason}"
            misses.append(f"{raw!r} gives {got}, not {stored!r}")
    return (
        f"{message}; the closest rule ({rule.describe()}) fits {fitting} of {len(examples)}: "
        + "; ".join(misses)
    )
