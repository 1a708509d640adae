"""HTTP client for the backend's terminal API (``/api/v1``).

Every call has a connect and a read timeout so that a kiosk never hangs on a dead
network, and the connection is kept alive between calls (a badge answered in
milliseconds, not a TLS handshake each time). Errors are translated here: transport
errors and 5xx become :class:`BackendUnavailable`, 4xx problem details become
:class:`BackendRejected` carrying the backend's stable code.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import requests

from terminal.ports import Balance, BackendRejected, BackendUnavailable, Identity


class HttpBackend:
    """The :class:`terminal.ports.Backend` port over HTTP with a per-terminal token."""

    def __init__(
        self,
        base_url: str,
        token: str,
        connect_timeout_s: float = 2.0,
        read_timeout_s: float = 5.0,
    ) -> None:
        self._base = base_url.rstrip("/") + "/api/v1"
        self._timeout = (connect_timeout_s, read_timeout_s)
        self._http = requests.Session()
        self._http.headers.update(
            {"Authorization": f"Bearer {token}", "Accept": "application/json"}
        )

    def close(self) -> None:
        self._http.close()

    def identify_card(self, card_number: str) -> Identity:
        return _identity(self._post("/sessions", {"card": card_number}))

    def identify_pin(self, username: str, pin: str) -> Identity:
        return _identity(self._post("/sessions", {"username": username, "pin": pin}))

    def _post(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        try:
            response = self._http.post(self._base + path, json=body, timeout=self._timeout)
        except requests.RequestException as exc:
            raise BackendUnavailable(f"{path}: {exc.__class__.__name__}") from exc
        return _payload(response, path)


def _payload(response: requests.Response, path: str) -> dict[str, Any]:
    if response.status_code >= 500:
        raise BackendUnavailable(f"{path}: HTTP {response.status_code}")
    try:
        payload = response.json()
    except ValueError as exc:
        raise BackendUnavailable(f"{path}: answer is not JSON") from exc
    if not isinstance(payload, dict):
        raise BackendUnavailable(f"{path}: answer is not a JSON object")
    if response.status_code >= 400:
        raise BackendRejected(str(payload.get("code", "rejected")), str(payload.get("detail", "")))
    return payload


def _balance(raw: dict[str, Any]) -> Balance:
    return Balance(
        currency=str(raw["currency"]),
        virtual_credit=Decimal(str(raw["virtual_credit"])),
        personal_credit=Decimal(str(raw["personal_credit"])),
        held=Decimal(str(raw.get("held", "0"))),
        available=Decimal(str(raw["available"])),
    )


def _identity(payload: dict[str, Any]) -> Identity:
    try:
        user = payload["user"]
        return Identity(
            username=str(user["username"]),
            display_name=str(user.get("display_name") or user["username"]),
            language=str(user.get("language") or "en"),
            balance=_balance(payload["balance"]),
        )
    except (KeyError, TypeError, ArithmeticError) as exc:
        raise BackendUnavailable(f"/sessions: unexpected answer: {exc!r}") from exc
