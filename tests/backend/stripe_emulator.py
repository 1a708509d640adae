"""localstripe (a local Stripe emulator) for the stripe gateway's tests, and a capture
server that receives the same signed webhooks as the backend (to replay and tamper)."""

from __future__ import annotations

import queue
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

import httpx
from backend_fixtures import start_backend, stop_backend, write_config
from pg_cluster import free_port

WEBHOOK_SECRET = "whsec_printkiosk_test"
API_KEY = "sk_test_printkiosk"


@dataclass
class Localstripe:
    url: str
    hooks: queue.Queue[tuple[bytes, str]]  # (body, Stripe-Signature) of each webhook

    def send_webhooks_to(self, name: str, url: str) -> None:
        data = f"url={url}&secret={WEBHOOK_SECRET}".encode()
        urllib.request.urlopen(f"{self.url}/_config/webhooks/{name}", data,
                               timeout=10).close()

    def next_hook(self, event_type: str, timeout_s: float = 15) -> tuple[bytes, str]:
        """The next captured webhook of ``event_type`` (others are skipped)."""
        deadline = time.monotonic() + timeout_s
        while True:
            body, signature = self.hooks.get(timeout=max(deadline - time.monotonic(), 0.1))
            if f'"type": "{event_type}"' in body.decode() or \
                    f'"type":"{event_type}"' in body.decode():
                return body, signature


@contextmanager
def running_localstripe() -> Iterator[Localstripe]:
    port, hook_port = free_port(), free_port()
    hooks: queue.Queue[tuple[bytes, str]] = queue.Queue()

    class Hook(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            hooks.put((body, self.headers["Stripe-Signature"]))
            self.send_response(200)
            self.end_headers()

        def log_message(self, *_args: object) -> None:
            pass

    capture = HTTPServer(("127.0.0.1", hook_port), Hook)
    threading.Thread(target=capture.serve_forever, daemon=True).start()
    state = tempfile.mkdtemp(prefix="localstripe-")  # its pickle: fresh every session
    process = subprocess.Popen(
        [sys.executable, "-c", "from aiohttp import web; from localstripe.server import app;"
         f"web.run_app(app, host='127.0.0.1', port={port}, print=None)"],
        env={**__import__("os").environ, "TMPDIR": state},
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"localstripe exited: {process.stderr.read().decode()}"
                                   if process.stderr else "localstripe exited")
            try:
                httpx.get(f"{url}/v1/customers", timeout=1,
                          headers={"Authorization": f"Bearer {API_KEY}"})
                break
            except httpx.TransportError:
                if time.monotonic() > deadline:
                    raise RuntimeError("localstripe did not come up in 30 s") from None
                time.sleep(0.1)
        emulator = Localstripe(url, hooks)
        emulator.send_webhooks_to("capture", f"http://127.0.0.1:{hook_port}/")
        yield emulator
    finally:
        process.terminate()
        process.wait(timeout=10)
        if process.stderr is not None:
            process.stderr.close()
        capture.shutdown()


@contextmanager
def backend_paying_through(localstripe: Localstripe, database_url: str,
                           work_dir: Path) -> Iterator[str]:
    """A real backend process on ``database_url`` (migrated already), its gateway
    localstripe's and receiving its signed webhooks; yields the backend's URL."""
    (work_dir / "sk").write_text(API_KEY, encoding="ascii")
    (work_dir / "whsec").write_text(WEBHOOK_SECRET, encoding="ascii")
    port = free_port()
    config = write_config(work_dir / "backend.toml", database_url, port,
                          f'[payments]\ngateway = "stripe"\n'
                          f'public_base_url = "http://127.0.0.1:{port}"\n\n'
                          f'[payments.stripe]\nsecret_key_file = "{work_dir / "sk"}"\n'
                          f'webhook_secret_file = "{work_dir / "whsec"}"\n'
                          f'api_base = "{localstripe.url}"\n')
    process = start_backend(config)
    url = f"http://127.0.0.1:{port}"
    localstripe.send_webhooks_to("backend", f"{url}/api/v1/payments/webhooks/stripe")
    try:
        yield url
    finally:
        stop_backend(process)
