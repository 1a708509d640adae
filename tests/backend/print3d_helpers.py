"""Shared by the 3D job tests: a backend with ``[print3d]`` and a 3D price list, and the
terminal's calls (upload, hold, claim, settle) as a kiosk makes them."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal
from pathlib import Path
from typing import Any

from backend_fixtures import SECRET, Backend
from fastapi.testclient import TestClient

from backend.app import create_app
from backend.config import BackendConfig
from backend.db import Database
from backend.demo import seed_demo

DEFAULT_3D = """[price_list]
name = "Test 3D default"
currency = "EUR"
scope = "default"
effective_from = 2026-01-01

[print]
mono = { A4 = "0.05" }

[print3d]
per_gram = { PLA = "0.05", PETG = "0.08", TPU = "0.12" }
per_hour = "0.60"
setup_fee = "1.00"
"""
# Staff pay by the page only: their list has no [print3d], so their uploads are refused.
STAFF_NO_3D = """[price_list]
name = "Test staff"
currency = "EUR"
scope = "group"
target = "staff"
effective_from = 2026-01-01

[print]
mono = { A4 = "0.02" }
"""
PER_GRAM = Decimal("0.05")
PER_HOUR = Decimal("0.60")
SETUP = Decimal("1.00")


def print3d_config(db: Database, tmp_path: Path, **print3d: Any) -> BackendConfig:
    lists = tmp_path / "pricelists"
    lists.mkdir(exist_ok=True)
    (lists / "default.toml").write_text(DEFAULT_3D, encoding="utf-8")
    (lists / "staff.toml").write_text(STAFF_NO_3D, encoding="utf-8")
    section = {"storage_dir": str(tmp_path / "store"), "max_file_mb": 1,
               "max_jobs_per_user": 3,
               "groups": [{"name": "makerspace", "printer_model": "MK4",
                           "materials": ["PLA", "PETG"], "density": {"PETG": "1.27"}}],
               **print3d}
    return BackendConfig.model_validate({
        "database": {"url": db.engine.url.render_as_string(hide_password=False)},
        "pricing": {"price_lists_dir": str(lists)}, "print3d": section})


@contextmanager
def backend_with(db: Database, tmp_path: Path, **print3d: Any) -> Iterator[Backend]:
    config = print3d_config(db, tmp_path, **print3d)
    app = create_app(config, db, SECRET)
    seed_demo(db, SECRET, config.ledger.currency)
    with TestClient(app) as client:
        yield Backend(config, db, client)


def upload(backend: Backend, text: str | bytes, username: str = "alice",
           group: str = "makerspace", filename: str = "cube.gcode") -> Any:
    data = text.encode() if isinstance(text, str) else text
    return backend.client.post("/api/v1/print3d/jobs", headers=backend.headers(),
                               data={"username": username, "group": group},
                               files={"file": (filename, data, "application/octet-stream")})


def uploaded(backend: Backend, text: str | bytes, **kwargs: Any) -> dict[str, Any]:
    answer = upload(backend, text, **kwargs)
    assert answer.status_code == 201, answer.text
    return dict(answer.json())


def hold_for(backend: Backend, job: dict[str, Any], key: str,
             amount: str | None = None, job_ref: str | None = None) -> str:
    username = job["username"]
    answer = backend.client.post("/api/v1/holds", headers=backend.headers(user=username), json={
        "idempotency_key": key, "username": username, "amount": amount or job["hold_amount"],
        "description": f"3D: {job['name']}", "job_ref": job_ref or f"print3d:{job['job_id']}"})
    assert answer.status_code == 201, answer.text
    return str(answer.json()["hold_id"])


def claim(backend: Backend, job_id: int, hold_id: str, token: str | None = None) -> Any:
    headers = backend.headers(token) if token else backend.headers()
    return backend.client.post(f"/api/v1/print3d/jobs/{job_id}/claim", headers=headers,
                               json={"hold_id": hold_id})


def released(backend: Backend, job: dict[str, Any], key: str) -> str:
    """Hold and claim, as the kiosk does before it sends the file to the printer."""
    hold_id = hold_for(backend, job, key)
    answer = claim(backend, job["job_id"], hold_id)
    assert answer.status_code == 200, answer.text
    return hold_id


def settle(backend: Backend, job_id: int, hold_id: str, key: str, outcome: str,
           file_position: int | None = None, print_time_s: int | None = None,
           printer_filament_mm: str | None = None) -> Any:
    return backend.client.post(f"/api/v1/print3d/jobs/{job_id}/settle",
                               headers=backend.headers(), json={
                                   "key": key, "hold_id": hold_id, "outcome": outcome,
                                   "file_position": file_position,
                                   "print_time_s": print_time_s,
                                   "printer_filament_mm": printer_filament_mm})
