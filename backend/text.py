"""Single-line text from outside: the one rule for what a text field may hold.

Every text the backend receives (a username, a description, a search query, a reason) is
one line of printable text. C0 controls (NUL to US, tab and newline included), DEL and
the C1 controls are refused: PostgreSQL cannot store a NUL in text (the request failed
with a 500), SQLite stores it silently, and the others break log lines, CSV reports and
receipts. The request schemas, the query/path parameter check and the CSV imports all use it.
"""

from __future__ import annotations

import re

# Unicode's control characters (category Cc) are exactly these two ranges.
CONTROL_CHARACTER = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def control_character_error(text: str) -> str | None:
    """Why ``text`` is refused (the first control character and where), or None."""
    found = CONTROL_CHARACTER.search(text)
    if found is None:
        return None
    return (f"holds the control character U+{ord(found.group()):04X} at position "
            f"{found.start()}; only single-line printable text is allowed")
