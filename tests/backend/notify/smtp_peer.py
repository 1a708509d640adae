"""The real SMTP server of the notification tests: aiosmtpd on 127.0.0.1 offering
STARTTLS with a self-signed certificate for 127.0.0.1, keeping every mail it accepted
(parsed with ``email.policy.default``); and ``deliver_all``, which runs the outbox worker
until nothing is left to send.

It accepts a login (after STARTTLS only) as ``kiosk`` / ``mail-password`` and refuses
any other with 535; a client that does not log in may still send. Recipients that make
the server refuse: ``nobody@...`` gets 550 (no such user, a
permanent failure), ``busy@...`` gets 451 (try later).
"""

from __future__ import annotations

import datetime as dt
import socket
import ssl
import threading
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from sqlalchemy import func, select

from backend.config import BackendConfig
from backend.db import Database
from backend.models import Notification, utcnow
from backend.notify.worker import deliver_due

HOST = "127.0.0.1"
LOGIN, PASSWORD = "kiosk", "mail-password"


def make_certificate(folder: Path, name: str) -> tuple[Path, Path]:
    """(cert.pem, key.pem): a self-signed certificate for 127.0.0.1."""
    import ipaddress

    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = dt.datetime.now(dt.UTC)
    cert = (x509.CertificateBuilder().subject_name(subject).issuer_name(subject)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(days=1))
            .not_valid_after(now + dt.timedelta(days=30))
            .add_extension(x509.SubjectAlternativeName(
                [x509.IPAddress(ipaddress.ip_address(HOST))]), critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    cert_path, key_path = folder / f"{name}.pem", folder / f"{name}.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                           serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_path, key_path


def _authenticate(server: SMTP, session: Session, envelope: Envelope, mechanism: str,
                  auth_data: object) -> AuthResult:
    good = (isinstance(auth_data, LoginPassword) and auth_data.login == LOGIN.encode()
            and auth_data.password == PASSWORD.encode())
    return AuthResult(success=good, handled=False)


class _Handler:
    def __init__(self, box: Mailbox) -> None:
        self._box = box

    async def handle_RCPT(self, server: SMTP, session: Session, envelope: Envelope,
                          address: str, rcpt_options: list[str]) -> str:
        if address.startswith("nobody@"):
            return "550 5.1.1 no such user here"
        if address.startswith("busy@"):
            return "451 4.3.0 mailbox busy, try later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session,
                          envelope: Envelope) -> str:
        content = envelope.content
        raw = content if isinstance(content, bytes) else str(content).encode()
        message = message_from_bytes(raw, policy=policy.default)
        with self._box.lock:
            self._box.messages.append(message)
            self._box.sessions.add(id(session))  # one Session object per connection
        return "250 OK"


@dataclass
class Mailbox:
    """The running server; ``messages`` are the mails it accepted, in order."""

    folder: Path
    port: int = 0
    cert: Path = Path()
    other_ca: Path = Path()  # a certificate that did not sign the server's: "wrong CA"
    messages: list[EmailMessage] = field(default_factory=list)
    # the SMTP sessions (connections) that delivered a mail since the last clear()
    sessions: set[int] = field(default_factory=set)
    lock: threading.Lock = field(default_factory=threading.Lock)
    _controller: Controller | None = None
    _tls: ssl.SSLContext | None = None

    def start(self) -> None:
        if self._tls is None:
            self.cert, key = make_certificate(self.folder, "smtp-server")
            self.other_ca, _ = make_certificate(self.folder, "other-ca")
            self._tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            self._tls.load_cert_chain(str(self.cert), str(key))
            self.port = free_port()
        self._controller = Controller(_Handler(self), hostname=HOST, port=self.port,
                                      tls_context=self._tls, ready_timeout=10,
                                      authenticator=_authenticate, auth_require_tls=True)
        self._controller.start()

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def clear(self) -> None:
        with self.lock:
            self.messages.clear()
            self.sessions.clear()

    def to(self, address: str) -> list[EmailMessage]:
        with self.lock:
            return [m for m in self.messages if m["To"] == address]

    def settings(self, **extra: Any) -> dict[str, Any]:
        """A ``[notifications]`` table sending to this server with STARTTLS; an
        ``smtp`` table in ``extra`` changes some of its keys."""
        smtp = {"host": HOST, "port": self.port, "security": "starttls",
                "ca_file": str(self.cert), "timeout_s": 5, **extra.pop("smtp", {})}
        return {"enabled": True, "from_address": "print@kiosk.test", "smtp": smtp, **extra}

    def config(self, db: Database, tables: dict[str, Any] | None = None,
               **extra: Any) -> BackendConfig:
        """A backend configuration over ``db`` with notifications to this server;
        ``extra``: more ``[notifications]`` keys; ``tables``: other sections."""
        return BackendConfig.model_validate({**(tables or {}),
                                             "database": {"url": str(db.engine.url)},
                                             "notifications": self.settings(**extra)})


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return int(probe.getsockname()[1])


def deliver_all(db: Database, config: BackendConfig, rounds: int = 50) -> int:
    """Run the worker until no mail is pending; a retry waiting for its backoff is run
    at its time (the clock is moved, not waited for). The number of mails sent."""
    sent = 0
    for _ in range(rounds):
        with db.read() as session:
            due = session.scalar(select(func.min(Notification.next_attempt_at)).where(
                Notification.status == "pending"))
        if due is None:
            return sent
        sent += deliver_due(db, config, now=max(due, utcnow()))
    raise AssertionError(f"the outbox still has pending mails after {rounds} rounds")
