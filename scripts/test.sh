#!/usr/bin/env bash
# Set everything up (Debian packages, .venv) and run the whole test suite with the
# static checks: ruff, mypy (strict for billing/, analysis/ and terminal/), the import rule
# (import-linter contracts), then pytest with the Kivy UI tests in a real window under Xvfb.
# Extra arguments go to pytest (e.g. scripts/test.sh tests/billing -x).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh

export PRINTKIOSK_TEST_ARTIFACTS="${PRINTKIOSK_TEST_ARTIFACTS:-$PWD/test-artifacts}"
mkdir -p "$PRINTKIOSK_TEST_ARTIFACTS"

echo "== ruff"
.venv/bin/ruff check .
echo "== mypy"
.venv/bin/mypy billing analysis terminal drivers backend kiosk printkiosk
echo "== import rule"
.venv/bin/lint-imports
if [ -f ../shared/tools/import_rule.py ]; then
    .venv/bin/python ../shared/tools/import_rule.py .
fi
echo "== pytest"
# pytest exits 5 when it collected no test: that is a failure here too.
# Two workers (pytest-xdist): most tests wait on a peer process, so two run in the time of
# one. --dist loadfile keeps each module on one worker, so the tests of a fixed resource
# (pcscd's one socket per machine: tests/drivers/cards/test_cards_pcsc.py) never meet a
# second copy of it; xdist_group marks would be finer but xdist 3.8 cannot apply them
# under pytest 9 (it rewrites a node id pytest 9 no longer keeps). Each worker gets its own
# X display (tests/worker_display.py). PRINTKIOSK_TEST_WORKERS=0 runs in-process.
# --durations lists the 30 slowest tests at the end, to keep the suite within its time.
workers="${PRINTKIOSK_TEST_WORKERS:-2}"
exec xvfb-run -a -s "-screen 0 1280x800x24" .venv/bin/python -m pytest \
    -n "$workers" --dist loadfile --durations=30 "$@"
