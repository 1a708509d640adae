"""The SMTP transport: mails handed to the configured server with smtplib, on one session
per worker run (:class:`Connection`).

Every foreign error (socket, TLS, smtplib) is translated here into one of two exceptions,
so that the outbox worker decides on two words only:

- :class:`SmtpTemporary`: try again later. The server is down, refused or reset the
  connection, timed out, failed the TLS handshake (wrong CA, wrong name), answered 4xx
  (421 included), or refused our login (530/534/535). Authentication is an operator's
  problem, not the mail's: a wrong password would otherwise turn every mail into a
  permanent failure (and a flood of "delivery failed" mails that fail the same way); kept
  pending, the mails go out once the password is fixed, and ``last_error`` says why
  they wait until then (they are given up after the worker's maximum age).
- :class:`SmtpPermanent`: this mail will never be accepted: a 5xx for the sender, a
  recipient (550 no such user) or the content.

Each carries a one-line ``reason`` naming the server and the code, for ``last_error``.
"""

from __future__ import annotations

import smtplib
import socket
import ssl
import stat
from email.message import EmailMessage
from pathlib import Path

from backend.config import SmtpSettings

# Refusals of our credentials: the operator's to fix, so the mail waits (see above).
AUTH_CODES = frozenset({530, 534, 535})


