"""Whether a printer may be released to, from IPP printer-state and printer-state-reasons.

A released job on a jammed or empty printer would sit there until someone fixes it, and
the user would have walked away: so the kiosk refuses, tells the user why with a stable
key, and the job stays held (it can still be released at another printer).

printer-state-reasons keywords carry a severity suffix (RFC 8011 §5.4.12): ``-report``
and ``-warning`` never block (``toner-low-warning`` still prints), ``-error`` or no
suffix does. The first blocking reason in the order below names the problem.
"""

from __future__ import annotations

PRINTER_STATES = {3: "idle", 4: "processing", 5: "stopped"}

# printer-state-reasons keyword (without suffix) -> stable key shown to the user
_BLOCKING_REASONS: tuple[tuple[str, str], ...] = (
    ("media-jam", "printer_jammed"),
    ("toner-empty", "toner_empty"),
    ("marker-supply-empty", "toner_empty"),
    ("marker-waste-full", "waste_toner_full"),
    ("media-empty", "paper_empty"),
    ("media-needed", "paper_empty"),
    ("door-open", "door_open"),
    ("cover-open", "door_open"),
    ("input-tray-missing", "tray_missing"),
    ("output-area-full", "output_full"),
    ("offline", "printer_offline"),
    ("shutdown", "printer_offline"),
    ("paused", "printer_stopped"),
)
_SUFFIXES = ("-error", "-warning", "-report")


def blocking_reasons(reasons: tuple[str, ...]) -> tuple[str, ...]:
    """The reasons that stop printing: severity ``-error`` or none, never warnings/reports."""
    return tuple(
        reason
        for reason in reasons
        if reason != "none" and not reason.endswith(("-warning", "-report"))
    )


def _base(reason: str) -> str:
    for suffix in _SUFFIXES:
        if reason.endswith(suffix):
            return reason[: -len(suffix)]
    return reason


def problem_of(state: str, reasons: tuple[str, ...], accepting_jobs: bool) -> str | None:
    """The stable key of what stops this printer, or ``None`` when it can take a job.

    A known hardware reason wins over the generic ``printer_stopped`` so the user learns
    *why* (a jammed printer is often also stopped); an unknown error reason on a stopped
    printer is still ``printer_stopped``; an unknown error on a running one is
    ``printer_error``.
    """
    blocking = {_base(reason) for reason in blocking_reasons(reasons)}
    for keyword, key in _BLOCKING_REASONS:
        if keyword in blocking:
            return key
    if state == "stopped":
        return "printer_stopped"
    if not accepting_jobs:
        return "printer_not_accepting"
    if blocking:
        return "printer_error"
    return None
