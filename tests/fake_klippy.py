"""A fake Klippy for a real Moonraker: the Unix-socket API Moonraker speaks to Klipper
(JSON messages ended by 0x03), with a print that advances through the file.

Run: ``python tests/fake_klippy.py SOCKET GCODES_DIR [--rate BYTES_PER_S]``.

What Moonraker needs from Klippy to report and record a job: ``info`` (state ready),
``list_endpoints``, ``objects/list``, ``objects/query`` and ``objects/subscribe`` (whose
``response_template`` is how Klippy PUSHES later changes: Moonraker's job state and job
history only see a print through those pushes), ``gcode/script`` and the
``pause_resume/*`` endpoints behind /printer/print/{pause,resume,cancel}.

A print (``SDCARD_PRINT_FILE FILENAME=...``) reads the file from the gcodes folder and
moves ``virtual_sdcard.file_position`` forward at ``rate`` bytes per second, whole lines
at a time, summing the extrusion like Klipper's ``print_stats.filament_used`` (the net E
travelled: M82/M83, G90/G91, G92 E resets, retractions count negative). It ends in
``complete``; ``CANCEL_PRINT`` ends it in ``cancelled`` where it stands; ``PAUSE`` /
``RESUME`` stop and restart the clock of ``print_duration``. ``SDCARD_PRINT_FILE`` while
a print runs is refused as Klipper does (``SD busy``). ``SET_FAKE_RATE RATE=n`` changes
the speed for the next ticks (tests use it to keep a print running while they cancel).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import shlex
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

TICK_S = 0.1
ENDPOINTS = [
    "info", "list_endpoints", "objects/list", "objects/query", "objects/subscribe",
    "gcode/script", "gcode/subscribe_output", "register_remote_method",
    "pause_resume/pause", "pause_resume/resume", "pause_resume/cancel", "emergency_stop",
]
WORD = re.compile(r"([A-Z])\s*(-?\d*\.?\d+)")


class KlippyError(Exception):
    """An error answered to Moonraker (it becomes its HTTP 400 with this message)."""


@dataclass
class Extrusion:
    """Klipper's view of E: position, mode and the net filament moved."""

    absolute: bool = True
    position: float = 0.0
    used: float = 0.0

    def feed(self, line: str) -> None:
        code = line.split(";", 1)[0].strip().upper()
        if not code:
            return
        command = code.split()[0]
        if command in ("M82", "G90"):
            self.absolute = True
        elif command in ("M83", "G91"):
            self.absolute = False
        elif command == "G92":
            for letter, value in WORD.findall(code[3:]):
                if letter == "E":
                    self.position = float(value)
        elif command in ("G0", "G1", "G2", "G3"):
            for letter, value in WORD.findall(code[2:]):
                if letter == "E":
                    target = float(value) if self.absolute else self.position + float(value)
                    self.used += target - self.position
                    self.position = target


