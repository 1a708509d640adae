"""Money shown to people, per language: ``€12.50`` in English, ``12,50 €`` in French.

The kiosk must show amounts while the backend is unreachable and on a box without
extra locale data, so the few conventions the project ships translations for are written
here as data (the test suite checks them against Babel's CLDR output). Separators follow
CLDR: French groups thousands with a narrow no-break space and puts a no-break space
before the symbol, so "12,50 €" never wraps between the number and the sign.
"""

from __future__ import annotations

from dataclasses import dataclass

from billing.money import Money, minor_units

NBSP = "\u00a0"
NNBSP = "\u202f"


@dataclass(frozen=True)
class _Convention:
    decimal: str
    group: str
    symbol_first: bool
    symbols: dict[str, str]


_CONVENTIONS: dict[str, _Convention] = {
    "en": _Convention(".", ",", True, {"EUR": "€", "USD": "$", "GBP": "£", "JPY": "¥"}),
    "fr": _Convention(",", NNBSP, False, {"EUR": "€", "USD": "$US", "GBP": "£GB"}),
    "de": _Convention(",", ".", False, {"EUR": "€", "USD": "$", "GBP": "£", "JPY": "¥"}),
}

LANGUAGES: tuple[str, ...] = tuple(_CONVENTIONS)


def _language(locale: str) -> str:
    """``fr_CH`` and ``fr-FR`` use the French rules; an unsupported language is an error."""
    language = locale.replace("-", "_").split("_", 1)[0].lower()
    if language not in _CONVENTIONS:
        raise ValueError(
            f"no money format for locale {locale!r}: expected one of {', '.join(LANGUAGES)}"
        )
    return language


def format_money(money: Money, locale: str) -> str:
    """``money`` as a person reading ``locale`` expects it, with every minor-unit digit."""
    rules = _CONVENTIONS[_language(locale)]
    digits = minor_units(money.currency)
    whole, _, fraction = f"{abs(money.amount):.{digits}f}".partition(".")
    groups: list[str] = []
    while len(whole) > 3:
        groups.insert(0, whole[-3:])
        whole = whole[:-3]
    groups.insert(0, whole)
    number = rules.group.join(groups) + (rules.decimal + fraction if digits else "")
    symbol = rules.symbols.get(money.currency, money.currency)
    text = f"{symbol}{number}" if rules.symbol_first else f"{number}{NBSP}{symbol}"
    return f"-{text}" if money.amount < 0 else text
