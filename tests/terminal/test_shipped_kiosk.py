"""The shipped config/kiosk-mfp.toml against the real peers: a backend process of its
own (stopped or frozen with SIGSTOP at will) and, for the job list, cupsd +
ippeveprinter. Only the site's addresses are replaced (backend URL, CUPS port and queue,
state directory) and the card reader is the simulated one; everything else, timeouts
and retries included, is the file as shipped.
"""

from __future__ import annotations

import subprocess
import sys
import time
import tomllib
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from backend_process import BackendProcess

from backend.demo import DEMO_TERMINAL_TOKEN
from terminal.config import KioskConfig, parse_kiosk_config
from terminal.offline import OFFLINE_USER_UNKNOWN
from terminal.ports import PriceUnavailable
from terminal.session import SessionState
from terminal.wiring import Terminal, build_terminal

REPO = Path(__file__).resolve().parents[2]
SHIPPED = REPO / "config" / "kiosk-mfp.toml"
CAMPUS = REPO / "config" / "pricelists" / "campus-default.toml"
sys.path.insert(0, str(REPO / "tests" / "drivers" / "cups"))
from cups_peers import PeerStack, running_queue  # noqa: E402

QUEUE = "shipped-mfp"


def shipped(tmp_path: Path, backend_url: str, local_list: Path | None = None,
            **printer: Any) -> KioskConfig:
    data = tomllib.loads(SHIPPED.read_text(encoding="utf-8"))
    assert "pricing" not in data  # as shipped: the backend prices, no local list
    if local_list is not None:
        data["pricing"] = {"price_list": str(local_list)}
    data["backend"]["url"] = backend_url
    data["card_reader"] = {"type": "simulated"}
    data["offline"]["state_dir"] = str(tmp_path / "state")
    data["printer"].update(printer)
    data["printer"].pop("hold_queue")  # the sandbox has the one queue
    return parse_kiosk_config(data, SHIPPED.name)


def identify(terminal: Terminal, card: str) -> float:
    """Badge ``card``; seconds until the session has its answer."""
    started = time.monotonic()
    terminal.session.present_card(card)
    while terminal.session.view.state is SessionState.IDENTIFYING:
        assert time.monotonic() - started < 60, "identification never ended"
        time.sleep(0.01)
    return time.monotonic() - started


def test_an_unknown_card_is_answered_offline_within_the_read_timeout(
    backend_process: BackendProcess, tmp_path: Path
) -> None:
    """The backend hangs (SIGSTOP: connections accepted, never answered) just after it
    answered: the shipped kiosk (read_timeout_s = 5, two retries) says offline within
    those 5 s, for a stranger and for a remembered card alike."""
    config = shipped(tmp_path, backend_process.url, cups_port=9)
    assert config.backend.read_timeout_s == 5.0 and config.backend.retries == 2
    terminal = build_terminal(config, DEMO_TERMINAL_TOKEN)
    try:
        identify(terminal, "1001")  # online: alice is remembered, the backend reachable
        assert terminal.session.view.state is SessionState.IDENTIFIED
        terminal.session.logout()
        backend_process.freeze()
        try:
            for card, error in (("1002", OFFLINE_USER_UNKNOWN), ("1001", None)):
                waited = identify(terminal, card)
                view = terminal.session.view
                assert view.offline and view.error == error
                assert waited < 5.0 + 0.5, f"card {card}: offline answer after {waited:.1f} s"
                terminal.session.logout()
        finally:
            backend_process.thaw()
    finally:
        terminal.close()


@pytest.fixture(scope="module")
def cups() -> Iterator[PeerStack]:
    with running_queue(QUEUE, "shipped-kiosk-") as stack:
        yield stack


def report_pdf(folder: Path) -> Path:
    """Four A4 pages, the first and the last in colour, written by Ghostscript."""
    path = folder / "report.pdf"
    draw = ("<< /PageSize [595 842] >> setpagedevice /page { setrgbcolor 10 setlinewidth"
            " 100 100 moveto 400 600 lineto stroke showpage } def"
            " 1 0 0 page 0 0 0 page 0 0 0 page 0 0 1 page")
    subprocess.run(["gs", "-q", "-sDEVICE=pdfwrite", "-o", str(path), "-c", draw], check=True,
                   timeout=60)
    return path


def submit_held(stack: PeerStack, user: str, document: Path) -> int:
    out = stack.run("lp", "-U", user, "-d", QUEUE, "-H", "hold", "-t", document.name,
                    "-o", "print-color-mode=color", str(document))
    return int(out.split(f"{QUEUE}-")[1].split()[0])


@pytest.mark.peer
def test_the_shipped_kiosk_lists_jobs_priced_by_the_backend_and_offline_as_last_seen(
    cups: PeerStack, backend_process: BackendProcess, tmp_path: Path
) -> None:
    """carol (staff: colour 0.15, mono 0.03) badges and sees her 4-page job at 0.36,
    the backend's price for her; the backend goes away and she is still priced 0.36
    (her list as last seen), not a site list's. bob, never seen here, cannot be priced
    offline on a kiosk without a local list: the job list says so with a stable code."""
    config = shipped(tmp_path, backend_process.url, cups_port=cups.cups_port, queue=QUEUE,
                     cups_spool_dir=str(cups.spool))
    terminal = build_terminal(config, DEMO_TERMINAL_TOKEN)
    document = report_pdf(tmp_path)
    carol_job, bob_job = submit_held(cups, "carol", document), submit_held(cups, "bob", document)
    try:
        assert terminal.jobs is not None
        identify(terminal, "1003")
        online = terminal.jobs.list_jobs("carol")
        assert (online.find(carol_job).amount, online.notice) == (Decimal("0.36"), None)
        terminal.session.logout()
        backend_process.stop()
        identify(terminal, "1003")
        assert terminal.session.view.offline
        offline = terminal.jobs.list_jobs("carol")
        assert (offline.find(carol_job).amount, offline.notice) == (Decimal("0.36"), None)
        with pytest.raises(PriceUnavailable) as refused:
            terminal.jobs.list_jobs("bob")
        assert refused.value.code == "pricing_unavailable"
    finally:
        terminal.close()
    # the same kiosk with a local list: bob is priced by it, and the list says why
    with_list = shipped(tmp_path, backend_process.url, CAMPUS, cups_port=cups.cups_port,
                        queue=QUEUE, cups_spool_dir=str(cups.spool))
    terminal = build_terminal(with_list, DEMO_TERMINAL_TOKEN)
    try:
        assert terminal.jobs is not None
        listed = terminal.jobs.list_jobs("bob")
        assert listed.find(bob_job).amount == Decimal("0.60")  # campus, worst case
        assert listed.notice == "offline_prices_from_site_list"
        assert terminal.jobs.list_jobs("carol").find(carol_job).amount == Decimal("0.36")
    finally:
        terminal.close()
        cups.run("cancel", "-a", QUEUE)