@dataclass
class Printer:
    """The printer objects Klippy reports, and the print in progress."""

    gcodes: Path
    rate: float
    status: dict[str, dict[str, Any]] = field(default_factory=dict)
    job: Path | None = None
    generation: int = 0  # one more at every start: the file is reopened from its start
    started: float = 0.0
    paused_for: float = 0.0
    paused_at: float | None = None
    extrusion: Extrusion = field(default_factory=Extrusion)

    def __post_init__(self) -> None:
        self.status = {
            "webhooks": {"state": "ready", "state_message": "Printer is ready"},
            "print_stats": self._idle_stats("standby"),
            "virtual_sdcard": {"file_path": None, "progress": 0.0, "is_active": False,
                               "file_position": 0, "file_size": 0},
            "pause_resume": {"is_paused": False},
            "display_status": {"progress": 0.0, "message": None},
            "idle_timeout": {"state": "Idle", "printing_time": 0.0},
            "extruder": {"temperature": 215.0, "target": 215.0, "power": 0.4},
            "heater_bed": {"temperature": 60.0, "target": 60.0, "power": 0.2},
            # the sensors Moonraker's data store subscribes to; that later subscription
            # also matters: without it Moonraker's job state keeps comparing print_stats
            # with its own cache (an aliased dict) and never sees a print start
            "heaters": {"available_heaters": ["extruder", "heater_bed"],
                        "available_sensors": ["extruder", "heater_bed"],
                        "available_monitors": []},
            "toolhead": {"homed_axes": "xyz", "print_time": 0.0},
            "configfile": {"config": {"virtual_sdcard": {"path": str(self.gcodes)}},
                           "settings": {"virtual_sdcard": {"path": str(self.gcodes)}}},
        }

    @staticmethod
    def _idle_stats(state: str) -> dict[str, Any]:
        return {"state": state, "filename": "", "print_duration": 0.0, "total_duration": 0.0,
                "filament_used": 0.0, "message": "", "info": {"total_layer": None,
                                                              "current_layer": None}}

    # --- G-code commands -------------------------------------------------------------
    def run_script(self, script: str) -> None:
        for line in script.splitlines():
            words = line.strip().split(None, 1)
            if not words:
                continue
            command, args = words[0].upper(), _params(words[1] if len(words) > 1 else "")
            if command == "SDCARD_PRINT_FILE":
                self.start(args.get("FILENAME", ""))
            elif command == "CANCEL_PRINT":
                self.cancel()
            elif command == "PAUSE":
                self.pause()
            elif command == "RESUME":
                self.resume()
            elif command == "SET_FAKE_RATE":
                self.rate = float(args["RATE"])

    def start(self, filename: str) -> None:
        if self.job is not None:
            raise KlippyError("SD busy")
        path = self.gcodes / filename.lstrip("/")
        if not path.is_file():
            raise KlippyError(f"Unable to open file \"{filename}\"")
        self.job, self.extrusion = path, Extrusion()
        self.generation += 1
        self.started, self.paused_for, self.paused_at = time.monotonic(), 0.0, None
        stats = self._idle_stats("printing")
        stats["filename"] = filename.lstrip("/")
        self.status["print_stats"] = stats
        self.status["virtual_sdcard"] = {"file_path": str(path), "progress": 0.0,
                                         "is_active": True, "file_position": 0,
                                         "file_size": path.stat().st_size}
        self.status["idle_timeout"]["state"] = "Printing"
        self.status["pause_resume"]["is_paused"] = False

    def cancel(self) -> None:
        if self.job is not None:
            self._end("cancelled")

    def pause(self) -> None:
        if self.job is not None and self.paused_at is None:
            self.paused_at = time.monotonic()
            self.status["print_stats"]["state"] = "paused"
            self.status["pause_resume"]["is_paused"] = True
            self.status["virtual_sdcard"]["is_active"] = False

    def resume(self) -> None:
        if self.job is not None and self.paused_at is not None:
            self.paused_for += time.monotonic() - self.paused_at
            self.paused_at = None
            self.status["print_stats"]["state"] = "printing"
            self.status["pause_resume"]["is_paused"] = False
            self.status["virtual_sdcard"]["is_active"] = True

    # --- the print advancing ---------------------------------------------------------
    def tick(self, handle: Any) -> None:
        """Read the next ``rate * TICK_S`` bytes (whole lines) of the file being printed."""
        if self.job is None:
            return
        now = time.monotonic()
        stats, sdcard = self.status["print_stats"], self.status["virtual_sdcard"]
        stats["total_duration"] = round(now - self.started, 3)
        if self.paused_at is not None:
            return
        stats["print_duration"] = round(now - self.started - self.paused_for, 3)
        budget = max(1, int(self.rate * TICK_S))
        while budget > 0:
            line = handle.readline()
            if not line:
                break
            budget -= len(line)
            self.extrusion.feed(line.decode("utf-8", "replace"))
        position = handle.tell()
        size = sdcard["file_size"] or 1
        sdcard["file_position"] = position
        sdcard["progress"] = round(position / size, 4)
        self.status["display_status"]["progress"] = sdcard["progress"]
        stats["filament_used"] = round(self.extrusion.used, 5)
        if position >= sdcard["file_size"]:
            self._end("complete")

    def _end(self, state: str) -> None:
        self.job, self.paused_at = None, None
        self.status["print_stats"]["state"] = state
        self.status["virtual_sdcard"]["is_active"] = False
        self.status["pause_resume"]["is_paused"] = False
        self.status["idle_timeout"]["state"] = "Ready"


