"""systemd/install.sh run in a scratch root, with the commands it runs replaced by stubs
that record their arguments (systemctl, udevadm, useradd, usermod, apt-get, and python3
for the venv: the venv's ``printkiosk`` runs this checkout's code). systemctl, useradd
and usermod then run for real when asked to act on the scratch root only."""

from __future__ import annotations

import hashlib
import os
import shutil
import stat
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
INSTALL = REPO / "systemd" / "install.sh"
STUBBED = ("systemctl", "udevadm", "useradd", "usermod", "apt-get")


def _executable(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    path.chmod(0o755)


def make_stubs(folder: Path, code: Path = REPO) -> Path:
    """The stub commands in ``folder``; each appends one line to ``folder/calls.log``.
    The venv's ``printkiosk`` runs the checkout at ``code``."""
    log = folder / "calls.log"
    for name in STUBBED:
        _executable(folder / name, f'#!/bin/sh\necho "{name} $*" >> "{log}"\n')
    # The real ones where they can act on the scratch root alone: systemctl --root=DIR
    # (no running systemd needed) enables units there; useradd and usermod --prefix DIR
    # edit DIR's /etc/passwd and /etc/group, never the host's.
    for name, only_with in (("systemctl", "--root=*"), ("useradd", "--prefix"),
                            ("usermod", "--prefix")):
        real = shutil.which(name) or f"/usr/sbin/{name}"
        _executable(folder / name, f'''#!/bin/sh
echo "{name} $*" >> "{log}"
case "$1" in {only_with}) exec {real} "$@" ;; esac
''')
    # python3: `-m venv DIR` makes a venv whose pip records and whose printkiosk is this
    # checkout's (with the test's interpreter); anything else is the real python3.
    _executable(folder / "python3", f'''#!/bin/sh
if [ "$1" = "-m" ] && [ "$2" = "venv" ]; then
    echo "python3 $*" >> "{log}"
    mkdir -p "$3/bin"
    printf '#!/bin/sh\\nexec {sys.executable} "$@"\\n' > "$3/bin/python"
    printf '#!/bin/sh\\necho "pip $*" >> "{log}"\\n' > "$3/bin/pip"
    printf '#!/bin/sh\\nPYTHONPATH={code} exec {sys.executable} -m printkiosk "$@"\\n' \\
        > "$3/bin/printkiosk"
    chmod 755 "$3/bin/python" "$3/bin/pip" "$3/bin/printkiosk"
    exit 0
fi
exec {sys.executable} "$@"
''')
    return log


@dataclass
class Run:
    returncode: int
    output: str


def install(root: Path, stubs: Path, role: str = "kiosk", **env: str) -> Run:
    environ = {**os.environ, **env}
    environ.update({name.upper().replace("-", "_"): str(stubs / name) for name in STUBBED})
    environ["PYTHON3"] = str(stubs / "python3")
    result = subprocess.run(["bash", str(INSTALL), "--root", str(root), role], env=environ,
                            capture_output=True, text=True, timeout=300, check=False)
    return Run(result.returncode, result.stdout + result.stderr)


def snapshot(root: Path) -> dict[str, tuple[str, int, str]]:
    """Every file and directory under ``root``: (sha256 or "dir", mode, mtime_ns)."""
    found: dict[str, tuple[str, int, str]] = {}
    for path in sorted(root.rglob("*")):
        info = path.lstat()
        key = "/" + path.relative_to(root).as_posix()
        if stat.S_ISDIR(info.st_mode):
            found[key] = ("dir", stat.S_IMODE(info.st_mode), "")
        else:
            digest = hashlib.sha256(path.read_bytes()).hexdigest() if path.is_file() else "link"
            found[key] = (digest, stat.S_IMODE(info.st_mode), str(info.st_mtime_ns))
    return found


def prepare_image(root: Path) -> None:
    """What the OS image already holds and install.sh relies on: the account files with
    root and the device groups, systemd's own units (for `systemd-analyze --root`) and
    cage (a stub executable: cage is not installed on this test machine; only its path
    is checked)."""
    etc = root / "etc"
    etc.mkdir(parents=True, exist_ok=True)
    groups = {"root": 0, "lp": 7, "video": 44, "input": 105, "render": 106}
    (etc / "passwd").write_text("root:x:0:0:root:/root:/bin/bash\n")
    (etc / "group").write_text("".join(f"{name}:x:{gid}:\n" for name, gid in groups.items()))
    (etc / "shadow").write_text("root:*:19000:0:99999:7:::\n")
    (etc / "gshadow").write_text("".join(f"{name}:*::\n" for name in groups))
    for secret in ("shadow", "gshadow"):
        (etc / secret).chmod(0o640)
    shutil.copytree("/usr/lib/systemd/system", root / "usr/lib/systemd/system",
                    symlinks=True)
    _executable(root / "usr/bin/cage", "#!/bin/sh\nexec \"$@\"\n")
