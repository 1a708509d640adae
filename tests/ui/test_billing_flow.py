"""Search as you type: only the answer to the latest key reaches the picker."""

from __future__ import annotations

import os
from collections.abc import Callable
from concurrent.futures import Executor, Future

os.environ.setdefault("KIVY_NO_ARGS", "1")
os.environ.setdefault("KIVY_NO_FILELOG", "1")

from kivy.clock import Clock

from kiosk.billing_flow import CodeSearch
from terminal.fakes import FakeBillingCodes
from terminal.ports import BackendUnavailable, BillingCode

ACME = BillingCode("ACME", "ACME Corp")
WEB = BillingCode("ACME-WEB", "Website redesign", "ACME", "ACME Corp")
GLOBEX = BillingCode("GLOBEX", "Globex")


class HeldExecutor(Executor):
    """Keeps the submitted work so the test decides in which order answers come back."""

    def __init__(self) -> None:
        self.work: list[Callable[[], object]] = []

    def submit(  # type: ignore[override]
        self, fn: Callable[..., object], /, *args: object, **kwargs: object
    ) -> Future[object]:
        self.work.append(lambda: fn(*args, **kwargs))
        return Future()


def test_a_slow_answer_to_an_older_key_never_overwrites_the_newer_one() -> None:
    shown: list[tuple[str, list[str]]] = []
    errors: list[str] = []
    executor = HeldExecutor()
    search = CodeSearch(FakeBillingCodes([ACME, WEB, GLOBEX], {"carol": [GLOBEX]}), executor,
                        lambda q, codes: shown.append((q, [c.code for c in codes])),
                        errors.append)
    search.look("carol", "")
    search.look("carol", "a")
    search.look("carol", "acme-")
    for work in reversed(executor.work):  # the newest answer first, the oldest last
        work()
    Clock.tick()
    assert shown == [("acme-", ["ACME-WEB"])] and errors == []
    search.look("carol", "")
    search.end()  # the picker closed before the answer came
    executor.work[-1]()
    Clock.tick()
    assert shown == [("acme-", ["ACME-WEB"])]


def test_recent_codes_for_an_empty_search_and_the_problem_code_when_unreachable() -> None:
    shown: list[tuple[str, list[str]]] = []
    errors: list[str] = []
    executor = HeldExecutor()
    directory = FakeBillingCodes([ACME, WEB], {"carol": [WEB]})
    search = CodeSearch(directory, executor,
                        lambda q, codes: shown.append((q, [c.code for c in codes])),
                        errors.append)
    search.look("carol", "")
    executor.work[-1]()
    Clock.tick()
    directory.failure = BackendUnavailable("down")
    search.look("carol", "a")
    executor.work[-1]()
    Clock.tick()
    assert shown == [("", ["ACME-WEB"])] and errors == ["backend_unavailable"]
    assert directory.calls == [("recent", "carol"), ("search", "a")]
