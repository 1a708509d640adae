#!/usr/bin/env bash
# Set up everything printkiosk needs on a Debian 12 machine (as root), idempotently:
# the Debian packages of scripts/apt-packages.txt and a virtual environment in .venv
# with printkiosk installed in editable mode, pinned by constraints.txt.
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
echo "setup: ready (.venv/bin/printkiosk)"
