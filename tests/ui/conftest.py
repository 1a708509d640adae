"""UI tests: the screenshot folder starts empty, so it shows this run's screens only."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.ui.harness import clean_screens


@pytest.fixture(scope="session", autouse=True)
def fresh_screens_folder() -> Iterator[None]:
    clean_screens()
    yield
