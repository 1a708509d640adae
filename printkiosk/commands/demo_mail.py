"""The demo's mailbox: aiosmtpd on 127.0.0.1 saving every mail the demo backend sends
into a Maildir under the demo's folder, so that a low-balance mail, a charge alert or a
device alert can be opened (any mail client reads a Maildir; each message is also one
plain file under ``new/``). Plain SMTP: the server listens on loopback only."""

from __future__ import annotations

import socket
from dataclasses import dataclass
from pathlib import Path

HOST = "127.0.0.1"
FROM_ADDRESS = "printkiosk-demo@example.org"


@dataclass
class DemoMailbox:
    """A running server; ``folder`` is the Maildir (``new/`` holds the received mails)."""

    folder: Path
    port: int
    _controller: object

    def notifications_toml(self) -> str:
        """The demo backend's ``[notifications]``: on, sending here, checked every 2 s;
        every demo user gets charge alerts (a site would leave them opt-in), grouped over
        2 minutes so that a demo shows the grouping without a long wait."""
        return ("[notifications]\n"
                "enabled = true\n"
                f'from_address = "{FROM_ADDRESS}"\n'
                "check_interval_s = 2\n\n"
                "[notifications.smtp]\n"
                f'host = "{HOST}"\n'
                f"port = {self.port}\n"
                'security = "none"\n\n'
                "[notifications.transactions]\n"
                "default = true\n"
                "group_minutes = 2\n")

    def close(self) -> None:
        self._controller.stop()  # type: ignore[attr-defined]


def start_demo_mailbox(folder: Path) -> DemoMailbox:
    """Start the server on a free loopback port, saving into the Maildir ``folder``."""
    from aiosmtpd.controller import Controller
    from aiosmtpd.handlers import Mailbox

    folder.parent.mkdir(parents=True, exist_ok=True)
    with socket.socket() as probe:  # aiosmtpd cannot be given port 0
        probe.bind((HOST, 0))
        port = int(probe.getsockname()[1])
    controller = Controller(Mailbox(folder), hostname=HOST, port=port)
    controller.start()
    return DemoMailbox(folder, port, controller)


def mails_line(mailbox: DemoMailbox) -> str:
    return f"demo: mails are saved in {mailbox.folder / 'new'} (a Maildir)"
