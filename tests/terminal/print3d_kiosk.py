"""A 3D kiosk for the end-to-end tests: the shipped ``config/kiosk-3d.toml`` pointed at a
real backend process and a real printer server, built by ``build_terminal`` like the
kiosk itself, and a job uploaded through the backend's API.

``python tests/terminal/print3d_kiosk.py CONFIG.json [--release USER CARD JOB_ID]
[--until-settled]`` runs one such kiosk as its own process (the restart test kills it
and starts another): it prints every follower update as one JSON line, ``released``
after a release, and ``settled`` (then exits) once nothing is left to follow or send.
"""

from __future__ import annotations

import argparse
import json
import sys
import threading
import time
import tomllib
import urllib.request
import uuid
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from backend.demo import DEMO_PRINT3D_GROUP, DEMO_TERMINAL_TOKEN  # noqa: E402
from terminal.config import KioskConfig, parse_kiosk_config  # noqa: E402
from terminal.outbox import EntryState  # noqa: E402
from terminal.print3d_values import Print3DUpdate, Stage3D  # noqa: E402
from terminal.wiring import Terminal, build_terminal  # noqa: E402


def kiosk_data(backend_url: str, state_dir: Path, server: str, url: str,
               api_key: str | None, poll_s: float = 0.3) -> dict[str, Any]:
    """The shipped 3D kiosk file, made to run here (simulated reader, this backend, a
    state directory of its own, the given printer server)."""
    data = tomllib.loads((REPO / "config" / "kiosk-3d.toml").read_text(encoding="utf-8"))
    state_dir.mkdir(parents=True, exist_ok=True)
    token = state_dir / "terminal-token"
    token.write_text(DEMO_TERMINAL_TOKEN + "\n", encoding="utf-8")
    token.chmod(0o600)
    data["backend"].update(url=backend_url, token_file=str(token))
    data["card_reader"] = {"type": "simulated", "debounce_s": 0.0}
    data["offline"]["state_dir"] = str(state_dir)
    data["display"]["fullscreen"] = False
    printer = data["printer"]
    for table in ("octoprint", "moonraker"):
        printer.pop(table, None)
    printer.update(group=DEMO_PRINT3D_GROUP, poll_s=poll_s)
    section: dict[str, Any] = {"url": url, "timeout_s": 5}
    if api_key is not None:
        key = state_dir / f"{server}-api-key"
        key.write_text(api_key + "\n", encoding="utf-8")
        key.chmod(0o600)
        section["api_key_file"] = str(key)
    printer[server] = section
    return data


def kiosk_config(data: dict[str, Any]) -> KioskConfig:
    return parse_kiosk_config(data, "kiosk-3d.toml (test)")


def upload(backend_url: str, text: str, name: str, username: str = "alice") -> dict[str, Any]:
    """Upload ``text`` as a 3D job for the demo 3D group, as the API's user upload does."""
    boundary = uuid.uuid4().hex
    parts = [f'--{boundary}\r\nContent-Disposition: form-data; name="username"\r\n\r\n'
             f"{username}\r\n",
             f'--{boundary}\r\nContent-Disposition: form-data; name="group"\r\n\r\n'
             f"{DEMO_PRINT3D_GROUP}\r\n",
             f'--{boundary}\r\nContent-Disposition: form-data; name="file"; '
             f'filename="{name}"\r\nContent-Type: application/octet-stream\r\n\r\n']
    body = "".join(parts).encode() + text.encode() + f"\r\n--{boundary}--\r\n".encode()
    request = urllib.request.Request(
        f"{backend_url}/api/v1/print3d/jobs", data=body, method="POST",
        headers={"Authorization": f"Bearer {DEMO_TERMINAL_TOKEN}",
                 "Content-Type": f"multipart/form-data; boundary={boundary}"})
    with urllib.request.urlopen(request, timeout=30) as answer:
        result: dict[str, Any] = json.loads(answer.read())
    return result


class Watch:
    """Every follower update of a terminal, and a wait for the final one."""

    def __init__(self, terminal: Terminal) -> None:
        self.updates: list[Print3DUpdate] = []
        self._changed = threading.Condition()
        assert terminal.follower is not None
        terminal.follower.subscribe(self._heard)

    def _heard(self, update: Print3DUpdate) -> None:
        with self._changed:
            self.updates.append(update)
            self._changed.notify_all()

    def wait(self, test: Any, timeout_s: float = 120.0) -> Print3DUpdate:
        deadline = time.monotonic() + timeout_s
        with self._changed:
            while True:
                for update in reversed(self.updates):
                    if test(update):
                        return update
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"no such update within {timeout_s} s: "
                                         f"{self.updates[-3:]}")
                self._changed.wait(left)

    def final(self, timeout_s: float = 120.0) -> Print3DUpdate:
        return self.wait(lambda u: u.stage.final, timeout_s)


def release(terminal: Terminal, user: str, card: str, job_id: int) -> Print3DUpdate:
    """Identify ``user`` here (the backend lists jobs for an open session) and release."""
    terminal.backend.identify_card(card)
    assert terminal.print3d is not None
    job = next(j for j in terminal.print3d.list_jobs(user) if j.job_id == job_id)
    return terminal.print3d.release(user, job, lambda _u: None)


def settled(terminal: Terminal) -> bool:
    assert terminal.follower is not None and terminal.charges is not None
    outbox = terminal.charges.outbox
    return terminal.follower.busy is None and outbox.counts()[EntryState.PENDING] == 0


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("config")
    parser.add_argument("--release", nargs=3, metavar=("USER", "CARD", "JOB_ID"))
    parser.add_argument("--until-settled", action="store_true")
    args = parser.parse_args()
    data = json.loads(Path(args.config).read_text(encoding="utf-8"))
    terminal = build_terminal(kiosk_config(data), DEMO_TERMINAL_TOKEN)

    def show(update: Print3DUpdate) -> None:
        print(json.dumps({"stage": update.stage.value, "percent": update.percent,
                          "reachable": update.printer_reachable,
                          "charged": None if update.charged is None else str(update.charged)}),
              flush=True)

    assert terminal.follower is not None
    terminal.follower.subscribe(show)
    terminal.start()
    if terminal.recovery is not None:
        terminal.recovery.result(timeout=60)
    if args.release:
        user, card, job_id = args.release
        update = release(terminal, user, card, int(job_id))
        if update.stage is not Stage3D.PRINTING:
            print(f"refused {update.problem}", flush=True)
            return 1
        print("released", flush=True)
    try:
        while True:
            time.sleep(0.2)
            if args.until_settled and settled(terminal):
                print("settled", flush=True)
                return 0
    finally:
        terminal.close()


if __name__ == "__main__":
    sys.exit(main())

