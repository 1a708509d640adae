"""The control-character rule of :mod:`backend.text` for query and path parameters.

One app-wide dependency instead of a check in every route: a route added later is
covered without anyone remembering to. Bodies are checked by the schemas
(``backend.api.schemas._Body``).
"""

from __future__ import annotations

from fastapi import Request

from backend.problems import ApiProblem
from backend.text import control_character_error


def single_line_parameters(request: Request) -> None:
    """422 ``invalid_request`` naming the first query or path parameter that holds a
    control character."""
    named = [("query", name, value) for name, value in request.query_params.multi_items()]
    named += [("path", name, str(value)) for name, value in request.path_params.items()]
    for where, name, value in named:
        problem = control_character_error(value) or control_character_error(name)
        if problem is not None:
            field = f"{where}.{name}"
            raise ApiProblem(422, "invalid_request", "Invalid request", f"{field}: {problem}",
                             errors=[{"field": field, "message": problem}])
