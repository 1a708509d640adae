"""A report as a bar chart, PNG or SVG, drawn by matplotlib's Agg backend.

matplotlib is imported inside :func:`render` only: it costs a few hundred milliseconds
to import, and the backend must start (and the CLI answer ``--help``) without it.
"""

from __future__ import annotations

import io
from collections.abc import Sequence

from backend.reports.engine import ReportRow

FORMATS = ("png", "svg")
MAX_BARS = 40


def render(rows: Sequence[ReportRow], by: Sequence[str], measure: str, fmt: str,
           title: str) -> bytes:
    """Bars of ``measure`` per row (the first MAX_BARS rows by that measure), labelled
    by the row's groupings; when the last grouping is the period, one series per period
    would be unreadable past a few, so the label simply joins the keys."""
    if fmt not in FORMATS:
        raise ValueError(f"chart format {fmt!r} is not one of {', '.join(FORMATS)}")
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    shown = sorted(rows, key=lambda row: row.measure(measure), reverse=True)[:MAX_BARS]
    labels = [" / ".join(key for key, name in zip(row.keys, _key_names(by), strict=True)
                         if name != "name") for row in shown]
    values = [float(row.measure(measure)) for row in shown]
    figure = Figure(figsize=(9, 1.2 + 0.3 * max(len(shown), 1)), layout="constrained")
    axes = figure.subplots()
    axes.barh(range(len(values)), values, color="#3465a4")
    axes.set_yticks(range(len(values)), labels=labels)
    axes.invert_yaxis()
    axes.set_xlabel(measure.replace("_", " "))
    axes.set_title(title)
    if not shown:
        axes.text(0.5, 0.5, "no jobs", ha="center", va="center", transform=axes.transAxes)
    buffer = io.BytesIO()
    # No date in the SVG's metadata: the same report draws the same bytes.
    metadata = {"Date": None} if fmt == "svg" else {}
    figure.savefig(buffer, format=fmt, metadata=metadata)
    return buffer.getvalue()


def _key_names(by: Sequence[str]) -> list[str]:
    names: list[str] = []
    for grouping in by:
        names.append(grouping)
        if grouping == "user":
            names.append("name")
    return names
