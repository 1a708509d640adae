"""The analysis child process behind :func:`analysis.isolated.analyse_isolated`.

Usage: ``python -m analysis.worker FILE MEMORY_LIMIT_BYTES``. Prints one JSON
object: the analysis, or the analysis error's kind and reason. It limits its own address
space first, so a pathological document fails here instead of starving the kiosk.
"""

from __future__ import annotations

import json
import resource
import sys
from pathlib import Path


def main(argv: list[str]) -> int:
    path, limit = Path(argv[0]), int(argv[1])
    if limit > 0:
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    from analysis.document import analyse_document
    from analysis.errors import DocumentAnalysisError

    try:
        analysis = analyse_document(path)
    except DocumentAnalysisError as error:
        print(json.dumps({"error": type(error).__name__, "reason": error.reason}))
        return 0
    pages = [[p.colour.value, p.size.width, p.size.height, p.size.name] for p in analysis.pages]
    print(json.dumps({"format": analysis.format, "pages": pages}))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
