"""``printkiosk quote`` run as a real subprocess, as an administrator would run it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.billing.support import REPO, SEED_FILE


def quote(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "printkiosk", "quote", *args],
        cwd=REPO, capture_output=True, text=True, timeout=60, check=False,
    )


def test_seed_example_prints_subtotals_and_total() -> None:
    done = quote("--price-list", str(SEED_FILE), "--mono", "13207", "--colour", "11216")
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert "Mono pages: 75028.00" in lines
    assert "Colour pages: 86723.20" in lines
    assert "Total: 161751.20 EUR" in lines
    assert "  3207 mono A4 pages (tier 10001-13207) x 4 = 12828.00" in lines


def test_duplex_and_size_options_change_the_price() -> None:
    campus = str(REPO / "config" / "pricelists" / "device-model-c5535.toml")
    simplex = quote("--price-list", campus, "--mono", "10", "--size", "A3")
    duplex = quote("--price-list", campus, "--mono", "10", "--size", "A3", "--duplex")
    assert "Total: 1.20 EUR" in simplex.stdout.splitlines()
    assert "Total: 0.90 EUR" in duplex.stdout.splitlines()


def test_bad_file_gives_message_and_exit_2(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text('[price_list]\nname = "x"\ncurrency = "EUR"\n[print]\nmono = { A4 = 0.05 }\n')
    done = quote("--price-list", str(bad), "--mono", "1")
    assert done.returncode == 2
    assert f"{bad}: print.mono.A4: 0.05 must be a decimal amount" in done.stderr
    assert done.stdout == ""


def test_missing_file_and_unpriced_size_exit_2(tmp_path: Path) -> None:
    missing = quote("--price-list", str(tmp_path / "none.toml"), "--mono", "1")
    assert missing.returncode == 2 and "cannot read price list" in missing.stderr
    unpriced = quote("--price-list", str(SEED_FILE), "--mono", "1", "--function", "scan")
    assert unpriced.returncode == 2 and "no prices for scan" in unpriced.stderr
