"""The sentences the people pages show for a refused change (``backend.people.Refused``
codes), and the small form-reading helpers those pages share.

``_`` here only marks a msgid for the catalogue test (like ``gettext_noop``); the page
translates it when it shows it, with the refusal's values.
"""

from __future__ import annotations

from starlette.datastructures import FormData

from backend.people import Refused
from backend.web.i18n import PageText


def _(message: str) -> str:
    return message


MESSAGES = {
    "display_name_length": _("Enter a display name of 1 to 200 characters."),
    "email_invalid": _("This is not an e-mail address."),
    "language_unknown": _("Choose English or French."),
    "status_unknown": _("Choose active or disabled."),
    "overdraft_negative": _("The overdraft limit cannot be negative."),
    "cost_centre_unknown": _("This cost centre does not exist."),
    "group_unknown": _("This group does not exist."),
    "card_empty": _("Type or swipe a card number (up to 64 characters)."),
    "label_long": _("A label has at most 100 characters."),
    "card_own": _("The user already has this card."),
    "card_taken": _("This card belongs to another user."),
    "card_unknown": _("This card is not the user's."),
    "pin_format": _("A PIN is 4 to 8 digits."),
    "password_rule": _("A password needs 10 to 200 characters, without control characters."),
    "role_unknown": _("This role does not exist."),
    "role_own_administrator": _("You cannot remove your own administrator role: ask "
                                "another administrator."),
    "operation_invalid": _("This form has expired: reload the page and try again."),
    "amount_zero": _("An adjustment cannot be zero."),
    "amount_invalid": _("Enter an amount such as 5.00 or -2.50."),
    "reason_required": _("Say why: an adjustment needs a reason."),
    "account_invalid": _("Choose virtual or personal credit."),
    "virtual_credit_negative": _("Virtual credit cannot go below zero."),
    "name_length": _("Enter 1 to {limit} characters."),
    "name_taken": _("This name is already used."),
    "group_has_members": _("Users still in this group: {count}. Move them first."),
    "group_in_use": _("A quota rule or a billing code uses this group: change them first."),
    "cost_centre_has_members": _("Users still in this cost centre: {count}. Move them "
                                 "first."),
    "cost_centre_in_use": _("A billing code is assigned to this cost centre: change it first."),
}


def refusal(text: PageText, refused: Refused) -> str:
    return text(MESSAGES.get(refused.code, MESSAGES["operation_invalid"]), **refused.values)


def form_text(form: FormData, name: str, limit: int = 500) -> str:
    """A text field of a parsed form, at most ``limit`` characters ("" when absent)."""
    value = form.get(name)
    return value[:limit] if isinstance(value, str) else ""
