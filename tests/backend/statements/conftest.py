"""The statement tests' real peers: localstripe (the Stripe emulator of the top-up
tests) and the notification tests' aiosmtpd server, one of each per session."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "notify"))
from smtp_peer import Mailbox
from stripe_emulator import Localstripe, running_localstripe


@pytest.fixture(scope="session")
def localstripe() -> Iterator[Localstripe]:
    with running_localstripe() as emulator:
        yield emulator


@pytest.fixture(scope="session")
def smtp_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Mailbox]:
    box = Mailbox(tmp_path_factory.mktemp("smtp"))
    box.start()
    yield box
    box.stop()


@pytest.fixture
def mailbox(smtp_server: Mailbox) -> Mailbox:
    smtp_server.clear()
    return smtp_server
