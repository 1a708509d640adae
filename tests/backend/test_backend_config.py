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
        ("[server]\nmax_body_bytes = 10\n",
         "backend.toml: server.max_body_bytes: 10 is not an integer between 1024 and 67108864"),
        ("[server]\nprot = 8470\n",
         "backend.toml: server.prot: unknown key (allowed: host, max_body_bytes, port)"),
        ('[ledger]\ncurrency = "euro"\n',
         "backend.toml: ledger.currency: 'euro' is not a three-letter ISO 4217 code"),
        ("[security]\npin_lockout_s = 1.5\n",
         "backend.toml: security.pin_lockout_s: 1.5 is not an integer between 1 and 86400"),
        ("[server]\nport = true\n",
         "backend.toml: server.port: True is not an integer between 1 and 65535"),
        ('[ledger]\nconsumption_order = "random"\n',
         "backend.toml: ledger.consumption_order: 'random' is not one of \"virtual_first\""),
        ('[database]\nurl = "mysql://x"\n',
         "backend.toml: database.url: 'mysql://x' is not a sqlite:/// or postgresql:// URL"),
        ('[refill]\nenabled = "yes"\n', "backend.toml: refill.enabled: 'yes' is not true or false"),
        ("[holds]\nexpire_after_h = 0\n",
         "backend.toml: holds.expire_after_h: 0 is not an integer between 1 and 720 (hours)"),
        ('[holds]\ncheck_interval_s = "5m"\n',
         "backend.toml: holds.check_interval_s: '5m' is not an integer between 1 and 86400"),
        ("[fleet]\nsupply_alert_days = 0\n",
         "backend.toml: fleet.supply_alert_days: 0 is not an integer between 1 and 365"),
        ("[webui]\nport = 1\n",
         "backend.toml: webui: unknown key (allowed: database, "),
        ("[print3d]\nmax_file_mb = 100\n",
         "backend.toml: print3d.groups: missing (a non-empty list of [[print3d.groups]]"),
        ('[print3d]\ncancel_policy = "half"\n[[print3d.groups]]\nname = "m"\n'
         'materials = ["PLA"]\n',
         "backend.toml: print3d.cancel_policy: 'half' is not one of \"charge_printed\", "
         "\"refund\", \"setup_only\""),
        ('[print3d]\n[[print3d.groups]]\nname = "m"\nmaterials = []\n',
         "backend.toml: print3d.groups.0.materials: [] is not a non-empty list of material"),
        ('[print3d]\n[[print3d.groups]]\nname = "m"\nmaterials = ["PLA"]\n'
         'density = { PLA = "heavy" }\n',
         "backend.toml: print3d.groups.0.density: density of PLA 'heavy' is not a decimal "
         "string between \"0.5\" and \"20\""),
        ('[print3d]\n[[print3d.groups]]\nname = "m"\nmaterials = ["PLA"]\n'
         'density = { PETG = "1.27" }\n',
         "backend.toml: print3d.groups.0: group m: density of PETG, which is not in "
         "materials (PLA)"),
        ('[print3d]\ntime_margin = 0.25\n[[print3d.groups]]\nname = "m"\nmaterials = ["PLA"]\n',
         "backend.toml: print3d.time_margin: 0.25 is not a decimal string between \"0\" and "
         "\"10\""),
        ('[print3d]\n[[print3d.groups]]\nname = "m"\nmaterials = ["PLA"]\nloaded = 1\n',
         "backend.toml: print3d.groups.0.loaded: unknown key (allowed: density, materials, "
         "name, printer_model)"),
        ('[print3d]\n[[print3d.groups]]\nname = "m"\nmaterials = ["PLA"]\n'
         '[[print3d.groups]]\nname = "m"\nmaterials = ["PETG"]\n',
         "backend.toml: [print3d]: group m is defined twice"),
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


def test_secret_key_file_is_created_private_and_refused_when_readable(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from backend.config import SECRET_ENV, BackendConfig

    monkeypatch.delenv(SECRET_ENV, raising=False)
    key_file = tmp_path / "secret.key"
    config = BackendConfig.model_validate({"security": {"secret_key_file": str(key_file)}})
    first = config.secret_key()
    assert len(first) == 64 and key_file.stat().st_mode & 0o777 == 0o600
    assert config.secret_key() == first
    key_file.chmod(0o644)
    with pytest.raises(BackendConfigError) as caught:
        config.secret_key()
    assert caught.value.problems == [
        f"{key_file}: the secret key file must be readable by its owner only "
        f"(chmod 600 {key_file})"]


def test_payments_config_problems_name_the_key_and_the_rule(tmp_path: Path) -> None:
    """The demo gateway only when enabled by name; stripe needs its key files, and
    doctor reports a key file the backend could not read (issue 14)."""
    from backend.config import BackendConfigError, parse_backend_config
    from printkiosk.commands.doctor import diagnose

    cases = {
        '[payments]\ngateway = "demo"\npublic_base_url = "http://h:1"\n':
            "needs [payments.demo] enabled = true",
        '[payments]\ngateway = "stripe"\npublic_base_url = "http://h:1"\n':
            "needs [payments.stripe] secret_key_file",
        '[payments]\nmin_amount = "5.00"\npresets = ["2.00"]\n': "presets 2.00 are outside",
        '[payments.demo]\nenabld = true\n': "payments.demo.enabld: unknown key (allowed: "
                                            "enabled)",
        '[payments]\ngateway = "demo"\n[payments.demo]\nenabled = true\n':
            "needs public_base_url",
    }
    import tomllib

    for text, expected in cases.items():
        with pytest.raises(BackendConfigError) as refused:
            parse_backend_config(tomllib.loads(text), "backend.toml")
        assert any(expected in problem for problem in refused.value.problems), (
            text, refused.value.problems)
    enabled = parse_backend_config(tomllib.loads(
        '[payments]\ngateway = "demo"\npublic_base_url = "http://h:1"\n'
        '[payments.demo]\nenabled = true\n'), "backend.toml")
    assert enabled.payments.gateway == "demo"
    config = tmp_path / "backend.toml"
    config.write_text('[server]\nport = 8470\n[payments]\ngateway = "stripe"\n'
                      'public_base_url = "http://h:1"\n[payments.stripe]\n'
                      f'secret_key_file = "{tmp_path / "missing"}"\n'
                      f'webhook_secret_file = "{tmp_path / "missing2"}"\n', encoding="utf-8")
    assert any("payments.stripe.secret_key_file" in problem and "cannot be read" in problem
               for problem in diagnose(config).problems)
