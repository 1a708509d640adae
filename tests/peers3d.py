"""The 3D printer servers the tests print on, started once per test session on
127.0.0.1 and free ports, in temporary folders:

- ``octoprint``: a real OctoPrint 1.11.8 with its virtual printer connected
  (:func:`printkiosk.commands.octoprint_peer.start_octoprint`, throttled so a test file
  prints in a few seconds);
- ``moonraker``: a real Moonraker 0.11.0 in front of the fake Klippy of
  ``tests/fake_klippy.py`` (trusted loopback clients, so no API key).

Both come from ``.peers/`` (``scripts/setup.sh``). A peer that does not start is an
error, never a skip: the 3D printer adapters are only tested against the real servers.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from printkiosk.commands.octoprint_peer import (
    OctoPrintInstance,
    PeerStartError,
    free_port,
    peers_dir,
    start_octoprint,
)

FAKE_KLIPPY = Path(__file__).resolve().parent / "fake_klippy.py"
TEST_THROTTLE_S = 0.01  # per move line: a 300-move file prints in about 4 s
KLIPPY_RATE = 20000.0   # bytes per second the fake Klippy prints


def moonraker_bin() -> Path:
    return peers_dir() / "moonraker" / "bin" / "moonraker"


@dataclass
class MoonrakerInstance:
    """A running Moonraker and its fake Klippy: the URL and Moonraker's gcodes folder."""

    url: str
    data_dir: Path
    klippy: subprocess.Popen[bytes]
    moonraker: subprocess.Popen[bytes]
    logs: list[Path] = field(default_factory=list)

    @property
    def gcodes_dir(self) -> Path:
        return self.data_dir / "gcodes"

    def stop(self) -> None:
        for process in (self.moonraker, self.klippy):
            if process.poll() is None:
                process.terminate()
                try:
                    process.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait(timeout=5)


MOONRAKER_CONF = """\
[server]
host: 127.0.0.1
port: {port}
klippy_uds_address: {socket}

[machine]
provider: none

[authorization]
{trusted}

[history]
"""
TRUSTED = "trusted_clients:\n  127.0.0.0/8"


def start_moonraker(base: Path, rate: float = KLIPPY_RATE, timeout_s: float = 60.0,
                    *, trusted: bool = True) -> MoonrakerInstance:
    """Start the fake Klippy, then Moonraker, and wait until Moonraker reports Klippy
    ``ready`` (it has connected, subscribed and registered the printer endpoints).
    ``trusted=False``: loopback is not trusted, every request needs a key."""
    binary = moonraker_bin()
    if not binary.exists():
        raise PeerStartError(
            f"Moonraker is not installed ({binary} is missing): run scripts/setup.sh"
        )
    data = base / "data"
    for sub in ("gcodes", "config", "logs"):
        (data / sub).mkdir(parents=True, exist_ok=True)
    socket_path = base / "klippy.sock"
    port = free_port()
    (data / "config" / "moonraker.conf").write_text(
        MOONRAKER_CONF.format(port=port, socket=socket_path, trusted=TRUSTED if trusted else ""),
        encoding="utf-8",
    )
    klippy_log, moonraker_log = base / "klippy.log", base / "moonraker.log"
    with open(klippy_log, "wb") as out:
        klippy = subprocess.Popen(
            [sys.executable, str(FAKE_KLIPPY), str(socket_path), str(data / "gcodes"),
             "--rate", str(rate)], stdout=out, stderr=subprocess.STDOUT,
        )
    with open(moonraker_log, "wb") as out:
        moonraker = subprocess.Popen(
            [str(binary), "-d", str(data), "-n"], stdout=out, stderr=subprocess.STDOUT,
        )
    instance = MoonrakerInstance(f"http://127.0.0.1:{port}", data, klippy, moonraker,
                                 [klippy_log, moonraker_log])
    deadline = time.monotonic() + timeout_s
    try:
        while time.monotonic() < deadline:
            for process, log in ((klippy, klippy_log), (moonraker, moonraker_log)):
                if process.poll() is not None:
                    raise PeerStartError(
                        f"{process.args[0]} exited with {process.returncode}: "
                        f"{log.read_text(errors='replace')[-1500:]}"
                    )
            # untrusted, /server/info wants a key: its 401 is the answer to wait for
            if _klippy_state(instance.url) == ("ready" if trusted else "unauthorized"):
                return instance
            time.sleep(0.1)
        raise PeerStartError(
            f"Moonraker did not report Klippy ready within {timeout_s:.0f} s: "
            f"{moonraker_log.read_text(errors='replace')[-1500:]}"
        )
    except BaseException:
        instance.stop()
        raise


def _klippy_state(url: str) -> str | None:
    try:
        with urllib.request.urlopen(url + "/server/info", timeout=2) as answer:
            state: str = json.load(answer)["result"]["klippy_state"]
            return state
    except urllib.error.HTTPError as exc:
        return "unauthorized" if exc.code == 401 else None
    except (OSError, ValueError, KeyError):
        return None


@pytest.fixture(scope="session")
def octoprint_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[OctoPrintInstance]:
    """OctoPrint with its virtual printer, started once for the session."""
    instance = start_octoprint(tmp_path_factory.mktemp("octoprint"), throttle=TEST_THROTTLE_S)
    try:
        yield instance
    finally:
        instance.stop()


@pytest.fixture
def octoprint(octoprint_server: OctoPrintInstance) -> OctoPrintInstance:
    """The session's OctoPrint, connected and Operational with no job running, for each
    test: one that paused (M600), disconnected or left a print running must not make the
    next test's start refused as busy or not ready."""
    _make_operational(octoprint_server)
    return octoprint_server


def _octoprint_call(instance: OctoPrintInstance, method: str, path: str,
                    body: dict[str, object] | None = None) -> dict[str, object]:
    request = urllib.request.Request(
        instance.url + path, method=method,
        data=None if body is None else json.dumps(body).encode(),
        headers={"X-Api-Key": instance.api_key, "Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=10) as answer:
        text = answer.read()
    return json.loads(text) if text else {}


def _make_operational(instance: OctoPrintInstance, timeout_s: float = 60.0) -> None:
    deadline = time.monotonic() + timeout_s
    state = ""
    while time.monotonic() < deadline:
        state = str(_octoprint_call(instance, "GET", "/api/job").get("state", ""))
        if state == "Operational":
            return
        if state.startswith(("Printing", "Paused", "Pausing", "Resuming")):
            _octoprint_call(instance, "POST", "/api/job", {"command": "cancel"})
        elif state.startswith(("Offline", "Closed", "Error")):
            _octoprint_call(instance, "POST", "/api/connection",
                            {"command": "connect", "port": "VIRTUAL"})
        time.sleep(0.5)
    raise AssertionError(f"OctoPrint stayed {state!r} for {timeout_s} s after the last test")


@pytest.fixture(scope="session")
def moonraker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MoonrakerInstance]:
    """Moonraker in front of the fake Klippy, Klippy ready, for the session."""
    instance = start_moonraker(tmp_path_factory.mktemp("moonraker"))
    try:
        yield instance
    finally:
        instance.stop()
