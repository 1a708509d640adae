"""``printkiosk cards`` run as a real subprocess, as an operator or technician runs it.

``derive`` on the worked example of docs/card-readers.md; ``watch`` on a real simulated
reader whose FIFO the test writes to, ended by Ctrl-C (SIGINT) as a technician ends it.
"""

from __future__ import annotations

import os
import queue
import signal
import subprocess
import sys
import threading
import tomllib
from pathlib import Path

from drivers.cards import rule_from_config

REPO = Path(__file__).resolve().parents[2]
WAIT_S = 30  # a safety net against hanging, not a speed requirement

# One MIFARE Classic UID per row: PC/SC gives its bytes in hex as sent (what the old system
# stored); a keyboard-wedge reader types the bytes reversed, in decimal.
WORKED_EXAMPLE = [
    ("3283263748", "04A1B2C3"),  # 04 A1 B2 C3 -> 0xC3B2A104
    ("789386", "8A0B0C00"),  # 8A 0B 0C 00 -> 0x000C0B8A: reversed, the zero byte leads
    ("581570816", "0011AA22"),
    ("4", "04000000"),  # why bytes = 4: a lone "4" must still be a 4-byte UID
]


def cards(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "printkiosk", "cards", *args],
        cwd=REPO, capture_output=True, text=True, timeout=WAIT_S, check=False,
    )


def test_derive_finds_reversed_decimal_and_prints_a_table_that_pastes_back() -> None:
    done = cards("derive", *(f"{raw}={stored}" for raw, stored in WORKED_EXAMPLE))
    assert done.returncode == 0, done.stderr
    assert (
        "Rule: Read it as decimal, reverse the byte order over 4 bytes, "
        "write it as upper-case hexadecimal."
    ) in done.stdout.splitlines()
    table_text = done.stdout[done.stdout.index("[card_reader.normalise]"):]
    pasted = tomllib.loads(table_text)["card_reader"]["normalise"]
    assert pasted == {"input": "dec", "reverse_bytes": True, "bytes": 4}
    rule = rule_from_config(pasted, "card_reader.normalise")
    assert [rule.apply(raw) for raw, _ in WORKED_EXAMPLE] == [s for _, s in WORKED_EXAMPLE]


def test_derive_quotes_a_regular_expression_as_valid_toml() -> None:
    pairs = [(";0012345?", "12345"), (";0000042?", "42"), (";7654321?", "7654321")]
    done = cards("derive", *(f"{raw}={stored}" for raw, stored in pairs))
    assert done.returncode == 0, done.stderr
    table_text = done.stdout[done.stdout.index("[card_reader.normalise]"):]
    rule = rule_from_config(tomllib.loads(table_text)["card_reader"]["normalise"], "n")
    assert rule.extract is not None
    assert [rule.apply(raw) for raw, _ in pairs] == [stored for _, stored in pairs]


def test_derive_names_the_pairs_no_rule_fits() -> None:
    done = cards("derive", "04A1B2C3=04A1B2C3", "8A0B0C00=8A0B0C00", "0011AA22=123")
    assert done.returncode == 2
    assert done.stdout == ""
    assert "no rule maps all 3 examples" in done.stderr
    assert "'0011AA22' gives '0011AA22', not '123'" in done.stderr


def test_derive_refuses_too_few_or_malformed_pairs() -> None:
    too_few = cards("derive", "1=01", "2=02")
    assert too_few.returncode == 2 and "at least 3 are needed" in too_few.stderr
    malformed = cards("derive", "1=01", "2=02", "0303")
    assert malformed.returncode == 2 and "'0303' is not RAW=STORED" in malformed.stderr


def write_config(path: Path, body: str) -> Path:
    path.write_text(body, encoding="utf-8")
    return path


