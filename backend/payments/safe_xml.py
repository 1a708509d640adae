"""Parsing a bank's XML file without trusting it: no DTD, no entity, no size surprise.

Why a first pass with expat before ElementTree: a statement file comes from outside (a
download, a mail attachment), and an XML document type may declare entities that expand
a kilobyte into gigabytes ("billion laughs") or read local files (external entities).
camt.053 never needs a DTD, so any DOCTYPE or entity declaration is refused outright
with its line, before ElementTree builds anything. (defusedxml does the same, but it is
not installed here; these few lines avoid a dependency.)
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from typing import Any
from xml.parsers import expat

MAX_XML_BYTES = 64 * 1024 * 1024


class XmlRefused(ValueError):
    """Not well-formed, or a DTD/entity; the message names the line and column."""


class _Declared(Exception):
    def __init__(self, what: str) -> None:
        super().__init__(what)
        self.what = what


def _refuse(what: str) -> Any:
    def handler(*_args: object) -> None:
        raise _Declared(what)
    return handler


def _scan(data: bytes) -> None:
    parser = expat.ParserCreate()
    parser.StartDoctypeDeclHandler = _refuse("a DOCTYPE declaration")
    parser.EntityDeclHandler = _refuse("an entity declaration")
    parser.UnparsedEntityDeclHandler = _refuse("an unparsed entity declaration")
    parser.ExternalEntityRefHandler = _refuse("an external entity reference")
    try:
        parser.Parse(data, True)
    except _Declared as refused:
        raise XmlRefused(f"line {parser.CurrentLineNumber}, column "
                         f"{parser.CurrentColumnNumber + 1}: {refused.what}; a bank "
                         "statement has none, and this file is refused (entity expansion "
                         "or external entities are an attack)") from None
    except expat.ExpatError as exc:
        raise XmlRefused(f"line {exc.lineno}, column {exc.offset + 1}: not well-formed "
                         f"XML ({expat.ErrorString(exc.code)})") from exc


def parse_xml(data: bytes) -> ET.Element:
    """The root element of ``data``; raises :class:`XmlRefused` with where and why."""
    if len(data) > MAX_XML_BYTES:
        raise XmlRefused(f"larger than {MAX_XML_BYTES // (1024 * 1024)} MiB")
    _scan(data)
    return ET.fromstring(data)  # noqa: S314 (checked above: no DTD, no entity)
