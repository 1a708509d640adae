"""In CI, a skipped test is an error unless it is allowed by name and reason.

A test that skips because its peer (PostgreSQL, snmpsim, CUPS, the shared corpus) is
missing proves nothing, and a green CI run with those tests skipped is a lie. So when
``CI=true`` every skip -- at collection, in a fixture or in the test -- is reported as a
failure naming the test and the reason, except those listed in
:mod:`tests.allowed_skips`, each with why it may skip. Outside CI a developer machine
without a peer still skips, as before. ``xfail`` is not a skip and is left alone.
"""

from __future__ import annotations

import fnmatch
import os
from collections.abc import Generator, Sequence
from dataclasses import dataclass
from typing import Any

import pytest

CI_VALUES = frozenset({"true", "1", "yes"})


@dataclass(frozen=True)
class AllowedSkip:
    """A skip CI accepts: tests matching ``nodeid`` (fnmatch pattern) skipped with a reason
    containing ``reason_contains``; ``why`` says why that skip is not a hidden failure."""

    nodeid: str
    reason_contains: str
    why: str

    def allows(self, nodeid: str, reason: str) -> bool:
        return fnmatch.fnmatchcase(nodeid, self.nodeid) and self.reason_contains in reason


def in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() in CI_VALUES


def skip_reason(report: pytest.CollectReport | pytest.TestReport) -> str:
    """The text given to ``pytest.skip`` / ``skipif`` (longrepr is (path, line, message))."""
    longrepr = report.longrepr
    if isinstance(longrepr, tuple) and len(longrepr) == 3:
        return str(longrepr[2]).removeprefix("Skipped: ")
    return str(longrepr)


class CiSkipRule:
    """The pytest plugin: turns every skip not in ``allowed`` into a failure."""

    def __init__(self, allowed: Sequence[AllowedSkip]) -> None:
        self.allowed = tuple(allowed)

    def _fail_unless_allowed(self, report: pytest.CollectReport | pytest.TestReport) -> None:
        if not report.skipped or hasattr(report, "wasxfail"):
            return
        reason = skip_reason(report)
        if any(entry.allows(report.nodeid, reason) for entry in self.allowed):
            return
        report.outcome = "failed"
        report.longrepr = (
            f"skipped in CI (CI=true): {report.nodeid}: {reason}\n"
            "A skipped peer test proves nothing: install or start the peer in .ci/run, "
            "or list the test in tests/allowed_skips.py with the reason it may skip."
        )

    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_makereport(self, item: pytest.Item, call: Any) -> Generator[None, Any, None]:
        outcome = yield
        self._fail_unless_allowed(outcome.get_result())

    @pytest.hookimpl(hookwrapper=True)
    def pytest_make_collect_report(self, collector: pytest.Collector) -> Generator[None, Any, None]:
        outcome = yield
        self._fail_unless_allowed(outcome.get_result())


def register(config: pytest.Config, allowed: Sequence[AllowedSkip]) -> None:
    """Install the rule when running in CI (``CI=true``); do nothing elsewhere."""
    if in_ci():
        config.pluginmanager.register(CiSkipRule(allowed), "ci-skip-rule")
