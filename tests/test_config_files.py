"""Every file under config/ is valid: the examples an operator copies must load as shipped."""

from __future__ import annotations

from pathlib import Path

import pytest

from printkiosk.commands.doctor import check_file

CONFIG = Path(__file__).resolve().parents[1] / "config"
TOML_FILES = sorted(CONFIG.rglob("*.toml"))


def test_config_folder_has_the_example_files() -> None:
    names = {path.name for path in TOML_FILES}
    assert {"kiosk-mfp.toml", "kiosk-3d.toml", "backend.toml"} <= names


@pytest.mark.parametrize("path", TOML_FILES, ids=lambda p: str(p.relative_to(CONFIG)))
def test_example_file_is_valid(path: Path) -> None:
    assert check_file(path) == []