class Lines:
    """The command's output lines as they come, read by a thread so that a wait can end."""

    def __init__(self, process: subprocess.Popen[str]) -> None:
        self._lines: queue.Queue[str] = queue.Queue()
        self._stream = process.stdout
        threading.Thread(target=self._pump, daemon=True).start()

    def _pump(self) -> None:
        assert self._stream is not None
        for line in self._stream:
            self._lines.put(line)

    def next(self) -> str:
        return self._lines.get(timeout=WAIT_S)


def feed(fifo: Path, text: str) -> None:
    fd = os.open(fifo, os.O_WRONLY)
    try:
        os.write(fd, text.encode())
    finally:
        os.close(fd)


def test_watch_prints_normalised_cards_until_ctrl_c(tmp_path: Path) -> None:
    fifo = tmp_path / "card.fifo"
    config = write_config(tmp_path / "kiosk.toml", (
        f'[card_reader]\ntype = "simulated"\nfifo = "{fifo}"\ndebounce_s = 0\n'
        '[card_reader.normalise]\ninput = "dec"\nreverse_bytes = true\nbytes = 4\n'
    ))
    # Ctrl-C live in the child, as in a terminal: a process that ignores SIGINT hands the
    # ignoring on to its children, and Python then installs no KeyboardInterrupt handler.
    # pytest-xdist's workers came to ignore it during a full run (the test then failed
    # after 30 s in two full runs, never alone); a Python handler becomes the default
    # action across exec.
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        process = subprocess.Popen(
            [sys.executable, "-m", "printkiosk", "cards", "watch", "--config", str(config)],
            cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )
    finally:
        signal.signal(signal.SIGINT, previous)
    lines = Lines(process)
    try:
        assert "watching the simulated card reader" in lines.next()
        feed(fifo, "3283263748\n")
        assert lines.next().endswith(
            "card 04A1B2C3 (read as 3283263748) on reader 'simulated', type: unknown\n"
        )
        feed(fifo, "not-a-number\n")
        assert "card not understood by the normalise rule" in lines.next()
        process.send_signal(signal.SIGINT)
        assert lines.next().endswith("stopped\n")
        assert process.wait(timeout=WAIT_S) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert not fifo.exists()  # the reader was stopped, not abandoned


def test_watch_stops_after_the_given_seconds(tmp_path: Path) -> None:
    fifo = tmp_path / "card.fifo"
    config = write_config(tmp_path / "kiosk.toml", f'[card_reader]\nfifo = "{fifo}"\n')
    done = cards("watch", "--config", str(config), "--seconds", "0.5")
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[-1].endswith("stopped")


def test_watch_refuses_a_bad_card_reader_table(tmp_path: Path) -> None:
    config = write_config(tmp_path / "kiosk.toml", '[card_reader]\ntype = "pcsc"\ndevice = "x"\n')
    done = cards("watch", "--config", str(config))
    assert done.returncode == 2
    assert done.stdout == ""
    assert (
        f"{config}: card_reader.device: 'x' applies only to type = \"wedge\", not \"pcsc\""
        in done.stderr
    )
    unknown = write_config(tmp_path / "typo.toml", '[card_reader]\ntype = "pcsc"\ndebounce = 1\n')
    done = cards("watch", "--config", str(unknown))
    assert done.returncode == 2 and f"{unknown}: card_reader.debounce: 1 is not a known key" in (
        done.stderr
    )


def test_watch_refuses_a_file_without_a_reader_to_watch(tmp_path: Path) -> None:
    missing = cards("watch", "--config", str(tmp_path / "none.toml"))
    assert missing.returncode == 2 and "cannot read" in missing.stderr
    no_table = write_config(tmp_path / "kiosk.toml", '[printer]\nkind = "mfp"\n')
    done = cards("watch", "--config", str(no_table))
    assert done.returncode == 2 and "no [card_reader] table" in done.stderr
    no_path = write_config(tmp_path / "sim.toml", '[card_reader]\ntype = "simulated"\n')
    done = cards("watch", "--config", str(no_path))
    assert done.returncode == 2 and "without fifo or socket" in done.stderr
