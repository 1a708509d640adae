"""Run the demo: the backend on SQLite with demo users, cards and balances on 127.0.0.1,
and the kiosk window with a simulated card reader (type a demo card number on the idle
screen; the numbers are shown there).

The backend runs as a child process with its own SQLite file under the user's data
directory and stops when the kiosk window closes.
"""

from __future__ import annotations

import argparse
import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

from printkiosk import REPO_CONFIG


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--port", type=int, default=0, help="backend port (default: a free one)")
    parser.add_argument(
        "--language", choices=("en", "fr"), default="en", help="language of the first session"
    )


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def wait_for_port(port: int, process: subprocess.Popen[bytes], timeout_s: float = 30.0) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the backend exited with code {process.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"the backend did not listen on 127.0.0.1:{port} within {timeout_s:g} s")


def demo_data_dir() -> Path:
    from platformdirs import user_data_dir

    path = Path(user_data_dir("printkiosk")) / "demo"
    path.mkdir(parents=True, exist_ok=True)
    return path


# The demo prices with the campus lists: the default one and the staff group's one.
DEMO_PRICE_LISTS = ("campus-default.toml", "staff.toml")


def start_demo_backend(port: int, data_dir: Path) -> subprocess.Popen[bytes]:
    """Start ``printkiosk backend`` with demo data on 127.0.0.1:port; return once it listens."""
    config = data_dir / "backend.toml"
    database = (data_dir / "backend.sqlite3").as_posix()
    price_lists = data_dir / "pricelists"
    price_lists.mkdir(exist_ok=True)
    for name in DEMO_PRICE_LISTS:
        shutil.copyfile(REPO_CONFIG / "pricelists" / name, price_lists / name)
    config.write_text(
        "[server]\n"
        'host = "127.0.0.1"\n'
        f"port = {port}\n\n"
        "[database]\n"
        f'url = "sqlite:///{database}"\n\n'
        "[pricing]\n"
        f'price_lists_dir = "{price_lists.as_posix()}"\n',
        encoding="utf-8",
    )
    process = subprocess.Popen(
        [sys.executable, "-m", "printkiosk", "backend", "--config", str(config), "--demo-data"],
    )
    try:
        wait_for_port(port, process)
    except Exception:
        process.terminate()
        raise
    return process


def run(args: argparse.Namespace) -> int:
    from backend.demo import DEMO_CARDS, DEMO_TERMINAL_TOKEN
    from kiosk.run import run_kiosk
    from terminal.config import parse_kiosk_config
    from terminal.wiring import build_terminal

    port = args.port or free_port()
    data_dir = demo_data_dir()
    backend = start_demo_backend(port, data_dir)
    try:
        import tomllib

        data = tomllib.loads((REPO_CONFIG / "kiosk-mfp.toml").read_text(encoding="utf-8"))
        data["backend"]["url"] = f"http://127.0.0.1:{port}"
        data["terminal"]["language"] = args.language
        data["card_reader"] = {"type": "simulated", "debounce_s": 0.0}
        # the kiosk's outbox and offline cache belong with the demo backend's database
        data["offline"]["state_dir"] = str(data_dir / "kiosk")
        data["pricing"] = {"price_list": str(REPO_CONFIG / "pricelists" / "campus-default.toml")}
        config = parse_kiosk_config(data, "kiosk-mfp.toml (demo)")
        os.environ.setdefault("PRINTKIOSK_TERMINAL_TOKEN", DEMO_TERMINAL_TOKEN)
        cards = [(card, name) for card, _username, name in DEMO_CARDS]
        run_kiosk(build_terminal(config, DEMO_TERMINAL_TOKEN, demo_cards=cards))
    finally:
        backend.terminate()
        backend.wait(timeout=10)
    return 0
