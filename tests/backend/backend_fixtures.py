"""Shared by the backend tests: the test secret key, the handle on a test backend, and
real backend processes over a test database."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import tomllib
from dataclasses import dataclass
from pathlib import Path

import httpx
from fastapi.testclient import TestClient

from backend.config import SECRET_ENV, BackendConfig
from backend.db import Database
from backend.demo import DEMO_TERMINAL_TOKEN
from printkiosk.commands.demo import stop_demo_backend

SECRET = b"test-secret-key"


@dataclass
class Backend:
    config: BackendConfig
    db: Database
    client: TestClient

    def headers(self, token: str = DEMO_TERMINAL_TOKEN) -> dict[str, str]:
        return {"Authorization": f"Bearer {token}"}


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