def _params(text: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for item in shlex.split(text):
        key, _, value = item.partition("=")
        out[key.upper()] = value
    return out


class Klippy:
    """The socket server: answers requests and pushes status to subscribers."""

    def __init__(self, printer: Printer, verbose: bool = False) -> None:
        self.printer = printer
        self.verbose = verbose
        # one subscription per connection: (writer, response template, objects)
        self.subscribers: dict[asyncio.StreamWriter, tuple[dict[str, Any], dict[str, Any]]] = {}

    def reply(self, method: str, params: dict[str, Any], writer: asyncio.StreamWriter) -> Any:
        status = self.printer.status
        if method == "info":
            return {"state": "ready", "state_message": "Printer is ready",
                    "software_version": "v0.12.0-fake", "hostname": "fake-klippy",
                    "cpu_info": "", "klipper_path": ".", "python_path": sys.executable,
                    "process_id": os.getpid(), "user_id": os.getuid(), "group_id": os.getgid(),
                    "log_file": "", "config_file": "", "app": "Klipper"}
        if method == "list_endpoints":
            return {"endpoints": ENDPOINTS}
        if method == "objects/list":
            return {"objects": list(status)}
        if method in ("objects/query", "objects/subscribe"):
            objects = params.get("objects", {})
            if method == "objects/subscribe":
                self.subscribers[writer] = (params.get("response_template", {}), objects)
            return {"eventtime": time.monotonic(), "status": self._select(objects)}
        if method == "gcode/script":
            self.printer.run_script(params.get("script", ""))
            return {}
        if method.startswith("pause_resume/"):
            {"pause": self.printer.pause, "resume": self.printer.resume,
             "cancel": self.printer.cancel}[method.split("/", 1)[1]]()
            return {}
        if method in ENDPOINTS:
            return {}
        raise KlippyError(f"Unknown endpoint {method}")

    def _select(self, objects: dict[str, Any]) -> dict[str, Any]:
        out = {}
        for name, fields in objects.items():
            if name in self.printer.status:
                value = json.loads(json.dumps(self.printer.status[name]))
                out[name] = value if not fields else {k: value[k] for k in fields if k in value}
        return out

    def push(self) -> None:
        for writer, (template, objects) in list(self.subscribers.items()):
            if writer.is_closing():
                self.subscribers.pop(writer, None)
                continue
            message = dict(template)
            message["params"] = {"eventtime": time.monotonic(), "status": self._select(objects)}
            _send(writer, message)

    async def client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                raw = await reader.readuntil(b"\x03")
                request = json.loads(raw[:-1])
                if self.verbose:
                    print("<-", request, file=sys.stderr, flush=True)
                try:
                    result = self.reply(request["method"], request.get("params") or {}, writer)
                    answer: dict[str, Any] = {"id": request.get("id"), "result": result}
                except KlippyError as exc:
                    answer = {"id": request.get("id"),
                              "error": {"error": "WebRequestError", "message": str(exc)}}
                _send(writer, answer)
                self.push()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            self.subscribers.pop(writer, None)
            writer.close()

    async def run(self) -> None:
        handle, generation = None, 0
        while True:
            await asyncio.sleep(TICK_S)
            job = self.printer.job
            if handle is not None and (job is None or generation != self.printer.generation):
                handle.close()
                handle = None
            if job is not None and handle is None:
                handle = open(job, "rb")  # noqa: SIM115 - read across ticks
                generation = self.printer.generation
            if handle is not None:
                self.printer.tick(handle)
            self.push()


def _send(writer: asyncio.StreamWriter, message: dict[str, Any]) -> None:
    writer.write(json.dumps(message).encode() + b"\x03")


async def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("socket", type=Path)
    parser.add_argument("gcodes", type=Path)
    parser.add_argument("--rate", type=float, default=20000.0, help="bytes printed per second")
    parser.add_argument("--verbose", action="store_true", help="log every request on stderr")
    args = parser.parse_args(argv)
    args.socket.unlink(missing_ok=True)
    klippy = Klippy(Printer(args.gcodes, args.rate), args.verbose)
    server = await asyncio.start_unix_server(klippy.client, str(args.socket))
    async with server:
        await asyncio.gather(server.serve_forever(), klippy.run())


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1:]))
