"""One place that turns a requests call into an answer or one of our errors."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import requests

from drivers.printers3d.errors import ServerRefused, ServerUnreachable

Classifier = Callable[[int, str, str, str], str]


def call(
    session: requests.Session, method: str, url: str, timeout_s: float,
    classify: Classifier, **kwargs: Any,
) -> requests.Response:
    """Send the request; a transport error or a 5xx is :class:`ServerUnreachable` (the
    printer may still be printing), any other 4xx is :class:`ServerRefused` with the
    reason ``classify(status, method, url, server_words)`` gives it."""
    try:
        answer = session.request(method, url, timeout=timeout_s, **kwargs)
    except requests.RequestException as exc:
        raise ServerUnreachable(f"{method} {url}: {exc}") from exc
    if answer.status_code >= 500:
        raise ServerUnreachable(f"{method} {url}: HTTP {answer.status_code} {_words(answer)}")
    if answer.status_code >= 400:
        words = _words(answer)
        raise ServerRefused(answer.status_code, classify(answer.status_code, method, url, words),
                            words)
    return answer


def _words(answer: requests.Response) -> str:
    """The server's message: OctoPrint's ``{"error": "..."}``, Moonraker's
    ``{"error": {"message": "..."}}``, else the body's start."""
    try:
        body = answer.json()
    except ValueError:
        return answer.text.strip()[:300]
    if isinstance(body, dict):
        error = body.get("error")
        if isinstance(error, dict):
            return str(error.get("message", error))
        if error:
            return str(error)
    return str(body)[:300]
