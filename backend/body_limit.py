"""An ASGI middleware that bounds request bodies and refuses unauthenticated writes
before a byte of their body is read.

Why a middleware and not a check in the routes: FastAPI reads and parses the whole body
before any dependency runs, so the terminal token was checked only after a 200 MB body
sat in memory. Here, before the application sees the request:

* a write (POST, PUT, PATCH, DELETE) to an authenticated API path without an
  ``Authorization: Bearer <token>`` header is 401 at once, its body never read;
* a ``Content-Length`` above the limit is 413 at once;
* a body without a length (chunked) is counted while the application reads it, and
  413 as soon as it passes the limit: at most the limit is ever buffered.

Whether a well-formed token is valid is still the route's dependency (it needs the
database): such a request's body is read, but never more than the limit.
"""

from __future__ import annotations

from collections.abc import Mapping

from starlette.datastructures import Headers
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from backend.problems import ApiProblem, problem_response

WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def bearer_shaped(header: str | None) -> bool:
    scheme, _, token = (header or "").partition(" ")
    return scheme.lower() == "bearer" and bool(token.strip())


class BodyTooLarge(HTTPException):
    """Raised from ``receive`` when a streamed body passes the limit. An HTTPException,
    because FastAPI passes those through its body parsing (any other error there becomes
    a 400 "error parsing the body") to the problem handler."""

    def __init__(self, limit: int) -> None:
        super().__init__(413, f"the request body is larger than {limit} bytes")


class PathBodyTooLarge(Exception):
    """A streamed body over a path's own limit, answered with that path's problem."""

    def __init__(self, problem: ApiProblem) -> None:
        super().__init__(problem.detail)
        self.problem = problem


class BodyLimit:
    """``public_paths``: paths any client may write to without a token (enrolment).
    ``path_limits``: paths with a limit of their own (a 3D upload of up to
    ``[print3d] max_file_mb``), with the problem their 413 answers."""

    def __init__(self, app: ASGIApp, max_bytes: int, api_prefix: str,
                 public_paths: frozenset[str],
                 path_limits: Mapping[str, tuple[int, ApiProblem]] | None = None) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.api_prefix = api_prefix
        self.public_paths = public_paths
        self.path_limits = dict(path_limits or {})

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        refusal = self._refusal(scope, headers)
        if refusal is not None:
            await problem_response(refusal)(scope, receive, send)
            return
        received = 0
        limit, problem = self._limit_of(scope)

        async def counting_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    if problem is not None:
                        raise PathBodyTooLarge(problem)
                    raise BodyTooLarge(limit)
            return message

        await self.app(scope, counting_receive, send)

    def _refusal(self, scope: Scope, headers: Headers) -> ApiProblem | None:
        path = str(scope.get("path", ""))
        if (scope.get("method") in WRITE_METHODS and path.startswith(self.api_prefix + "/")
                and path not in self.public_paths
                and not bearer_shaped(headers.get("authorization"))):
            return ApiProblem(401, "terminal_unauthorized", "Terminal not authorised",
                              "missing Authorization: Bearer <terminal token>")
        length = headers.get("content-length")
        if length is None:
            return None
        if not length.isdigit() or len(length) > 18:
            return ApiProblem(400, "invalid_request", "Invalid request",
                              f"Content-Length {length[:40]!r} is not a byte count")
        limit, problem = self._limit_of(scope)
        if int(length) > limit:
            return problem or too_large(limit)
        return None

    def _limit_of(self, scope: Scope) -> tuple[int, ApiProblem | None]:
        own = self.path_limits.get(str(scope.get("path", "")))
        return (self.max_bytes, None) if own is None else own


def too_large(limit: int) -> ApiProblem:
    return ApiProblem(413, "body_too_large", "Request body too large",
                      f"the request body is larger than {limit} bytes")
