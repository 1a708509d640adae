"""Mail templates: Jinja2, one set per language, each mail a subject, a plain-text body
and an HTML body; an operator's folder overrides any file.

Why one file per language instead of gettext: a mail is a short letter, not a screen of
labels; an operator who wants to change the wording of the low-balance mail copies one
file and edits it, and the translator sees the whole letter at once. Layout, for a mail
kind ``low_balance`` in French::

    fr/low_balance.subject.txt   one line (newlines are folded: no header injection)
    fr/low_balance.txt           the plain-text body (not escaped: it is not HTML)
    fr/low_balance.html          the HTML body (autoescaped)

A language with no file of that kind falls back to English. Templates format the
context's raw values with filters, in the mail's language and the site's time zone:
``{{ amount|money }}`` (a decimal string; the currency is ``context["currency"]``),
``{{ at|when }}`` (ISO 8601 instant), ``{{ on|day }}`` (ISO date), ``{{ n|number }}``.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from babel.dates import format_date, format_time, get_timezone
from babel.numbers import format_currency, format_decimal
from jinja2 import (
    ChoiceLoader,
    Environment,
    FileSystemLoader,
    StrictUndefined,
    TemplateNotFound,
    pass_context,
    select_autoescape,
)
from jinja2.runtime import Context

SHIPPED_DIR = Path(__file__).with_name("templates")
LANGUAGES = ("en", "fr")
_BABEL_LOCALE = {"en": "en_GB", "fr": "fr_FR"}
PARTS = ("subject.txt", "txt", "html")


@dataclass(frozen=True)
class RenderedMail:
    subject: str
    text: str
    html: str


def environment(override_dir: Path | None = None) -> Environment:
    """The templates: the operator's folder first (when named), then the shipped ones."""
    loaders = [FileSystemLoader(str(SHIPPED_DIR))]
    if override_dir is not None:
        loaders.insert(0, FileSystemLoader(str(override_dir)))
    env = Environment(loader=ChoiceLoader(loaders), undefined=StrictUndefined,
                      autoescape=select_autoescape(enabled_extensions=("html",),
                                                   default_for_string=True),
                      keep_trailing_newline=True)
    env.filters.update(money=_money, when=_when, day=_day, number=_number)
    return env


def render(env: Environment, kind: str, language: str, context: dict[str, Any],
           timezone: str = "UTC") -> RenderedMail:
    """The mail ``kind`` in ``language`` (English when that language lacks it)."""
    if language not in LANGUAGES:
        language = "en"
    values = {**context, "language": language, "timezone": timezone}
    parts: dict[str, str] = {}
    for part in PARTS:
        name = f"{language}/{kind}.{part}"
        try:
            template = env.get_template(name)
        except TemplateNotFound:
            template = env.get_template(f"en/{kind}.{part}")
        parts[part] = template.render(values)
    return RenderedMail(subject=" ".join(parts["subject.txt"].split()),
                        text=parts["txt"], html=parts["html"])


def _locale(context: Context) -> str:
    return _BABEL_LOCALE[context["language"]]


@pass_context
def _money(context: Context, amount: str | Decimal) -> str:
    return format_currency(Decimal(str(amount)), context["currency"], locale=_locale(context))


@pass_context
def _number(context: Context, value: str | int | Decimal) -> str:
    return format_decimal(Decimal(str(value)), format="#,##0.##", locale=_locale(context))


@pass_context
def _when(context: Context, instant: str | dt.datetime) -> str:
    moment = dt.datetime.fromisoformat(instant) if isinstance(instant, str) else instant
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    zone = get_timezone(context["timezone"])
    local = moment.astimezone(zone)
    return (f"{format_date(local.date(), format='medium', locale=_locale(context))}, "
            f"{format_time(local, format='short', tzinfo=zone, locale=_locale(context))}")


@pass_context
def _day(context: Context, value: str | dt.date) -> str:
    day = dt.date.fromisoformat(value) if isinstance(value, str) else value
    return format_date(day, format="long", locale=_locale(context))
