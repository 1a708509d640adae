"""The one-time export of a batch's plain codes, and the CSV file the operator prints from.

Why a token and not a stored copy: the database holds only keyed hashes of the codes, so
a stolen backup redeems nothing. The plain codes must nevertheless survive the creation
command once (a failed printer, a lost file): they are kept encrypted with AES-GCM under
a key derived (HKDF-SHA256) from a random export token shown only to the operator who
created the batch, salted with the server secret. The database alone cannot decrypt
them, the token alone cannot either; the first export with the token deletes the blob.
"""

from __future__ import annotations

import csv
import io
import os
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from backend.security import keyed_hash

_NONCE = 12
CSV_HEADER = ("batch", "serial", "code", "value", "currency", "expires_on")


def new_export_token() -> str:
    return secrets.token_urlsafe(16)  # 128 bits, typed once by an operator


def token_hash(secret: bytes, token: str) -> str:
    return keyed_hash(secret, token, "voucher-export")


def _key(secret: bytes, token: str, batch_id: str) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=secret,
                info=f"printkiosk voucher export {batch_id}".encode()).derive(token.encode())


def seal(secret: bytes, token: str, batch_id: str, bodies: Sequence[str]) -> bytes:
    """The bodies (in serial order) encrypted for :func:`unseal` with the same token."""
    nonce = os.urandom(_NONCE)
    plain = "\n".join(bodies).encode("ascii")
    return nonce + AESGCM(_key(secret, token, batch_id)).encrypt(nonce, plain,
                                                                  batch_id.encode())


def unseal(secret: bytes, token: str, batch_id: str, blob: bytes) -> list[str] | None:
    """The bodies, or None when the token (or the server secret) is not the one used."""
    try:
        plain = AESGCM(_key(secret, token, batch_id)).decrypt(blob[:_NONCE], blob[_NONCE:],
                                                               batch_id.encode())
    except InvalidTag:
        return None
    return plain.decode("ascii").split("\n")


@dataclass(frozen=True)
class ExportRow:
    batch: str
    serial: int
    code: str  # display form, e.g. LIB-7K3M-Q9XA-2BFD-HW
    value: str
    currency: str
    expires_on: str


class ExportFileRefused(Exception):
    """The export file could not be written; ``str()`` says which and why."""


def write_csv(path: Path, rows: Sequence[ExportRow]) -> None:
    """Write the codes to a new file, mode 0600; never over an existing file (an earlier
    export would be lost, or a link followed to somewhere else)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(CSV_HEADER)
    for row in rows:
        writer.writerow((row.batch, row.serial, row.code, row.value, row.currency,
                         row.expires_on))
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
    except FileExistsError as exc:
        raise ExportFileRefused(f"{path}: already exists; refusing to overwrite it "
                                "(choose another --output)") from exc
    except OSError as exc:
        raise ExportFileRefused(f"{path}: cannot be created: {exc.strerror}") from exc
    with os.fdopen(fd, "w", encoding="utf-8", newline="") as out:
        out.write(buffer.getvalue())


def read_csv(path: Path) -> list[ExportRow]:
    """An export file written by :func:`write_csv`; a clear error naming the line."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ExportFileRefused(f"{path}: cannot be read: {exc.strerror}") from exc
    except UnicodeDecodeError as exc:
        raise ExportFileRefused(f"{path}: is not a voucher export (not UTF-8)") from exc
    reader = csv.reader(io.StringIO(text))
    header = next(reader, None)
    if header is None or tuple(header) != CSV_HEADER:
        raise ExportFileRefused(f"{path}: line 1: expected the header "
                                f"{','.join(CSV_HEADER)}")
    rows = []
    for line, fields in enumerate(reader, start=2):
        if len(fields) != len(CSV_HEADER) or not fields[1].isdigit():
            raise ExportFileRefused(f"{path}: line {line}: not a voucher export row")
        rows.append(ExportRow(fields[0], int(fields[1]), fields[2], fields[3], fields[4],
                              fields[5]))
    return rows
