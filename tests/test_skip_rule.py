"""The CI skip rule (tests/skip_rule.py), run as CI runs it: pytest in a child process on
a tiny test folder, with and without ``CI=true``."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]

SKIPPING_TESTS = '''
import pytest

@pytest.fixture
def postgres():
    pytest.skip("PostgreSQL 15 server binaries are not installed")

def test_needs_postgres(postgres):
    pass

def test_needs_snmpsim():
    pytest.skip("snmpsim is not installed in this environment")

@pytest.mark.skipif(True, reason="shared corpus absent")
def test_needs_corpus():
    pass

def test_allowed():
    pytest.skip("pcscd socket is taken by the machine's own pcscd")

def test_allowed_name_but_other_reason():
    pytest.skip("pcscd is not installed")

@pytest.mark.xfail(reason="known bug")
def test_known_bug():
    assert False

def test_passes():
    pass
'''

RULE_CONFTEST = '''
from tests.skip_rule import AllowedSkip, register

def pytest_configure(config):
    register(config, [AllowedSkip("test_tiny.py::test_allowed*", "pcscd socket is taken",
                                  "one pcscd per machine")])
'''


def run_pytest(folder: Path, ci: str | None, *extra: str) -> subprocess.CompletedProcess[str]:
    env = {key: value for key, value in os.environ.items() if key != "CI"}
    env["PYTHONPATH"] = str(REPO)
    if ci is not None:
        env["CI"] = ci
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-rA", "-p", "no:cacheprovider", *extra,
         "test_tiny.py"],
        cwd=folder, env=env, capture_output=True, text=True, timeout=120)


@pytest.fixture
def tiny(tmp_path: Path) -> Path:
    (tmp_path / "test_tiny.py").write_text(textwrap.dedent(SKIPPING_TESTS))
    (tmp_path / "conftest.py").write_text(textwrap.dedent(RULE_CONFTEST))
    return tmp_path


def outcomes(output: str) -> dict[str, str]:
    """test name -> PASSED / FAILED / ERROR / XFAIL from pytest's -rA summary."""
    found = {}
    for line in output.splitlines():
        words = line.split()
        if len(words) >= 2 and words[0] in {"PASSED", "FAILED", "ERROR", "XFAIL"}:
            found[words[1].split("::")[-1]] = words[0]
    return found


def test_outside_ci_skips_stay_skips(tiny: Path) -> None:
    done = run_pytest(tiny, None)
    assert done.returncode == 0, done.stdout
    assert "1 passed, 5 skipped, 1 xfailed" in done.stdout


def test_in_ci_every_unlisted_skip_fails_and_names_its_reason(tiny: Path) -> None:
    done = run_pytest(tiny, "true")
    assert done.returncode == 1, done.stdout
    result = outcomes(done.stdout)
    assert result["test_needs_postgres"] == "ERROR"  # skipped in its fixture (setup)
    assert result["test_needs_snmpsim"] == "FAILED"  # skipped in the test (call)
    assert result["test_needs_corpus"] == "ERROR"  # skipif is evaluated at setup
    assert result["test_allowed_name_but_other_reason"] == "FAILED"
    assert "test_allowed" not in result  # -rA names no test on a SKIPPED line
    assert any(line.startswith("SKIPPED") and "pcscd socket is taken" in line
               for line in done.stdout.splitlines())
    assert result["test_passes"] == "PASSED"
    assert result["test_known_bug"] == "XFAIL"
    assert "skipped in CI (CI=true): test_tiny.py::test_needs_snmpsim: snmpsim is not " \
           "installed in this environment" in done.stdout
    assert "PostgreSQL 15 server binaries are not installed" in done.stdout
    assert "1 skipped" in done.stdout  # only the listed one


def test_in_ci_a_skip_at_collection_fails(tiny: Path) -> None:
    (tiny / "test_tiny.py").write_text('import pytest\npytest.importorskip("no_such_peer_lib")\n')
    done = run_pytest(tiny, "true")
    assert done.returncode != 0, done.stdout
    assert "skipped in CI (CI=true): test_tiny.py" in done.stdout
    assert "no_such_peer_lib" in done.stdout


def test_the_suite_conftest_installs_the_rule_in_ci(tmp_path: Path) -> None:
    """tests/conftest.py itself, loaded as a plugin, registers the rule with the real list."""
    (tmp_path / "test_tiny.py").write_text(
        'import pytest\n\ndef test_peer():\n    pytest.skip("snmpsim is not installed")\n')
    in_ci = run_pytest(tmp_path, "true", "-p", "tests.conftest")
    assert in_ci.returncode == 1, in_ci.stdout
    assert "skipped in CI (CI=true)" in in_ci.stdout
    local = run_pytest(tmp_path, None, "-p", "tests.conftest")
    assert local.returncode == 0, local.stdout
    assert "1 skipped" in local.stdout


def test_every_allowed_skip_says_why() -> None:
    from tests.allowed_skips import ALLOWED_SKIPS

    for entry in ALLOWED_SKIPS:
        assert entry.nodeid.startswith("tests/") and entry.reason_contains and entry.why
