"""Start a private OctoPrint with its virtual printer on 127.0.0.1, for the tests and for
``printkiosk demo --3d``.

OctoPrint runs from its own virtual environment (``.peers/octoprint``, installed by
``scripts/setup.sh``) so that its pins never meet ours. Everything it keeps lives in
``base_dir``: a ``config.yaml`` written here (loopback only, no online checks, the
plugins that phone home disabled, the virtual printer enabled and auto-connected), a
``users.yaml`` with one admin whose API key the caller gets back, and the uploads.

``throttle`` slows the print down: OctoPrint's virtual printer sleeps a tenth of each
move's real duration and its own ``throttle`` setting is unused (1.11.8), so a small
single-file plugin written into ``base_dir/plugins`` sleeps ``throttle`` seconds after
every move line sent (G0-G3). Tests print a few hundred lines in seconds; the demo takes
about a minute.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import requests

OCTOPRINT_VERSION = "1.11.8"
ADMIN_USER = "printkiosk"

# The plugins that reach out to the internet (or to the Raspberry Pi's firmware) at start.
DISABLED_PLUGINS = (
    "discovery", "softwareupdate", "announcements", "tracking", "errortracking",
    "pluginmanager", "pi_support", "firmware_check", "health_check", "backup",
)

THROTTLE_PLUGIN = '''\
"""Written by printkiosk: sleep after each move sent, so a print on the virtual printer
lasts long enough to be followed."""
import time

__plugin_name__ = "printkiosk throttle"
__plugin_pythoncompat__ = ">=3.7,<4"
DELAY_S = {delay!r}


def _sent(comm, phase, cmd, cmd_type, gcode, *args, **kwargs):
    if gcode in ("G0", "G1", "G2", "G3"):
        time.sleep(DELAY_S)


__plugin_hooks__ = {{"octoprint.comm.protocol.gcode.sent": _sent}}
'''


FORBIDDEN: dict[str, object] = {"forbidden": True}


class PeerStartError(RuntimeError):
    """The peer server did not come up; the message says what was seen (and the log)."""


def peers_dir() -> Path:
    """Where ``scripts/setup.sh`` puts the peers' virtual environments: ``.peers`` at the
    repository root, or ``$PRINTKIOSK_PEERS_DIR`` (several checkouts can share one)."""
    override = os.environ.get("PRINTKIOSK_PEERS_DIR")
    if override:
        return Path(override)
    return Path(__file__).resolve().parents[2] / ".peers"


def octoprint_python() -> Path:
    """The Python of OctoPrint's own virtual environment."""
    return peers_dir() / "octoprint" / "bin" / "python"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@dataclass
class OctoPrintInstance:
    """A running OctoPrint: its base URL, the admin's API key and the process."""

    url: str
    api_key: str
    base_dir: Path
    process: subprocess.Popen[bytes]

    def stop(self) -> None:
        """Terminate OctoPrint (SIGTERM: it disconnects the printer and saves its
        settings), killing it if it has not exited within 15 s."""
        if self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=5)

    @property
    def log_path(self) -> Path:
        return self.base_dir / "serve.log"

    def write_key_file(self, path: Path) -> Path:
        """Write the API key as a kiosk's ``printer.octoprint.api_key_file`` wants it:
        one line, mode 0600 from the start (never readable by others, even briefly)."""
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(self.api_key + "\n")
        os.chmod(path, 0o600)
        return path


def write_config(base_dir: Path, port: int, throttle: float | None) -> None:
    """config.yaml for a private, offline OctoPrint with the virtual printer. JSON is
    YAML, so no YAML library is needed on our side."""
    config = {
        "server": {
            "host": "127.0.0.1", "port": port, "firstRun": False,
            "onlineCheck": {"enabled": False}, "pluginBlacklist": {"enabled": False},
            "seenWizards": {"corewizard": 4, "backup": None, "tracking": None},
        },
        "serial": {
            "port": "VIRTUAL", "baudrate": 0, "autoconnect": True,
            "additionalPorts": [], "log": False,
        },
        "plugins": {
            "_disabled": list(DISABLED_PLUGINS),
            "virtual_printer": {"enabled": True},
            "tracking": {"enabled": False},
        },
        "webcam": {"webcamEnabled": False},
    }
    (base_dir / "config.yaml").write_text(json.dumps(config, indent=1), encoding="utf-8")
    plugins = base_dir / "plugins"
    plugins.mkdir(exist_ok=True)
    plugin = plugins / "printkiosk_throttle.py"
    if throttle:
        plugin.write_text(THROTTLE_PLUGIN.format(delay=float(throttle)), encoding="utf-8")
    else:
        plugin.unlink(missing_ok=True)


