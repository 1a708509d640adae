"""The terminal's one translation of HTTP to its own errors, and its one token loader.

The kiosk's backend client and the spool agent's reporter both talk to the backend over
HTTP with a per-terminal token; both go through here, so an answer means the same to
both (house rule 7): a transport error, a 5xx or an answer that is not a JSON object is
:class:`BackendUnavailable` (worth sending again), a 4xx is :class:`BackendRejected` with
the backend's problem code (``http_<status>`` when its body names none) and its status.
The kiosk's client sends with deadlines of its own (a screen budget, see
:mod:`terminal.backend_client`) and reads every answer with :func:`answer_of`; the agent's
reporter uses :func:`send`, which adds the transport errors.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import requests

from terminal.config import ConfigError, read_secret
from terminal.ports import BackendRejected, BackendUnavailable


def send(
    http: requests.Session, method: str, url: str, body: Mapping[str, object] | None,
    timeout: tuple[float, float], where: str,
) -> dict[str, Any]:
    """One request; its answer's JSON object, or the error that answer means."""
    try:
        response = http.request(method, url, json=body, timeout=timeout)
    except requests.RequestException as exc:
        raise BackendUnavailable(f"{where}: {exc.__class__.__name__}") from exc
    return answer_of(response, where)


def answer_of(response: requests.Response, where: str) -> dict[str, Any]:
    """The JSON object of a 2xx answer; else the terminal's error for the answer."""
    status = response.status_code
    if status >= 500:
        raise BackendUnavailable(f"{where}: HTTP {status}")
    try:
        payload = response.json()
    except ValueError as exc:
        if status >= 400:
            raise BackendRejected(f"http_{status}", "the answer is not JSON", status) from exc
        raise BackendUnavailable(f"{where}: answer is not JSON") from exc
    if not isinstance(payload, dict):
        if status >= 400:
            raise BackendRejected(f"http_{status}", "the answer is not a JSON object", status)
        raise BackendUnavailable(f"{where}: answer is not a JSON object")
    if status >= 400:
        raise BackendRejected(str(payload.get("code", f"http_{status}")),
                              str(payload.get("detail", "")), status=status, problem=payload)
    return payload


_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]+")


def single_line(text: str) -> str:
    """Text the backend takes in a text field: each run of control characters (tab,
    newline, NUL, C1) becomes one space. The backend refuses them (422), and a document
    title or an analyser's message from outside may hold some: refusing the hold of a
    job because its title has a tab would leave the user unable to print it."""
    return _CONTROL.sub(" ", text)


def without_nul(value: object) -> object:
    """Free JSON (an event's payload) as the backend stores it: NUL removed from every
    key and string (SNMP strings often end in NUL padding); the rest unchanged."""
    if isinstance(value, str):
        return value.replace("\x00", "")
    if isinstance(value, Mapping):
        return {str(without_nul(key)): without_nul(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [without_nul(item) for item in value]
    return value


def load_token(env: str, token_file: str | None, where: str) -> str:
    """A per-terminal token: from the environment variable ``env``, else from the 0600
    ``token_file``; a :class:`ConfigError` naming ``where`` (file and key) when neither."""
    from_env = os.environ.get(env)
    if from_env:
        return from_env
    if token_file is None:
        raise ConfigError([f"{where}: not set and {env} is empty: no token"])
    return read_secret(Path(token_file))
