"""systemd/install.sh, run twice in a scratch root with stub commands: the files it writes,
their modes and owners, the commands it runs, and that the second run changes nothing."""

from __future__ import annotations

import stat
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from scratch_root import REPO, Run, install, make_stubs, prepare_image, snapshot

TOKEN = "terminal-token-from-the-enrolment"


@dataclass
class Installed:
    root: Path
    first: Run
    second: Run
    calls_first: list[str]
    calls_second: list[str]
    before: dict[str, tuple[str, int, str]]
    after: dict[str, tuple[str, int, str]]


def run_twice(tmp: Path, role: str, **env: str) -> Installed:
    root = tmp / "root"
    prepare_image(root)
    stubs = tmp / "stubs"
    log = make_stubs(stubs)
    first = install(root, stubs, role, **env)
    assert first.returncode == 0, first.output
    calls_first = log.read_text(encoding="utf-8").splitlines()
    log.write_text("", encoding="utf-8")
    before = snapshot(root)
    second = install(root, stubs, role, **env)
    assert second.returncode == 0, second.output
    return Installed(root, first, second, calls_first,
                     log.read_text(encoding="utf-8").splitlines(), before, snapshot(root))


@pytest.fixture(scope="module")
def kiosk(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Installed]:
    yield run_twice(tmp_path_factory.mktemp("install-kiosk"), "kiosk",
                    PRINTKIOSK_TERMINAL_TOKEN=TOKEN)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_the_kiosk_install_writes_the_units_rules_session_and_config(kiosk: Installed) -> None:
    root = kiosk.root
    for unit in ("printkiosk-kiosk.service",):
        installed = root / "etc/systemd/system" / unit
        assert installed.read_bytes() == (REPO / "systemd" / unit).read_bytes()
        assert mode(installed) == 0o644
    # enabled the way systemd does it: the real systemctl --root made the symlink
    wants = root / "etc/systemd/system/multi-user.target.wants/printkiosk-kiosk.service"
    assert wants.is_symlink()
    assert str(wants.readlink()) == "/etc/systemd/system/printkiosk-kiosk.service"
    for rules in ("card-reader", "receipt-printer", "voucher-scanner"):
        installed = root / f"etc/udev/rules.d/99-printkiosk-{rules}.rules"
        assert mode(installed) == 0o644
        shipped = REPO / f"systemd/99-printkiosk-{rules}.rules"
        assert installed.read_bytes() == shipped.read_bytes()
    card = (root / "etc/udev/rules.d/99-printkiosk-card-reader.rules").read_text()
    rule = [line for line in card.splitlines() if line and not line.startswith("#")]
    assert len(rule) == 1
    for part in ('SYMLINK+="input/printkiosk-card-reader"', 'ENV{LIBINPUT_IGNORE_DEVICE}="1"',
                 'ENV{ID_INPUT_KEYBOARD}=""', 'ENV{ID_INPUT_KEY}=""', 'MODE="0640"'):
        assert part in rule[0], part
    assert "pam_systemd.so" in (root / "etc/pam.d/printkiosk-kiosk").read_text()
    polkit = (root / "etc/polkit-1/rules.d/50-printkiosk.rules").read_text()
    assert 'subject.user !== "printkiosk"' in polkit and "login1.reboot" in polkit
    assert "SystemMaxUse=" in (root / "etc/systemd/journald.conf.d/printkiosk.conf").read_text()
    config = root / "etc/printkiosk/kiosk.toml"
    assert config.read_bytes() == (REPO / "config/kiosk-mfp.toml").read_bytes()
    assert mode(config) == 0o640
    assert (root / "opt/printkiosk/docs/raspberry-pi.md").is_file()


def account(root: Path, name: str) -> tuple[int, int]:
    """uid and gid of ``name`` in the scratch root's /etc/passwd."""
    for line in (root / "etc/passwd").read_text().splitlines():
        fields = line.split(":")
        if fields[0] == name:
            return int(fields[2]), int(fields[3])
    raise AssertionError(f"no user {name} in {root}/etc/passwd")


def owner(path: Path) -> tuple[int, int]:
    return path.stat().st_uid, path.stat().st_gid


