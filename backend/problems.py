"""Errors as RFC 9457 problem details with a stable ``code`` the kiosk translates.

Why one exception type with a code instead of HTTPException: the code is the contract
with the terminal team (``card_unknown``, ``insufficient_funds`` ...); the prose in
``detail`` is for logs and operators only.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

PROBLEM_JSON = "application/problem+json"
# Body fields that hold money: a refusal of one of them is ``amount_invalid``, the code
# the kiosk translates as "wrong amount" (the others are ``invalid_request``).
AMOUNT_FIELDS = frozenset({"amount", "offline_limit"})
_log = logging.getLogger(__name__)

# The body of every error, as the OpenAPI spec declares it.
PROBLEM_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["type", "title", "status", "code", "detail"],
    "properties": {
        "type": {"type": "string"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "code": {"type": "string", "description": "stable key the terminal translates"},
        "detail": {"type": "string", "description": "for logs and operators"},
        "errors": {"type": "array", "items": {
            "type": "object", "required": ["field", "message"],
            "properties": {"field": {"type": "string"}, "message": {"type": "string"}}}},
    },
}
_STATUS_MEANING = {
    400: "malformed request (malformed_json, invalid_request, webhook_rejected)",
    401: "no valid terminal token (terminal_unauthorized, terminal_revoked), or pin_invalid",
    403: "refused for this terminal or user (user_disabled, hold_other_terminal, ...)",
    404: "something named does not exist (user_unknown, hold_unknown, voucher_unknown, ...)",
    405: "method not allowed on this path (the Allow header lists the allowed ones)",
    409: "conflicts with the state (insufficient_funds, hold_settled, voucher_redeemed, ...)",
    410: "gone for good (voucher_expired with expires_on, voucher_revoked)",
    413: "request body larger than server.max_body_bytes (body_too_large)",
    422: "invalid field (amount_invalid, invalid_request, voucher_typo; errors names each "
         "field)",
    429: "too many attempts (pin_locked, voucher_rate_limited with Retry-After)",
    500: "unexpected server error (internal_error)",
    503: "a service the call needs is unavailable (topup_unavailable: no payment gateway, "
         "or it did not answer)",
}
# Declared on every route (app.include_router): the error statuses and their media type.
PROBLEM_RESPONSES: dict[int | str, dict[str, Any]] = {
    status: {"description": f"Problem: {meaning}",
             "content": {PROBLEM_JSON: {"schema": PROBLEM_SCHEMA}}}
    for status, meaning in _STATUS_MEANING.items()
}


class ApiProblem(Exception):
    def __init__(
        self, status: int, code: str, title: str, detail: str = "",
        headers: dict[str, str] | None = None, **extra: Any
    ) -> None:
        super().__init__(f"{code}: {detail or title}")
        self.headers = headers
        self.status = status
        self.code = code
        self.title = title
        self.detail = detail
        self.extra = extra

    def body(self) -> dict[str, Any]:
        return {
            "type": "about:blank", "title": self.title, "status": self.status,
            "code": self.code, "detail": self.detail, **self.extra,
        }


def problem_response(problem: ApiProblem,
                     headers: Mapping[str, str] | None = None) -> JSONResponse:
    """``headers``: those of the exception being answered (a 405's Allow) on top of the
    problem's own (a 429's Retry-After)."""
    return JSONResponse(problem.body(), status_code=problem.status, media_type=PROBLEM_JSON,
                        headers={**(problem.headers or {}), **(headers or {})} or None)


def _field(loc: tuple[Any, ...]) -> str:
    parts = [str(part) for part in loc if part != "body"]
    return ".".join(parts) or "body"


def _validation_problem(exc: RequestValidationError) -> ApiProblem:
    errors = exc.errors()
    if any(err.get("type") == "json_invalid" for err in errors):
        return ApiProblem(400, "malformed_json", "Malformed JSON",
                          "the request body is not valid JSON")
    fields = [
        {"field": _field(tuple(err.get("loc", ()))),
         "message": str(err.get("msg", "")).removeprefix("Value error, ")}
        for err in errors
    ]
    amount_bad = any(f["field"].split(".")[-1] in AMOUNT_FIELDS for f in fields)
    code = "amount_invalid" if amount_bad else "invalid_request"
    detail = "; ".join(f"{f['field']}: {f['message']}" for f in fields)
    return ApiProblem(422, code, "Invalid request", detail, errors=fields)


def install_handlers(app: FastAPI) -> None:
    @app.exception_handler(ApiProblem)
    async def _api_problem(_request: Request, exc: ApiProblem) -> JSONResponse:
        return problem_response(exc)

    @app.exception_handler(RequestValidationError)
    async def _invalid(_request: Request, exc: RequestValidationError) -> JSONResponse:
        return problem_response(_validation_problem(exc))

    @app.exception_handler(StarletteHTTPException)
    async def _http(_request: Request, exc: StarletteHTTPException) -> JSONResponse:
        # 400: FastAPI could not parse the body (not UTF-8, nested too deep for json).
        code = {400: "malformed_json", 404: "not_found", 405: "method_not_allowed",
                413: "body_too_large"}.get(exc.status_code, "http_error")
        # The headers too: a 405 carries Allow (RFC 9110), set by Starlette's router.
        return problem_response(ApiProblem(exc.status_code, code, str(exc.detail)),
                                headers=exc.headers)

    @app.exception_handler(Exception)
    async def _unexpected(_request: Request, exc: Exception) -> JSONResponse:
        # Never a plain-text 500: a terminal reads every answer as problem+json. The
        # traceback goes to the log (Starlette re-raises after this answer is sent).
        _log.error("unexpected error: %r", exc)
        return problem_response(ApiProblem(500, "internal_error", "Internal server error",
                                           "the server failed; the operator's log says why"))
