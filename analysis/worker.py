"""The analysis child process behind :func:`analysis.isolated.analyse_isolated`.

Usage: ``python -m analysis.worker FILE MEMORY_LIMIT_BYTES``. It limits its own address
space first, so a pathological document fails here instead of starving the kiosk, then
writes one JSON value a line, each flushed as soon as it is known, so that whatever
stops it (the parent's clock, the memory limit, a crash in C code) the parent still has
everything learnt so far:

* ``{"format": "pdf"}``, then ``{"total": 12}`` when the format declares its page count;
* ``["colour", 595.0, 842.0, "A4"]`` per page, in order;
* last, one of ``{"done": true}``, ``{"error": KIND, "reason": ...}`` or ``{"memory": true}``.
"""

from __future__ import annotations

import json
import resource
import sys
from pathlib import Path
from typing import TextIO


def _emit(out: TextIO, value: object) -> None:
    out.write(json.dumps(value) + "\n")
    out.flush()


def main(argv: list[str], out: TextIO = sys.stdout) -> int:
    path, limit = Path(argv[0]), int(argv[1])
    if limit > 0:
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    from analysis.document import stream_document
    from analysis.errors import DocumentAnalysisError

    try:
        for page in stream_document(
            path,
            on_format=lambda name: _emit(out, {"format": name}),
            on_total=lambda total: _emit(out, {"total": total}),
        ):
            _emit(out, [page.colour.value, page.size.width, page.size.height, page.size.name])
    except DocumentAnalysisError as error:
        _emit(out, {"error": type(error).__name__, "reason": error.reason})
    except MemoryError:
        _emit(out, {"memory": True})
    else:
        _emit(out, {"done": True})
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
