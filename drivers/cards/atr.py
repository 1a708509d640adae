"""Name a card from its ATR with pcsc-tools' ``smartcard_list.txt``.

The file (shipped by Debian's pcsc-tools at /usr/share/pcsc/smartcard_list.txt, and kept in
the test corpus) lists entries as an ATR line followed by tab-indented description lines
(usually then a blank line, but a few descriptions contain blank lines themselves, so an
entry ends only at the next ATR line). The ATR line is a regular expression over the
upper-case, space-separated ATR (``..`` is any byte, ``3[13]`` or ``6.`` occur too),
matched against the whole ATR as pcsc-tools' ``ATR_analysis`` does. The file path comes
from the terminal's configuration.

Several entries can match one ATR (a generic "as per PCSC std part3" pattern and a named
card); the most specific wins: an exact entry first, then the pattern with the fewest
wildcard characters, then the earliest in the file.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

_WILDCARD = re.compile(r"\[[^\]]*\]|\.")
_REGEX_SYNTAX = re.compile(r"[.\[\]*\-]")
_ATR_LINE = re.compile(r"[0-9A-F]{2}[0-9A-F. \[\]\-*,]*")


@dataclass(frozen=True)
class AtrEntry:
    """One entry of the list: its pattern as written and its description lines."""

    pattern: str
    descriptions: tuple[str, ...]
    line: int
    regex: re.Pattern[str] | None = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        # Only patterns with wildcards are compiled: most entries are literal ATRs, looked
        # up in a dict, and compiling all 5000 would double the time to load the list.
        regex = re.compile(self.pattern) if _REGEX_SYNTAX.search(self.pattern) else None
        object.__setattr__(self, "regex", regex)

    @property
    def card_type(self) -> str:
        """The first description line: the card's name in the list."""
        return self.descriptions[0]


class AtrList:
    """The parsed list; :meth:`lookup` finds the best entry for an ATR."""

    def __init__(self, entries: Iterable[AtrEntry]) -> None:
        self._exact: dict[str, AtrEntry] = {}
        self._patterns: list[tuple[int, int, AtrEntry]] = []
        for entry in entries:
            if entry.regex is None:
                self._exact.setdefault(entry.pattern, entry)
            else:
                wildcards = len(_WILDCARD.findall(entry.pattern))
                self._patterns.append((wildcards, entry.line, entry))
        self._patterns.sort(key=lambda item: (item[0], item[1]))

    def __len__(self) -> int:
        return len(self._exact) + len(self._patterns)

    @classmethod
    def from_file(cls, path: Path | str) -> AtrList:
        """Parse a list file; a line that is neither comment, ATR nor description is an error."""
        source = Path(path)
        text = source.read_text(encoding="utf-8", errors="replace")
        return cls(parse_atr_list(text, str(source)))

    def lookup(self, atr: bytes | str) -> AtrEntry | None:
        """The most specific entry whose pattern matches ``atr`` (bytes or hex text), if any."""
        spaced = format_atr(atr)
        exact = self._exact.get(spaced)
        if exact is not None:
            return exact
        for _, _, entry in self._patterns:
            if entry.regex is not None and entry.regex.fullmatch(spaced):
                return entry
        return None

    def card_type(self, atr: bytes | str) -> str | None:
        """The card's name for ``atr``, or None when the list does not know it."""
        entry = self.lookup(atr)
        return None if entry is None else entry.card_type


def format_atr(atr: bytes | str) -> str:
    """An ATR as the list writes it: upper-case hex bytes separated by single spaces."""
    raw = bytes.fromhex(re.sub(r"[\s:]", "", atr)) if isinstance(atr, str) else atr
    return " ".join(f"{byte:02X}" for byte in raw)


def parse_atr_list(text: str, source: str = "smartcard_list.txt") -> list[AtrEntry]:
    """The entries of a list file's text, in file order."""
    entries: list[AtrEntry] = []
    pattern: str | None = None
    start = 0
    descriptions: list[str] = []

    def close() -> None:
        if pattern is not None and descriptions:
            try:
                entries.append(AtrEntry(pattern, tuple(descriptions), start))
            except re.error as exc:
                raise ValueError(f"{source}:{start}: {pattern!r}: {exc}") from exc

    for number, line in enumerate(text.splitlines(), start=1):
        if line.startswith("#"):
            continue
        if line.startswith("\t"):
            if pattern is None:
                raise ValueError(f"{source}:{number}: description line outside an entry")
            descriptions.append(line.strip())
        elif not line.strip():
            continue  # entries end at the next ATR line: some descriptions contain blank lines
        else:
            close()
            candidate = line.strip()
            if not _ATR_LINE.fullmatch(candidate):
                raise ValueError(f"{source}:{number}: {candidate!r} is not an ATR pattern")
            pattern, start, descriptions = candidate, number, []
    close()
    return entries
