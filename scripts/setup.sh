#!/usr/bin/env bash
# Set up everything printkiosk needs on a Debian 12 machine (as root), idempotently:
# the Debian packages of scripts/apt-packages.txt and a virtual environment in .venv
# with printkiosk installed in editable mode, pinned by constraints.txt; and the 3D printer
# servers the tests and the demo run (OctoPrint, Moonraker), each in its own virtual
# environment under .peers/ so that their pins never clash with ours.
set -euo pipefail
cd "$(dirname "$0")/.."

apt_packages() { grep -v '^\s*#' scripts/apt-packages.txt | grep -v '^\s*$' | xargs; }

missing=()
for pkg in $(apt_packages); do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if [ ${#missing[@]} -gt 0 ]; then
    if [ "$(id -u)" -ne 0 ]; then
        echo "setup: these Debian packages are missing and installing them needs root: ${missing[*]}" >&2
        exit 1
    fi
    echo "setup: installing Debian packages: ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -q
    apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

PYTHON=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
    "$PYTHON" -m venv .venv
fi
.venv/bin/python -m pip install -q --upgrade "pip>=24" setuptools wheel
stamp=.venv/.printkiosk-installed
if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ] || [ constraints.txt -nt "$stamp" ]; then
    .venv/bin/python -m pip install -q -c constraints.txt -e ".[dev]"
    touch "$stamp"
fi

# peer_venv NAME REQUIREMENT...: .peers/NAME with exactly these pins; the stamp holds the
# requirement line, so changing a pin here reinstalls and rerunning does nothing.
peer_venv() {
    local name=$1; shift
    local dir=.peers/$name want="$*"
    if [ -f "$dir/.stamp" ] && [ "$(cat "$dir/.stamp")" = "$want" ] && [ -x "$dir/bin/python" ]; then
        return
    fi
    echo "setup: installing $want in $dir"
    rm -rf "$dir"
    "$PYTHON" -m venv "$dir"
    "$dir/bin/python" -m pip install -q --upgrade "pip>=24" setuptools wheel
    "$dir/bin/python" -m pip install -q "$@"
    echo "$want" > "$dir/.stamp"
}
# PRINTKIOSK_PEERS=0 skips them (a production kiosk talks to a real printer's server)
# peer_npm NAME VERSION INTEGRITY: .peers/NAME unpacked from the npm registry's tarball,
# checked against its pinned sha512 (test-only browser libraries: no Node.js needed).
peer_npm() {
    local dir=.peers/$1 want="$1@$2 $3"
    if [ -f "$dir/.stamp" ] && [ "$(cat "$dir/.stamp")" = "$want" ]; then
        return
    fi
    echo "setup: fetching $1@$2 into $dir"
    .venv/bin/python scripts/fetch_npm.py "$1" "$2" "$3" "$dir"
}
if [ "${PRINTKIOSK_PEERS:-1}" != 0 ]; then
    peer_venv octoprint "octoprint==1.11.8"
    peer_venv moonraker "moonraker==0.11.0"
    # the accessibility checks of the browser tests (WCAG 2.1 AA rules)
    peer_npm axe-core 4.10.3 \
        "sha512-Xm7bpRXnDSX2YE2YFfBk2FnF0ep6tmG7xPh8iHee8MIcrgq762Nkce856dYtJYLkuIoYZvGfTs/PbZhideTcEg=="
fi
echo "setup: ready (.venv/bin/printkiosk, .peers/octoprint, .peers/moonraker, .peers/axe-core)"
