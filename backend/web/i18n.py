"""The pages' texts in English and French, from gettext catalogues beside this module.

The same approach as the kiosk (``kiosk.i18n``): ``.po`` files compiled in memory with
Babel at start-up, so a translator edits text files and no stale ``.mo`` exists. The
backend cannot import the kiosk (the import rule), hence its own catalogue: one file per
part of the site under ``locale/<lang>/`` (``base.po``, ``desk.po``, ...), read as one.
The source texts are English, so English needs no file.
Amounts and dates are formatted with Babel for the page's language and the site's time
zone.
"""

from __future__ import annotations

import datetime as dt
import gettext
import io
from dataclasses import dataclass
from decimal import Decimal
from functools import cache
from pathlib import Path

from babel.dates import format_date, format_datetime, get_timezone
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import format_currency, format_decimal

LOCALE_DIR = Path(__file__).with_name("locale")
LANGUAGES = {"en": "English", "fr": "Français"}
_BABEL_LOCALE = {"en": "en_GB", "fr": "fr_FR"}


@cache
def catalogue(language: str) -> gettext.NullTranslations:
    """The language's texts; English (the source language) translates to itself."""
    files = sorted((LOCALE_DIR / language).glob("*.po"))
    if not files:
        return gettext.NullTranslations()
    merged: gettext.NullTranslations | None = None
    for path in files:
        with path.open("rb") as po_file:
            read = read_po(po_file, locale=language)
        buffer = io.BytesIO()
        write_mo(buffer, read)
        buffer.seek(0)
        part = gettext.GNUTranslations(buffer)
        if merged is None:
            merged = part
        else:
            merged.add_fallback(part)
    assert merged is not None
    return merged


def pick_language(preferred: str | None, accept_language: str | None) -> str:
    """The account's or cookie's language if known, else the browser's first known one."""
    if preferred in LANGUAGES:
        return str(preferred)
    for part in (accept_language or "").split(","):
        code = part.split(";")[0].strip().lower()[:2]
        if code in LANGUAGES:
            return code
    return "en"


@dataclass(frozen=True)
class PageText:
    """One page's language: ``text("Cash in")`` and the locale's formats."""

    language: str
    currency: str
    timezone: str = "UTC"

    def __call__(self, message: str, **values: object) -> str:
        translated = catalogue(self.language).gettext(message)
        return translated.format(**values) if values else translated

    def plural(self, singular: str, plural: str, count: int, **values: object) -> str:
        return catalogue(self.language).ngettext(singular, plural, count).format(
            count=count, **values)

    def money(self, amount: Decimal | None) -> str:
        if amount is None:
            return ""
        return format_currency(amount, self.currency, locale=_BABEL_LOCALE[self.language])

    def number(self, value: Decimal | int) -> str:
        return format_decimal(value, format="#,##0.##", locale=_BABEL_LOCALE[self.language])

    def when(self, moment: dt.datetime | None) -> str:
        if moment is None:
            return ""
        return format_datetime(moment, format="short", tzinfo=get_timezone(self.timezone),
                               locale=_BABEL_LOCALE[self.language])

    def day(self, value: dt.date | None) -> str:
        if value is None:
            return ""
        return format_date(value, format="medium", locale=_BABEL_LOCALE[self.language])
