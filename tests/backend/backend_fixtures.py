"""Shared by the backend tests: the test secret key and the handle on a test backend."""

from __future__ import annotations

from dataclasses import dataclass

from fastapi.testclient import TestClient

from backend.config import BackendConfig
from backend.db import Database
from backend.demo import DEMO_TERMINAL_TOKEN

SECRET = b"test-secret-key"


@dataclass
class Backend:
    config: BackendConfig
    db: Database
    client: TestClient

    def headers(self, token: str = DEMO_TERMINAL_TOKEN) -> dict[str, str]:
        return {"Authorization": f"Bearer {token}"}
