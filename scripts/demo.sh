#!/usr/bin/env bash
# Set everything up (Debian packages, .venv) and run the demo: the backend on SQLite with
# demo users, cards and balances on 127.0.0.1, and the kiosk window with a simulated card
# reader. Without a display (e.g. over SSH) the window opens on a virtual screen (Xvfb).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
if [ -n "${DISPLAY:-}" ] || [ -n "${WAYLAND_DISPLAY:-}" ]; then
    exec .venv/bin/printkiosk demo "$@"
fi
echo "demo: no display found; running the kiosk on a virtual screen (Xvfb)."
exec xvfb-run -a -s "-screen 0 1280x800x24" .venv/bin/printkiosk demo "$@"
