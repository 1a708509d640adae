"""Clients of the 3D printer servers: OctoPrint (REST with an API key, and its SockJS
push channel for events) and Moonraker (Klipper's API server). Standalone: requests
only, no import of the rest of the project; errors of its own (:mod:`.errors`)."""

from drivers.printers3d.errors import PrinterServerError, ServerRefused, ServerUnreachable
from drivers.printers3d.moonraker import MoonrakerClient, MoonrakerStatus
from drivers.printers3d.octoprint import LastPrint, OctoPrintClient, OctoPrintJob, OctoPrintPrinter
from drivers.printers3d.octoprint_events import OctoPrintEvents, PushedEvent

__all__ = [
    "LastPrint", "MoonrakerClient", "MoonrakerStatus", "OctoPrintClient", "OctoPrintEvents",
    "OctoPrintJob", "OctoPrintPrinter", "PrinterServerError", "PushedEvent", "ServerRefused",
    "ServerUnreachable",
]
