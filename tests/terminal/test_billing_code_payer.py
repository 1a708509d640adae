"""Who pays a billing code's jobs comes with every code the backend lists (item 5)."""

from __future__ import annotations

import pytest

from terminal.backend_client import _codes, _parse
from terminal.ports import BackendUnavailable, BillingCode


def listed(**extra: object) -> dict[str, object]:
    code = {"code": "ACME-WEB", "name": "Website redesign", "client": "ACME",
            "client_name": "ACME Corp", **extra}
    return {"codes": [code]}


def test_payer_code_and_user_are_read_from_each_code() -> None:
    [paid_by_client] = _parse(_codes, listed(payer="code"))
    assert paid_by_client == BillingCode("ACME-WEB", "Website redesign", "ACME", "ACME Corp",
                                         payer="code")
    [paid_by_user] = _parse(_codes, listed(payer="user"))
    assert paid_by_user.payer == "user"


def test_an_answer_without_payer_is_the_user_paying_as_before() -> None:
    [code] = _parse(_codes, listed())
    assert code.payer == "user"


def test_an_unknown_payer_is_a_malformed_answer_not_the_user_paying() -> None:
    with pytest.raises(BackendUnavailable, match="payer 'client' is not one of user, code"):
        _parse(_codes, listed(payer="client"))
