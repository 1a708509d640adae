"""The outbox's delivery rate against the SMTP client it wraps, on SQLite and PostgreSQL.

    .venv/bin/python bench/bench_notify.py [--mails 300]

1. A real SMTP server: aiosmtpd on 127.0.0.1 with STARTTLS (the tests' server,
   tests/backend/notify/smtp_peer.py).
2. Ours, per database: ``--mails`` rows recorded in the outbox (``backend.notify.outbox``),
   then the worker run until the outbox is empty (``backend.notify.worker.deliver_due``,
   what the backend's scheduler runs): claim with a lease, render the templates, connect,
   STARTTLS, send, mark sent. Mails per second and ms per mail, and every Message-ID
   received once.
3. The peer, same run, same server: smtplib alone sending the same rendered message,
   (a) one connection with STARTTLS per mail, as our worker connects, and (b) every mail
   over one connection, the floor of any SMTP client. The difference between ours and
   (a) is the outbox's own cost (database, lease, rendering); between (a) and (b) the
   price of a connection per mail, which a worker keeping its connection would save.
"""

from __future__ import annotations

import argparse
import smtplib
import ssl
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "tests" / "backend"))
sys.path.insert(0, str(REPO / "tests" / "backend" / "notify"))

import pg_cluster  # noqa: E402  (the tests' PostgreSQL launcher, reused)
from smtp_peer import HOST, Mailbox  # noqa: E402  (the tests' SMTP server, reused)

from backend.app import prepare_database  # noqa: E402
from backend.config import BackendConfig  # noqa: E402
from backend.db import Database  # noqa: E402
from backend.notify import outbox, templates  # noqa: E402
from backend.notify.worker import deliver_due  # noqa: E402

CONTEXT = {"site": "Bench", "sent_at": "2026-12-02T09:30:00+00:00"}


@contextmanager
def databases(folder: Path) -> Iterator[list[tuple[str, str]]]:
    urls = [("SQLite", f"sqlite:///{folder / 'bench.sqlite3'}")]
    if not pg_cluster.available():
        print("PostgreSQL server binaries not found: SQLite only")
        yield urls
        return
    with pg_cluster.running_postgres(settings="") as server:
        server.admin("CREATE DATABASE bench_notify")
        yield [*urls, ("PostgreSQL", server.url("bench_notify"))]


def ours(box: Mailbox, url: str, mails: int) -> float:
    """Seconds for the worker to deliver ``mails`` recorded mails."""
    db = Database.from_url(url)
    prepare_database(db, "EUR")
    config = BackendConfig.model_validate({"database": {"url": url},
                                           "notifications": box.settings()})
    with db.write() as session:
        for number in range(mails):
            outbox.record(session, kind="test_message", to_address=f"user{number}@kiosk.test",
                          language="fr" if number % 2 else "en", context=CONTEXT)
    box.clear()
    began = time.perf_counter()
    sent = 0
    while sent < mails:
        done = deliver_due(db, config)
        if done == 0:
            raise RuntimeError(f"the worker stopped at {sent} of {mails} mails")
        sent += done
    took = time.perf_counter() - began
    ids = [str(message["Message-ID"]) for message in box.messages]
    if len(ids) != mails or len(set(ids)) != mails:
        raise RuntimeError(f"{len(ids)} mails received, {len(set(ids))} distinct, for {mails}")
    db.dispose()
    return took


def peer(box: Mailbox, mails: int, one_connection: bool) -> float:
    """Seconds for smtplib alone to send ``mails`` copies of one rendered mail."""
    rendered = templates.render(templates.environment(), "test_message", "en", CONTEXT)
    context = ssl.create_default_context(cafile=str(box.cert))
    box.clear()

    def message(number: int) -> bytes:
        return (f"From: print@kiosk.test\r\nTo: user{number}@kiosk.test\r\n"
                f"Subject: {rendered.subject}\r\n\r\n{rendered.text}").encode()

    began = time.perf_counter()
    if one_connection:
        with smtplib.SMTP(HOST, box.port, timeout=10) as client:
            client.starttls(context=context)
            for number in range(mails):
                client.sendmail("print@kiosk.test", [f"user{number}@kiosk.test"],
                                message(number))
    else:
        for number in range(mails):
            with smtplib.SMTP(HOST, box.port, timeout=10) as client:
                client.starttls(context=context)
                client.sendmail("print@kiosk.test", [f"user{number}@kiosk.test"],
                                message(number))
    took = time.perf_counter() - began
    if len(box.messages) != mails:
        raise RuntimeError(f"{len(box.messages)} mails received for {mails}")
    return took


def line(name: str, mails: int, seconds: float) -> str:
    return f"  {name:<52} {mails / seconds:8.1f} mails/s {seconds * 1000 / mails:8.2f} ms/mail"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--mails", type=int, default=300)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        box = Mailbox(Path(folder))
        box.start()
        try:
            print(f"{args.mails} mails to aiosmtpd on {HOST}:{box.port} (STARTTLS)")
            with databases(Path(folder)) as urls:
                for name, url in urls:
                    print(line(f"ours: outbox worker on {name}", args.mails,
                               ours(box, url, args.mails)))
            print(line("peer: smtplib, a STARTTLS connection per mail", args.mails,
                       peer(box, args.mails, one_connection=False)))
            print(line("peer: smtplib, every mail on one connection", args.mails,
                       peer(box, args.mails, one_connection=True)))
        finally:
            box.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
