"""snmpsim as the real SNMP agent: every printer recording of the corpus on 127.0.0.1.

The recordings are copied to a temporary data directory, with snmpsim's index cache
beside it, so the read-only corpus is never written to; each one answers to the
community, or the SNMPv3 context, named after its file stem. One v3 user (SHA + AES, authPriv) is
configured for the v3 tests. Used by the session fixture in conftest.py and by
bench/bench_snmp.py.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[3]
# ../shared beside the clone (CI, the main checkout); PRINTKIOSK_SHARED names it from a
# git worktree that has no shared/ beside it.
SHARED = Path(os.environ.get("PRINTKIOSK_SHARED", REPO / ".." / "shared"))
SNMP_CORPUS = SHARED / "corpus" / "snmp"
MADE_HERE = Path(__file__).resolve().parent / "data"
SNMPSIM = Path(sys.executable).parent / "snmpsim-command-responder"

V3_USER = "kiosk"
V3_AUTH_KEY = "kiosk-auth-pass"
V3_PRIV_KEY = "kiosk-priv-pass"


@dataclass(frozen=True)
class Agent:
    host: str
    port: int
    v3_user: str = V3_USER
    v3_auth_key: str = V3_AUTH_KEY
    v3_priv_key: str = V3_PRIV_KEY


def corpus_recordings() -> list[str]:
    """Stems of every recording in the corpus; empty when the corpus is absent."""
    if not SNMP_CORPUS.is_dir():
        return []
    return sorted(path.stem for path in SNMP_CORPUS.glob("*.snmprec"))


def free_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def start_snmpsim(root: Path, port: int) -> subprocess.Popen[bytes]:
    """snmpsim on 127.0.0.1:port serving every recording (corpus + made here); returns
    once it listens. Also used by bench/bench_snmp.py."""
    data, cache = root / "data", root / "cache"
    data.mkdir()
    cache.mkdir()
    for recording in [*SNMP_CORPUS.glob("*.snmprec"), *MADE_HERE.glob("*.snmprec")]:
        shutil.copyfile(recording, data / recording.name)
    log_path = root / "snmpsim.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [str(SNMPSIM), f"--data-dir={data}", f"--cache-dir={cache}",
             f"--agent-udpv4-endpoint=127.0.0.1:{port}", "--logging-method=stdout",
             "--log-level=error",
             f"--v3-user={V3_USER}", f"--v3-auth-key={V3_AUTH_KEY}", "--v3-auth-proto=SHA",
             f"--v3-priv-key={V3_PRIV_KEY}", "--v3-priv-proto=AES"],
            stdout=log, stderr=subprocess.STDOUT,
            env={**os.environ, "SNMPSIM_ALLOW_ROOT": "true"},
        )
    try:
        _wait_until_listening(process, log_path)
    except BaseException:
        stop(process)
        raise
    return process


def stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def _wait_until_listening(process: subprocess.Popen[bytes], log_path: Path) -> None:
    """snmpsim logs "Listening at" once its UDP socket is bound; requests then queue."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if b"Listening at" in log_path.read_bytes():
            return
        if process.poll() is not None:
            break
        time.sleep(0.05)
    raise RuntimeError(f"snmpsim did not start:\n{log_path.read_text(errors='replace')}")