def test_secrets_are_0600_state_0750_and_the_service_user_owns_them(kiosk: Installed) -> None:
    root = kiosk.root
    service = account(root, "printkiosk")
    assert service[0] != 0
    passwd = [line for line in (root / "etc/passwd").read_text().splitlines()
              if line.startswith("printkiosk:")]
    assert passwd == [f"printkiosk:x:{service[0]}:{service[1]}:printkiosk service:"
                      "/var/lib/printkiosk:/usr/sbin/nologin"]
    for group in ("video", "input", "render"):
        line = next(line for line in (root / "etc/group").read_text().splitlines()
                    if line.startswith(f"{group}:"))
        assert line.split(":")[3].split(",") == ["printkiosk"], line
    token = root / "etc/printkiosk/terminal-token"
    assert token.read_text() == TOKEN + "\n"
    assert (mode(token), owner(token)) == (0o600, service)
    assert (mode(root / "var/lib/printkiosk"), owner(root / "var/lib/printkiosk")) == \
        (0o750, service)
    # the kiosk saves its settings (atomic renames) in its configuration directory
    assert (mode(root / "etc/printkiosk"), owner(root / "etc/printkiosk")) == (0o750, service)
    assert owner(root / "etc/printkiosk/kiosk.toml") == service
    for path in ("opt/printkiosk", "etc/systemd/system/printkiosk-kiosk.service",
                 "etc/udev/rules.d/99-printkiosk-card-reader.rules"):
        assert owner(root / path) == (0, 0), path
    assert mode(root / "opt/printkiosk") == 0o755


def test_the_commands_create_the_user_the_venv_and_enable_the_unit(kiosk: Installed) -> None:
    calls = kiosk.calls_first
    prefix = f"--prefix {kiosk.root}"  # into the scratch root's /etc/passwd, not the host's
    assert (f"useradd {prefix} --system --user-group --home-dir /var/lib/printkiosk "
            "--no-create-home --shell /usr/sbin/nologin --comment printkiosk service "
            "printkiosk") in calls
    assert f"usermod {prefix} -a -G video,input,render printkiosk" in calls
    venv = kiosk.root / "opt/printkiosk/.venv"
    assert f"python3 -m venv {venv}" in calls
    assert any(call.startswith("pip install") and str(REPO) in call for call in calls)
    assert f"systemctl --root={kiosk.root} enable printkiosk-kiosk.service" in calls
    # --root starts nothing and reloads nothing on the machine running the test
    assert not [call for call in calls if call.startswith(("udevadm", "apt-get"))], calls
    assert "systemctl daemon-reload" not in calls
    again = " ".join(kiosk.calls_second)
    assert "python3 -m venv" not in again  # the venv is kept
    assert "useradd" not in again and "usermod" not in again  # the user and its groups too


def test_a_second_run_changes_nothing(kiosk: Installed) -> None:
    assert kiosk.after == kiosk.before
    assert "wrote" not in kiosk.second.output, kiosk.second.output
    assert "kept /etc/printkiosk/kiosk.toml" in kiosk.second.output
    # (an appended line, a duplicated rule, a rewritten file would all change a checksum
    # or an mtime in the snapshot)


def test_a_site_config_is_kept_and_a_group_readable_token_is_made_0600(tmp_path: Path) -> None:
    root = tmp_path / "root"
    site = root / "etc/printkiosk/kiosk.toml"
    site.parent.mkdir(parents=True)
    site.write_text("# the site's own file\n", encoding="utf-8")
    token = root / "etc/printkiosk/terminal-token"
    token.write_text(TOKEN + "\n", encoding="utf-8")
    token.chmod(0o644)
    prepare_image(root)
    make_stubs(tmp_path / "stubs")
    run = install(root, tmp_path / "stubs", "kiosk", PRINTKIOSK_TERMINAL_TOKEN=TOKEN)
    assert run.returncode == 0, run.output
    assert site.read_text() == "# the site's own file\n"
    assert mode(token) == 0o600


@pytest.mark.parametrize("role", ["backend", "spool-agent"])
def test_the_backend_and_spool_agent_installs_are_idempotent_too(
    role: str, tmp_path: Path
) -> None:
    done = run_twice(tmp_path, role)
    assert done.after == done.before
    unit = done.root / f"etc/systemd/system/printkiosk-{role}.service"
    assert unit.read_bytes() == (REPO / f"systemd/printkiosk-{role}.service").read_bytes()
    assert not (done.root / "etc/udev/rules.d").exists()  # no card reader on a server
    if role == "spool-agent":
        assert f"usermod --prefix {done.root} -a -G lp printkiosk" in done.calls_first


def test_bad_arguments_are_refused_with_the_usage(tmp_path: Path) -> None:
    run = install(tmp_path / "root", tmp_path, "printer")
    assert run.returncode == 2
    assert "usage: install.sh [--root DIR] kiosk|backend|spool-agent" in run.output

