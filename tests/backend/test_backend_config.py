"""Backend configuration files: the examples load, and each bad file names its problem."""

from __future__ import annotations

from pathlib import Path

import pytest

from backend.config import BackendConfigError, load_backend_config

CONFIG_DIR = Path(__file__).resolve().parents[2] / "config"


@pytest.mark.parametrize("path", sorted(CONFIG_DIR.glob("backend*.toml")), ids=lambda p: p.name)
def test_example_files_load(path: Path) -> None:
    config = load_backend_config(path)
    assert config.server.port == 8470


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ('[server]\nport = "abc"\n',
         "backend.toml: server.port: 'abc' is not an integer between 1 and 65535"),
        ("[server]\nport = 70000\n",
         "backend.toml: server.port: 70000 is not an integer between 1 and 65535"),
        ("[server]\nprot = 8470\n",
         "backend.toml: server.prot: unknown key (allowed: host, port)"),
        ('[ledger]\ncurrency = "euro"\n',
         "backend.toml: ledger.currency: 'euro' is not a three-letter ISO 4217 code"),
        ("[ledger]\ndefault_overdraft = 5.0\n",
         "backend.toml: ledger.default_overdraft: 5.0 is not a non-negative amount as a string"),
        ('[ledger]\ndefault_overdraft = "1.234"\n',
         "backend.toml: ledger.default_overdraft: '1.234' is not a non-negative amount"),
        ('[ledger]\nconsumption_order = "random"\n',
         "backend.toml: ledger.consumption_order: 'random' is not one of \"virtual_first\""),
        ('[database]\nurl = "mysql://x"\n',
         "backend.toml: database.url: 'mysql://x' is not a sqlite:/// or postgresql:// URL"),
        ('[refill]\nenabled = "yes"\n', "backend.toml: refill.enabled: 'yes' is not true or false"),
        ("[web]\nport = 1\n", "backend.toml: web: unknown key (allowed: database, ledger,"),
    ],
)
def test_bad_values_are_named(tmp_path: Path, text: str, problem: str) -> None:
    path = tmp_path / "backend.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(BackendConfigError) as caught:
        load_backend_config(path)
    assert len(caught.value.problems) == 1
    assert caught.value.problems[0].startswith(problem), caught.value.problems


def test_every_problem_is_reported(tmp_path: Path) -> None:
    path = tmp_path / "backend.toml"
    path.write_text('[server]\nport = 0\nhost = ""\n[security]\npin_max_attempts = 0\n',
                    encoding="utf-8")
    with pytest.raises(BackendConfigError) as caught:
        load_backend_config(path)
    assert len(caught.value.problems) == 3


def test_invalid_toml_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "backend.toml"
    path.write_text("[server\n", encoding="utf-8")
    with pytest.raises(BackendConfigError) as caught:
        load_backend_config(path)
    assert caught.value.problems[0].startswith("backend.toml: is not valid TOML")
