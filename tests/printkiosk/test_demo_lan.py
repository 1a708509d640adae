"""``printkiosk demo --lan``: a phone on the network can reach the payment page only if the
backend listens beyond 127.0.0.1 and the QR carries the machine's LAN address; without
--lan nothing listens outside the machine."""

from __future__ import annotations

import tomllib
from pathlib import Path

from backend.config import load_backend_config
from printkiosk.cli import build_parser
from printkiosk.commands.demo import DEMO_LOGIN_RATE, demo_backend_toml


def _config(tmp_path: Path, lan: str | None) -> dict[str, dict[str, object]]:
    text = demo_backend_toml(8470, (tmp_path / "b.sqlite3").as_posix(), tmp_path,
                             DEMO_LOGIN_RATE, lan)
    (tmp_path / "backend.toml").write_text(text, encoding="utf-8")
    load_backend_config(tmp_path / "backend.toml")  # the backend accepts it
    return tomllib.loads(text)


def test_by_default_the_demo_listens_on_loopback_and_the_qr_says_so(tmp_path: Path) -> None:
    config = _config(tmp_path, None)
    assert config["server"]["host"] == "127.0.0.1"
    assert config["payments"]["public_base_url"] == "http://127.0.0.1:8470"


def test_with_lan_the_qr_carries_the_lan_address(tmp_path: Path) -> None:
    config = _config(tmp_path, "192.168.1.23")
    assert config["server"]["host"] == "0.0.0.0"
    assert config["payments"]["public_base_url"] == "http://192.168.1.23:8470"


def test_lan_is_an_option_of_the_demo_command() -> None:
    args = build_parser().parse_args(["demo", "--lan"])
    assert args.lan is True
    assert build_parser().parse_args(["demo"]).lan is False
