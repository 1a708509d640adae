"""A small IPP/1.1 message codec and HTTP transport (RFC 8010), for what pycups lacks.

pycups 2.0.4 has no Set-Job-Attributes, which the kiosk needs to switch a held job to
monochrome or duplex before release; and tests need to ask ``ippeveprinter`` (not a CUPS
server) what it has printed. Both are single requests, so a few dozen lines of encoding
over the standard library's ``http.client`` beat a second IPP dependency (pyipp is async
and Home-Assistant oriented). Only the value tags this library sends or reads are typed;
any other value comes back as raw bytes.
"""

from __future__ import annotations

import http.client
import struct
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from drivers.cups.errors import CupsError, CupsUnavailable

# operation ids (RFC 8011, CUPS extensions)
PRINT_JOB = 0x0002
CANCEL_JOB = 0x0008
GET_JOB_ATTRIBUTES = 0x0009
GET_JOBS = 0x000A
GET_PRINTER_ATTRIBUTES = 0x000B
SET_JOB_ATTRIBUTES = 0x0014

# delimiter tags
_OPERATION = 0x01
_JOB = 0x02
_END = 0x03
_PRINTER = 0x04
_GROUP_NAMES = {_OPERATION: "operation", _JOB: "job", _PRINTER: "printer"}

# value tags
INTEGER = 0x21
BOOLEAN = 0x22
ENUM = 0x23
TEXT = 0x41
NAME = 0x42
KEYWORD = 0x44
URI = 0x45
CHARSET = 0x47
LANGUAGE = 0x48
MIME = 0x49
_NO_VALUE = {0x10, 0x12, 0x13}  # unsupported, unknown, no-value

Value = int | bool | str | bytes | None


@dataclass(frozen=True)
class Attribute:
    """One attribute to send: its value tag and one or more values."""

    tag: int
    values: tuple[int | bool | str, ...]


def attr(tag: int, *values: int | bool | str) -> Attribute:
    return Attribute(tag, values)


@dataclass
class Response:
    """A decoded IPP response: status code and groups of attributes, in order."""

    status: int
    groups: list[tuple[str, dict[str, list[Value]]]] = field(default_factory=list)

    def group(self, name: str) -> list[dict[str, list[Value]]]:
        return [attrs for group_name, attrs in self.groups if group_name == name]

    @property
    def ok(self) -> bool:
        return self.status < 0x0100

    @property
    def message(self) -> str:
        for attrs in self.group("operation"):
            for value in attrs.get("status-message", []):
                if isinstance(value, str):
                    return value
        return f"IPP status 0x{self.status:04x}"


def _encode_value(tag: int, value: int | bool | str) -> bytes:
    if tag == BOOLEAN:
        return b"\x01" if value else b"\x00"
    if tag in (INTEGER, ENUM):
        return struct.pack(">i", int(value))
    return str(value).encode("utf-8")


def encode_request(
    operation: int,
    request_id: int,
    operation_attrs: Mapping[str, Attribute],
    job_attrs: Mapping[str, Attribute] | None = None,
    printer_attrs: Mapping[str, Attribute] | None = None,
) -> bytes:
    """An IPP/1.1 request; charset and language come first, as RFC 8011 requires."""
    out = bytearray(struct.pack(">BBHI", 1, 1, operation, request_id))
    groups: list[tuple[int, Iterable[tuple[str, Attribute]]]] = [
        (
            _OPERATION,
            [
                ("attributes-charset", attr(CHARSET, "utf-8")),
                ("attributes-natural-language", attr(LANGUAGE, "en")),
                *operation_attrs.items(),
            ],
        )
    ]
    if job_attrs:
        groups.append((_JOB, job_attrs.items()))
    if printer_attrs:
        groups.append((_PRINTER, printer_attrs.items()))
    for delimiter, attrs in groups:
        out.append(delimiter)
        for name, attribute in attrs:
            for index, value in enumerate(attribute.values):
                raw_name = name.encode("ascii") if index == 0 else b""
                raw_value = _encode_value(attribute.tag, value)
                out += struct.pack(">BH", attribute.tag, len(raw_name)) + raw_name
                out += struct.pack(">H", len(raw_value)) + raw_value
    out.append(_END)
    return bytes(out)


def _decode_value(tag: int, raw: bytes) -> Value:
    if tag in _NO_VALUE:
        return None
    if tag in (INTEGER, ENUM) and len(raw) == 4:
        return int(struct.unpack(">i", raw)[0])
    if tag == BOOLEAN and len(raw) == 1:
        return raw != b"\x00"
    if 0x40 <= tag <= 0x4F:
        return raw.decode("utf-8", "replace")
    return raw


def decode_response(data: bytes) -> Response:
    """Parse an IPP response; raises CupsError on a truncated or malformed message."""
    try:
        _major, _minor, status, _request_id = struct.unpack_from(">BBHI", data, 0)
        response = Response(status)
        pos = 8
        current: dict[str, list[Value]] | None = None
        last_name = ""
        while True:
            if pos >= len(data):
                raise CupsError("malformed IPP response: no end-of-attributes tag")
            tag = data[pos]
            pos += 1
            if tag == _END:
                break
            if tag < 0x10:
                current = {}
                response.groups.append((_GROUP_NAMES.get(tag, f"group-{tag}"), current))
                continue
            (name_len,) = struct.unpack_from(">H", data, pos)
            pos += 2
            name = data[pos : pos + name_len].decode("ascii")
            pos += name_len
            (value_len,) = struct.unpack_from(">H", data, pos)
            pos += 2
            raw = data[pos : pos + value_len]
            pos += value_len
            if pos > len(data):
                raise CupsError(f"malformed IPP response: {name or last_name} is cut short")
            if current is None:
                raise CupsError("IPP response has an attribute outside any group")
            if name:
                last_name = name
                current[name] = []
            current.setdefault(last_name, []).append(_decode_value(tag, raw))
        return response
    except (struct.error, UnicodeDecodeError) as exc:
        raise CupsError(f"malformed IPP response: {exc}") from exc


def post(host: str, port: int, path: str, body: bytes, timeout_s: float = 10.0) -> Response:
    """POST one IPP request over HTTP; transport failures become CupsUnavailable."""
    connection = http.client.HTTPConnection(host, port, timeout=timeout_s)
    try:
        connection.request("POST", path, body, {"Content-Type": "application/ipp"})
        reply = connection.getresponse()
        data = reply.read()
    except (OSError, http.client.HTTPException) as exc:
        raise CupsUnavailable(f"IPP server {host}:{port} unreachable: {exc}") from exc
    finally:
        connection.close()
    if reply.status != 200:
        raise CupsError(f"IPP server {host}:{port}{path} answered HTTP {reply.status}")
    return decode_response(data)
