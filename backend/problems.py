"""Errors as RFC 9457 problem details with a stable ``code`` the kiosk translates.

Why one exception type with a code instead of HTTPException: the code is the contract
with the terminal team (``card_unknown``, ``insufficient_funds`` ...); the prose in
``detail`` is for logs and operators only.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

PROBLEM_JSON = "application/problem+json"


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


def problem_response(problem: ApiProblem) -> JSONResponse:
    return JSONResponse(problem.body(), status_code=problem.status, media_type=PROBLEM_JSON,
                        headers=problem.headers)


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
    amount_bad = any(f["field"].split(".")[-1] == "amount" for f in fields)
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
        code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "http_error")
        return problem_response(ApiProblem(exc.status_code, code, str(exc.detail)))
