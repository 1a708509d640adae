"""Analyse a print document: page count, colour and blank pages, paper sizes.

Reads PDF, PostScript/EPS (also gzip'd, through Ghostscript), PCL XL, PCL 5 and XPS.
With --json the full per-page result is printed for scripts. A file that cannot be
analysed (encrypted, damaged, unsupported) prints the reason and exits with status 2.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("file", type=Path, help="the print document to analyse")
    parser.add_argument("--json", action="store_true", help="print the result as JSON")


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
    from analysis import DocumentAnalysisError, PageColour, analyse_document

    try:
        analysis = analyse_document(args.file)
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
