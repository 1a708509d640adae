"""Analyse a print document: page count, colour and blank pages, paper sizes; or a 3D
print's G-code / binary G-code (filament, grams, time, ours beside the slicer's: see
printkiosk/commands/gcode_report.py).

Reads PDF, PostScript/EPS (also gzip'd, through Ghostscript), PCL XL, PCL 5 and XPS.
With --json the full per-page result is printed for scripts. A file that cannot be
analysed (encrypted, damaged, unsupported, or stopped by a limit) prints the reason and
exits with status 2.

The file is analysed in the same isolated child process as the kiosk and the spool agent
use, under the same time and memory limits (--time-limit, --memory-limit), so a hostile
file cannot make this command hang or swallow the machine's memory either.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any


def add_arguments(parser: argparse.ArgumentParser) -> None:
    # defaults are resolved in run(): importing analysis here would slow `printkiosk --help`
    parser.add_argument("file", type=Path,
                        help="the print document (or .gcode / .bgcode file) to analyse")
    parser.add_argument("--json", action="store_true", help="print the result as JSON")
    parser.add_argument("--time-limit", type=float, metavar="SECONDS",
                        help="stop the analysis after this long (default: the kiosk's, 20 s)")
    parser.add_argument("--memory-limit", type=int, metavar="MIB",
                        help="stop the analysis above this much memory "
                             "(default: the kiosk's, 512 MiB; at most 1024)")


def _as_json(analysis: Any) -> dict[str, Any]:
    from analysis import PageColour

    return {
        "file": str(analysis.path),
        "format": analysis.format,
        "pages": analysis.page_count,
        "colour_pages": analysis.count(PageColour.COLOUR),
        "mono_pages": analysis.count(PageColour.MONO),
        "blank_pages": analysis.count(PageColour.BLANK),
        "sizes": analysis.sizes(),
        "per_page": [
            {
                "page": p.number,
                "colour": p.colour.value,
                "size": p.size.name,
                "width_pt": p.size.width,
                "height_pt": p.size.height,
            }
            for p in analysis.pages
        ],
    }


def _ranges(numbers: list[int]) -> str:
    """1,2,3,7,9,10 -> '1-3, 7, 9-10': short enough for a 500-page document."""
    parts: list[str] = []
    for n in numbers:
        if parts and n == int(parts[-1].split("-")[-1]) + 1:
            parts[-1] = f"{parts[-1].split('-')[0]}-{n}"
        else:
            parts.append(str(n))
    return ", ".join(parts) or "none"


def run(args: argparse.Namespace) -> int:
    from printkiosk.commands import gcode_report

    if gcode_report.is_gcode(args.file):
        return gcode_report.run(args.file, args.json)
    return _document(args)


def _document(args: argparse.Namespace) -> int:
    from analysis import DocumentAnalysisError, PageColour, analyse_isolated, check_limits
    from analysis.isolated import DEFAULT_MEMORY_LIMIT, DEFAULT_TIMEOUT_SECONDS, MIB

    seconds = DEFAULT_TIMEOUT_SECONDS if args.time_limit is None else args.time_limit
    memory = DEFAULT_MEMORY_LIMIT if args.memory_limit is None else args.memory_limit * MIB
    try:
        check_limits(seconds, memory)
    except ValueError as exc:
        print(f"printkiosk analyze: {exc}", file=sys.stderr)
        return 2
    try:
        analysis = analyse_isolated(args.file, timeout_seconds=seconds, memory_limit_bytes=memory)
    except DocumentAnalysisError as error:
        print(f"printkiosk analyze: {error}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps(_as_json(analysis), indent=2))
        return 0
    colour = [p.number for p in analysis.pages if p.colour is PageColour.COLOUR]
    blank = [p.number for p in analysis.pages if p.colour is PageColour.BLANK]
    print(f"file:         {analysis.path}")
    print(f"format:       {analysis.format}")
    print(f"pages:        {analysis.page_count}")
    print(f"colour pages: {len(colour)} ({_ranges(colour)})")
    print(f"mono pages:   {analysis.count(PageColour.MONO)}")
    print(f"blank pages:  {len(blank)} ({_ranges(blank)})")
    sizes: dict[str, list[int]] = {}
    for page in analysis.pages:
        sizes.setdefault(str(page.size), []).append(page.number)
    for size, numbers in sizes.items():
        print(f"size:         {size}: {len(numbers)} page(s) ({_ranges(numbers)})")
    return 0
