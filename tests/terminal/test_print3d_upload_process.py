"""A large 3D upload to a real backend process: streamed, analysed in a child process,
while the server keeps answering (the analysis never holds the event loop)."""

from __future__ import annotations

import threading
import time
from decimal import Decimal
from pathlib import Path
from typing import Any

import requests
from backend_process import BackendProcess

from backend.demo import DEMO_PRINT3D_GROUP, DEMO_TERMINAL_TOKEN
from backend.demo_gcode import cube_gcode


def test_the_server_answers_while_a_large_upload_is_analysed(
        backend_process: BackendProcess, tmp_path: Path) -> None:
    cube = cube_gcode(100.0, 8000, 10)  # ~11 MB of G-code
    path = tmp_path / "tall.gcode"
    path.write_text(cube.text, encoding="utf-8")
    assert path.stat().st_size > 10_000_000
    finished = threading.Event()
    answer: dict[str, Any] = {}

    def upload() -> None:
        with path.open("rb") as source:
            answer["response"] = requests.post(
                f"{backend_process.url}/api/v1/print3d/jobs",
                headers={"Authorization": f"Bearer {DEMO_TERMINAL_TOKEN}"},
                data={"username": "bob", "group": DEMO_PRINT3D_GROUP},
                files={"file": ("tall.gcode", source)}, timeout=300)
        finished.set()

    thread = threading.Thread(target=upload)
    thread.start()
    waits: list[float] = []
    with requests.Session() as http:
        while not finished.is_set():
            start = time.monotonic()
            assert http.get(f"{backend_process.url}/api/v1/health", timeout=30).ok
            waits.append(time.monotonic() - start)
            time.sleep(0.02)
    thread.join()
    response = answer["response"]
    assert response.status_code == 201, response.text
    assert Decimal(response.json()["ours"]["total_mm"]) == cube.filament_mm
    assert len(waits) > 10  # the health checks really ran during the upload
    assert max(waits) < 2.0, sorted(waits)[-5:]
