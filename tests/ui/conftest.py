"""UI tests: the screenshot folder starts empty, so it shows this run's screens only."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.ui.harness import clean_screens


@pytest.fixture(scope="session", autouse=True)
def fresh_screens_folder(request: pytest.FixtureRequest) -> Iterator[None]:
    # on pytest-xdist workers the controller cleaned it once (tests/conftest.py): a
    # worker cleaning at its first UI test would delete what the other one just wrote
    if not hasattr(request.config, "workerinput"):
        clean_screens()
    yield
