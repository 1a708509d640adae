"""A throw-away PostgreSQL server for the tests: initdb in a temp dir, 127.0.0.1, free port.

PostgreSQL refuses to run as root, so the cluster directory belongs to the ``postgres``
OS user and the server tools run through ``runuser`` when the tests run as root.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

PG_BIN = Path("/usr/lib/postgresql/15/bin")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def available() -> bool:
    return (PG_BIN / "initdb").exists() and (os.geteuid() != 0 or bool(shutil.which("runuser")))


@dataclass(frozen=True)
class PgServer:
    port: int
    socket_dir: Path
    bin_dir: Path = PG_BIN

    def url(self, database: str = "postgres") -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{database}"

    def admin(self, sql: str) -> None:
        import psycopg

        with psycopg.connect(f"host=127.0.0.1 port={self.port} user=postgres dbname=postgres",
                             autocommit=True) as conn:
            conn.execute(sql)


def _as_postgres(argv: list[str]) -> list[str]:
    return ["runuser", "-u", "postgres", "--", *argv] if os.geteuid() == 0 else argv


# For tests: durability off (a crash loses a throw-away cluster, nothing else).
FAST = "-c fsync=off -c synchronous_commit=off -c full_page_writes=off"


@contextmanager
def running_postgres(settings: str = FAST) -> Iterator[PgServer]:
    """A started server; ``settings`` are extra ``-c`` options (``""`` for the defaults)."""
    base = Path(tempfile.mkdtemp(prefix="printkiosk-pg-"))
    if os.geteuid() == 0:
        shutil.chown(base, "postgres", "postgres")
    data = base / "data"
    port = free_port()
    subprocess.run(
        _as_postgres([str(PG_BIN / "initdb"), "-D", str(data), "-U", "postgres", "-A", "trust",
                      "--no-sync", "-E", "UTF8"]),
        check=True, capture_output=True,
    )
    options = (f"-p {port} -k {base} -c listen_addresses=127.0.0.1 -c max_connections=200 "
               f"{settings}")
    subprocess.run(
        _as_postgres([str(PG_BIN / "pg_ctl"), "-D", str(data), "-o", options,
                      "-l", str(base / "server.log"), "-w", "start"]),
        check=True, capture_output=True,
    )
    try:
        yield PgServer(port=port, socket_dir=base)
    finally:
        subprocess.run(
            _as_postgres([str(PG_BIN / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"]),
            check=False, capture_output=True,
        )
        shutil.rmtree(base, ignore_errors=True)
