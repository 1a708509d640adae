"""Every page route that changes something goes through the one door (``staff()`` or
``me()`` in ``backend.web.auth``), which checks the session, the role and the CSRF token;
only the sign-in and sign-out forms check their token themselves. A route added without
it fails here, whoever writes it."""

from __future__ import annotations

from fastapi.routing import APIRoute

from backend.app import API_PREFIX, create_app
from backend.config import BackendConfig
from backend.web.auth import UNSAFE
from backend.web.sign_in import router as sign_in_router

DOORS = {"signed_in_staff", "signed_in_user"}


def _calls(dependant: object) -> set[str]:
    names: set[str] = set()
    for sub in getattr(dependant, "dependencies", []):
        call = getattr(sub, "call", None)
        names.add(getattr(call, "__name__", ""))
        names |= _calls(sub)
    return names


def _page_routes(routes: list[object]) -> list[tuple[str, APIRoute]]:
    """(full path, route) of every API route, inside included routers too (FastAPI 0.165
    keeps an included router as one entry whose candidates are its routes)."""
    found: list[tuple[str, APIRoute]] = []
    for route in routes:
        if isinstance(route, APIRoute):
            found.append((route.path, route))
        candidates = getattr(route, "effective_candidates", None)
        for candidate in candidates() if candidates is not None else ():
            if isinstance(candidate.original_route, APIRoute):
                found.append((candidate.path, candidate.original_route))
    return found


def test_every_changing_page_route_has_a_door(tmp_path) -> None:  # type: ignore[no-untyped-def]
    config = BackendConfig.model_validate(
        {"database": {"url": f"sqlite:///{tmp_path / 'b.sqlite3'}"}})
    app = create_app(config, secret=b"routes-test")
    own = {(route.path, frozenset(route.methods)) for route in sign_in_router.routes
           if isinstance(route, APIRoute)}
    unguarded = []
    pages = 0
    for path, route in _page_routes(app.routes):
        if path.startswith(API_PREFIX):
            continue
        pages += 1
        if not (route.methods & UNSAFE) or (path, frozenset(route.methods)) in own:
            continue
        if not (_calls(route.dependant) & DOORS):
            unguarded.append(f"{sorted(route.methods)} {path}")
    assert pages > 5
    assert not unguarded, unguarded