class SmtpError(Exception):
    """A mail the server did not take; ``reason`` is one line for ``last_error``."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class SmtpTemporary(SmtpError):
    """Try again later: the message may well be accepted then."""


class SmtpDropped(SmtpTemporary):
    """The server closed the session (or it broke): on a reused session, a stale one."""


class SmtpPermanent(SmtpError):
    """Never accepted as it is: the outbox row is failed and the administrators told."""


def read_password(path: str) -> str:
    """The password from ``password_file``, refused when group or others may read it
    (like the backend's secret key file: the password lets anyone send as the site)."""
    file = Path(path)
    try:
        mode = stat.S_IMODE(file.stat().st_mode)
        if mode & 0o077:
            raise SmtpTemporary(
                f"notifications.smtp.password_file: {file}: mode 0o{mode:03o} lets others "
                f"read it; expected 0600 (chmod 600 {file})")
        return file.read_text(encoding="utf-8").strip()
    except OSError as exc:
        raise SmtpTemporary(f"notifications.smtp.password_file: {file}: cannot be read: "
                            f"{exc.strerror}") from exc


def tls_context(settings: SmtpSettings) -> ssl.SSLContext:
    """Verifying the server's certificate and name, with ``ca_file`` or the system's CAs."""
    try:
        return ssl.create_default_context(cafile=settings.ca_file)
    except (OSError, ssl.SSLError) as exc:
        raise SmtpTemporary(f"notifications.smtp.ca_file: {settings.ca_file}: cannot be "
                            f"used: {exc}") from exc


class Connection:
    """One SMTP session reused for the mails of one worker run: a connection, TLS
    handshake and login per mail cost more than the mail itself (bench/bench_notify.py).

    Opened at the first mail; closed after any error, so that the next mail starts on a
    fresh session (a 4xx for too many mails on one connection, a server that hung up).
    A reused session the server dropped while idle is reopened once at once for the
    same mail: that failure says nothing about the mail.
    """

    def __init__(self, settings: SmtpSettings) -> None:
        self._settings = settings
        self._client: smtplib.SMTP | None = None

    def __enter__(self) -> Connection:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def close(self) -> None:
        client, self._client = self._client, None
        if client is not None:
            try:
                client.quit()
            except (smtplib.SMTPException, OSError):
                client.close()

    def send(self, message: EmailMessage) -> None:
        """Hand ``message`` to the server; returns once it answered 250 to the data."""
        reused = self._client is not None
        try:
            self._send(message)
        except SmtpDropped:
            if not reused:
                raise
            self._send(message)  # the idle session had gone: once more, fresh

    def _send(self, message: EmailMessage) -> None:
        try:
            self._send_raw(message)
        except BaseException:
            self.close()
            raise

    def _send_raw(self, message: EmailMessage) -> None:
        settings = self._settings
        server = f"{settings.host}:{settings.port}"
        try:
            if self._client is None:
                self._client = connect(settings)
            self._client.send_message(message)
        except smtplib.SMTPRecipientsRefused as exc:
            code, text = next(iter(exc.recipients.values()))
            raise _by_code(server, code, text, "refused the recipient") from exc
        except smtplib.SMTPSenderRefused as exc:
            raise _by_code(server, exc.smtp_code, exc.smtp_error, "refused the sender") from exc
        except smtplib.SMTPAuthenticationError as exc:
            raise _by_code(server, exc.smtp_code, exc.smtp_error, "refused the login") from exc
        except smtplib.SMTPResponseException as exc:
            raise _by_code(server, exc.smtp_code, exc.smtp_error, "refused the mail") from exc
        except (smtplib.SMTPException, OSError) as exc:
            raise _transport(server, exc) from exc


def connect(settings: SmtpSettings) -> smtplib.SMTP:
    """An open session, after EHLO, (STARTTLS,) and login: for ``send`` and for doctor's
    reachability check (which only says EHLO). Raises smtplib/OSError: callers translate."""
    assert settings.host is not None
    context = tls_context(settings) if settings.security != "none" else None
    password = read_password(settings.password_file) if settings.password_file else None
    client: smtplib.SMTP
    if settings.security == "tls":
        client = smtplib.SMTP_SSL(settings.host, settings.port, timeout=settings.timeout_s,
                                  context=context)
    else:
        client = smtplib.SMTP(settings.host, settings.port, timeout=settings.timeout_s)
    try:
        client.ehlo()
        if settings.security == "starttls":
            client.starttls(context=context)
            client.ehlo()
        if settings.username:
            client.login(settings.username, password or "")
    except BaseException:
        client.close()
        raise
    return client


def check(settings: SmtpSettings) -> str:
    """EHLO only (no mail): what the server said, or raise SmtpTemporary/SmtpPermanent."""
    server = f"{settings.host}:{settings.port}"
    try:
        with connect(settings):
            return f"{server} answered EHLO ({settings.security})"
    except smtplib.SMTPResponseException as exc:
        raise _by_code(server, exc.smtp_code, exc.smtp_error, "refused us") from exc
    except (smtplib.SMTPException, OSError) as exc:
        raise _transport(server, exc) from exc


def _by_code(server: str, code: int, text: bytes | str, what: str) -> SmtpError:
    words = text.decode("utf-8", "replace") if isinstance(text, bytes) else str(text)
    reason = f"{server} {what}: {code} {' '.join(words.split())}"
    if code in AUTH_CODES:
        return SmtpTemporary(f"{reason} (check notifications.smtp.username and "
                             "password_file; the mails wait)")
    return SmtpPermanent(reason) if 500 <= code < 600 else SmtpTemporary(reason)


def _transport(server: str, exc: BaseException) -> SmtpError:
    if isinstance(exc, SmtpError):
        return exc
    if isinstance(exc, ssl.SSLCertVerificationError):
        detail = f"TLS certificate not trusted: {exc.verify_message}"
    elif isinstance(exc, ssl.SSLError):
        detail = f"TLS handshake failed: {exc.reason or exc}"
    elif isinstance(exc, (socket.timeout, TimeoutError)):
        detail = "timed out"
    elif isinstance(exc, ConnectionRefusedError):
        detail = "connection refused"
    elif isinstance(exc, (smtplib.SMTPServerDisconnected, ConnectionResetError,
                          BrokenPipeError)):
        return SmtpDropped(f"{server}: disconnected: {' '.join(str(exc).split())}")
    elif isinstance(exc, OSError) and exc.strerror:
        detail = exc.strerror
    else:
        detail = f"{type(exc).__name__}: {exc}"
    return SmtpTemporary(f"{server}: {' '.join(detail.split())}")
