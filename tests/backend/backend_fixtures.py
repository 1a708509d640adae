"""Shared by the backend tests: the test secret key, the handle on a test backend, and
real backend processes over a test database."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from fastapi.testclient import TestClient
from sqlalchemy import select

from backend import terminal_sessions
from backend.api.deps import SESSION_HEADER
from backend.config import SECRET_ENV, BackendConfig
from backend.db import Database
from backend.demo import DEMO_TERMINAL_TOKEN
from backend.models import User
from backend.terminals import authenticate
from printkiosk.commands.demo import stop_demo_backend

SECRET = b"test-secret-key"


@dataclass
class Backend:
    config: BackendConfig
    db: Database
    client: TestClient
    _sessions: dict[tuple[str, str], str] = field(default_factory=dict)

    def headers(self, token: str = DEMO_TERMINAL_TOKEN,
                user: str | None = None) -> dict[str, str]:
        """The terminal's Authorization; with ``user``, also that user's session there."""
        headers = {"Authorization": f"Bearer {token}"}
        if user is not None:
            headers[SESSION_HEADER] = self.session_for(user, token)
        return headers

    def session_for(self, username: str, token: str = DEMO_TERMINAL_TOKEN) -> str:
        """A session of ``username`` at the terminal of ``token``, opened as a login would
        (tests of POST /sessions itself log in through the API)."""
        if (token, username) not in self._sessions:
            with self.db.write() as session:
                terminal = authenticate(session, SECRET, token)
                user = session.scalar(select(User).where(User.username == username))
                assert user is not None, username
                self._sessions[token, username] = terminal_sessions.start(
                    session, SECRET, terminal.id, user.id)
        return self._sessions[token, username]


def write_config(path: Path, database_url: str, port: int, extra: str = "") -> Path:
    """A backend.toml for a real backend process on 127.0.0.1:port over ``database_url``."""
    path.write_text(f'[server]\nhost = "127.0.0.1"\nport = {port}\n\n'
                    f'[database]\nurl = "{database_url}"\n\n{extra}', encoding="utf-8")
    return path


def start_backend(config: Path) -> subprocess.Popen[bytes]:
    """``printkiosk backend --config`` as its own process, with the tests' secret key (so
    the demo terminal token seeded by the fixtures is valid there); returns once it serves.
    """
    port = tomllib.loads(config.read_text(encoding="utf-8"))["server"]["port"]
    env = {**os.environ, SECRET_ENV: SECRET.decode()}
    process = subprocess.Popen([sys.executable, "-m", "printkiosk", "backend", "--config",
                                str(config)], env=env, stdout=subprocess.DEVNULL,
                               stderr=subprocess.PIPE)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            stderr = process.stderr.read().decode() if process.stderr else ""
            raise RuntimeError(f"backend exited with {process.returncode}: {stderr}")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/api/v1/health", timeout=1).status_code == 200:
                return process
        except httpx.TransportError:
            time.sleep(0.1)
    stop_backend(process)
    raise RuntimeError("backend did not come up within 60 s")


def stop_backend(process: subprocess.Popen[bytes]) -> None:
    stop_demo_backend(process)
    if process.stderr is not None:
        process.stderr.close()