def create_admin(base_dir: Path) -> str:
    """Add the admin user with OctoPrint's own CLI and give it an API key (the global
    ``api.key`` is deprecated), returning the key. An existing base dir keeps its key."""
    python = octoprint_python()
    users = base_dir / "users.yaml"
    script = (
        "import sys, yaml\n"
        "p, user, key = sys.argv[1:]\n"
        "data = yaml.safe_load(open(p)) or {}\n"
        "data[user]['apikey'] = data[user].get('apikey') or key\n"
        "yaml.safe_dump(data, open(p, 'w'))\n"
        "print(data[user]['apikey'])\n"
    )
    if not users.exists() or ADMIN_USER not in users.read_text(encoding="utf-8"):
        run = subprocess.run(
            [str(python), "-m", "octoprint", "--basedir", str(base_dir), "user", "add",
             "--password", secrets.token_urlsafe(16), "--admin", ADMIN_USER],
            capture_output=True, text=True, timeout=120,
        )
        if run.returncode != 0:
            raise PeerStartError(f"octoprint user add failed: {run.stderr.strip()[-800:]}")
    run = subprocess.run(
        [str(python), "-c", script, str(users), ADMIN_USER, secrets.token_hex(16).upper()],
        capture_output=True, text=True, timeout=60,
    )
    if run.returncode != 0:
        raise PeerStartError(f"could not set the API key: {run.stderr.strip()[-800:]}")
    return run.stdout.strip()


def start_octoprint(
    base_dir: Path, port: int = 0, *, throttle: float | None = None, timeout_s: float = 90.0,
) -> OctoPrintInstance:
    """Start OctoPrint in ``base_dir`` on 127.0.0.1:``port`` (0: a free one) and return
    once its API answers and the virtual printer is connected and Operational."""
    python = octoprint_python()
    if not python.exists():
        raise PeerStartError(
            f"OctoPrint is not installed ({python} is missing): run scripts/setup.sh"
        )
    base_dir.mkdir(parents=True, exist_ok=True)
    port = port or free_port()
    write_config(base_dir, port, throttle)
    api_key = create_admin(base_dir)
    log = open(base_dir / "serve.log", "ab")  # noqa: SIM115 - the child keeps it open
    try:
        process = subprocess.Popen(
            [str(python), "-m", "octoprint", "serve", "--iknowwhatimdoing",
             "--basedir", str(base_dir), "--host", "127.0.0.1", "--port", str(port)],
            stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    finally:
        log.close()
    instance = OctoPrintInstance(f"http://127.0.0.1:{port}", api_key, base_dir, process)
    try:
        _wait_operational(instance, timeout_s)
    except BaseException:
        instance.stop()
        raise
    return instance


def _get(instance: OctoPrintInstance, path: str) -> dict[str, object] | None:
    try:
        answer = requests.get(
            instance.url + path, headers={"X-Api-Key": instance.api_key}, timeout=5
        )
    except requests.RequestException:
        return None
    if answer.status_code == 403:
        return FORBIDDEN
    if answer.status_code != 200:
        return None
    result: dict[str, object] = answer.json()
    return result


def _wait_operational(instance: OctoPrintInstance, timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    seen = "no answer"
    connect_at = time.monotonic() + 5.0  # autoconnect normally does it before that
    while time.monotonic() < deadline:
        if instance.process.poll() is not None:
            raise PeerStartError(
                f"OctoPrint exited with code {instance.process.returncode}; "
                f"log: {_tail(instance.log_path)}"
            )
        connection = _get(instance, "/api/connection")
        if connection == FORBIDDEN:
            raise PeerStartError(f"OctoPrint refused the admin's API key; see {instance.log_path}")
        if connection is not None:
            current = connection.get("current")
            state = current.get("state") if isinstance(current, dict) else None
            seen = f"printer state {state!r}"
            if state == "Operational":
                return
            if state == "Closed" and time.monotonic() > connect_at:
                _connect(instance)
                connect_at = time.monotonic() + 10.0
        time.sleep(0.2)
    raise PeerStartError(
        f"OctoPrint was not ready within {timeout_s:.0f} s ({seen}); "
        f"log: {_tail(instance.log_path)}"
    )


def _connect(instance: OctoPrintInstance) -> None:
    """Ask OctoPrint to connect to the virtual printer (if autoconnect did not)."""
    with contextlib.suppress(requests.RequestException):
        requests.post(
            instance.url + "/api/connection", headers={"X-Api-Key": instance.api_key},
            json={"command": "connect", "port": "VIRTUAL", "autoconnect": True}, timeout=5,
        )


def _tail(path: Path, size: int = 1500) -> str:
    try:
        return path.read_bytes()[-size:].decode("utf-8", "replace")
    except OSError:
        return "(no log)"
