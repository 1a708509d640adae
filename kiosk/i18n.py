"""User-facing text through gettext catalogues, switchable per session.

The catalogues are the ``.po`` files beside this module, compiled in memory at start-up
with Babel, so that a translator edits one text file and no build step can leave a stale
``.mo`` behind. Amounts and dates are formatted with Babel for the current language.
Error codes from the terminal core are stable keys (``error.card_unknown``) looked up
here, never prose built in code.
"""

from __future__ import annotations

import datetime as dt
import gettext
import io
from decimal import Decimal
from pathlib import Path

from babel.dates import format_date, format_datetime, get_timezone
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import format_currency, format_decimal

LOCALE_DIR = Path(__file__).with_name("locale")
LANGUAGES = {"en": "English", "fr": "Français"}
_BABEL_LOCALE = {"en": "en_GB", "fr": "fr_FR"}


def _compile(language: str) -> gettext.GNUTranslations:
    with (LOCALE_DIR / f"{language}.po").open("rb") as po_file:
        catalog = read_po(po_file, locale=language)
    buffer = io.BytesIO()
    write_mo(buffer, catalog)
    buffer.seek(0)
    return gettext.GNUTranslations(buffer)


class Translator:
    """The current language's catalogue; ``translator("text")`` translates."""

    def __init__(self, language: str = "en", timezone: str = "UTC") -> None:
        self._catalogues = {code: _compile(code) for code in LANGUAGES}
        self.language = language if language in LANGUAGES else "en"
        # times are stored in UTC and shown in the kiosk's own time zone
        self.timezone = get_timezone(timezone)

    def set_language(self, language: str) -> None:
        if language in LANGUAGES:
            self.language = language

    def __call__(self, message: str, **values: object) -> str:
        text = self._catalogues[self.language].gettext(message)
        return text.format(**values) if values else text

    def plural(self, singular: str, plural: str, count: int, **values: object) -> str:
        """A message whose wording depends on ``count`` (French: 0 and 1 are singular)."""
        text = self._catalogues[self.language].ngettext(singular, plural, count)
        return text.format(**values)

    def error(self, code: str) -> str:
        """Translate a stable error code; an unknown code gets the generic message."""
        key = f"error.{code}"
        text = self._catalogues[self.language].gettext(key)
        return text if text != key else self("error.generic")

    def money(self, amount: Decimal, currency: str) -> str:
        return format_currency(amount, currency, locale=_BABEL_LOCALE[self.language])

    def number(self, value: Decimal) -> str:
        """A measure (grams, metres) with the language's decimal separator: 0.97 / 0,97."""
        return format_decimal(value, format="#,##0.##", locale=_BABEL_LOCALE[self.language])

    def datetime(self, moment: dt.datetime) -> str:
        return format_datetime(moment, format="short", tzinfo=self.timezone,
                               locale=_BABEL_LOCALE[self.language])

    def date(self, day: dt.date) -> str:
        """A calendar date in words ("30 June 2027", "30 juin 2027"): an expiry date has
        no time of day, so no time zone applies."""
        return format_date(day, format="long", locale=_BABEL_LOCALE[self.language])
