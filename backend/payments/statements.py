"""Bank statements in, one :class:`StatementLine` per booked transaction out.

Two formats: ISO 20022 camt.053 (bank to customer statement, any version 001.02 to
001.13; camt.054 notifications carry the same entries and are read too) and a plain CSV
for banks that export nothing else. Only the facts the matching needs are kept. A file
that is not what it claims is refused as a whole with where (line, entry) and why, so
that an import never applies half a file.

The CSV header (one line, names in any order, UTF-8)::

    date,amount,currency,reference,payer_name,bank_transaction_id

``date`` YYYY-MM-DD; ``amount`` with a point, negative for a debit (skipped); ``reference``
the structured reference or the remittance text; ``bank_transaction_id`` the bank's own
id of the line, unique per line (it makes a re-import credit nothing twice).
"""

from __future__ import annotations

import hashlib
import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from backend.csv_input import read_csv
from backend.payments.safe_xml import XmlRefused, parse_xml

CSV_COLUMNS = ("date", "amount", "currency", "reference", "payer_name",
               "bank_transaction_id")
_CAMT = re.compile(r"urn:iso:std:iso:20022:tech:xsd:camt\.05[34]\.001\.(0[2-9]|1[0-3])")
_XML_AMOUNT = re.compile(r"[0-9]{1,18}(\.[0-9]{1,5})?")
_CSV_AMOUNT = re.compile(r"-?[0-9]{1,12}(\.[0-9]{1,2})?")


class StatementRefused(ValueError):
    """The file cannot be read as a statement; the message says where and why."""


@dataclass(frozen=True)
class StatementLine:
    """One booked transaction. ``where`` locates it in the file for the operator;
    ``bank_reference`` is the bank's id of it, the event id of the credit."""

    where: str
    bank_reference: str
    booked_on: date | None
    amount: Decimal
    currency: str
    credit: bool  # CdtDbtInd CRDT (money in); a CSV line with a positive amount
    reference: str  # the structured creditor reference, "" when none
    remittance: str  # unstructured text, "" when none
    payer: str
    booked: bool = True  # camt <Sts> BOOK (not PDNG/INFO)
    reversal: bool = False  # camt <RvslInd> true: takes back an earlier booking

    @property
    def is_payment_in(self) -> bool:
        """What may credit a top-up: booked money in that reverses nothing."""
        return self.credit and self.booked and not self.reversal


def _local(tag: str) -> str:
    return tag.rpartition("}")[2]


def _child(element: ET.Element | None, *path: str) -> ET.Element | None:
    """The first descendant along ``path`` of local names (namespaces differ by version)."""
    for name in path:
        if element is None:
            return None
        element = next((child for child in element if _local(child.tag) == name), None)
    return element


def _first(*elements: ET.Element | None) -> ET.Element | None:
    """The first that exists (an Element without children is false, so no ``or``)."""
    return next((element for element in elements if element is not None), None)


def _children(element: ET.Element | None, name: str) -> list[ET.Element]:
    return [] if element is None else [c for c in element if _local(c.tag) == name]


def _text(element: ET.Element | None, *path: str) -> str:
    found = _child(element, *path)
    return "" if found is None or found.text is None else " ".join(found.text.split())


def _amount(element: ET.Element | None, where: str) -> tuple[Decimal, str]:
    if element is None:
        raise StatementRefused(f"{where}: no <Amt>")
    text = (element.text or "").strip()
    currency = element.get("Ccy", "")
    if _XML_AMOUNT.fullmatch(text) is None or not re.fullmatch(r"[A-Z]{3}", currency):
        raise StatementRefused(f"{where}: <Amt Ccy={currency!r}>{text}</Amt> is not an "
                               "amount with a three-letter currency")
    amount = Decimal(text)
    if amount != amount.quantize(Decimal("0.01")):
        raise StatementRefused(f"{where}: <Amt>{text}</Amt> has more decimals than cents")
    return amount.quantize(Decimal("0.01")), currency


def _day(element: ET.Element | None) -> date | None:
    text = _text(element, "Dt") or _text(element, "DtTm")[:10]
    try:
        return date.fromisoformat(text) if text else None
    except ValueError:
        return None


def _entry_lines(entry: ET.Element, where: str, fallback_id: str) -> list[StatementLine]:
    amount, currency = _amount(_child(entry, "Amt"), where)
    indicator = _text(entry, "CdtDbtInd")
    if indicator not in ("CRDT", "DBIT"):
        raise StatementRefused(f"{where}: <CdtDbtInd> {indicator!r}, must be CRDT or DBIT")
    status = _text(entry, "Sts", "Cd") or _text(entry, "Sts")  # .08+: <Sts><Cd>
    flags = {"booked": status == "BOOK", "reversal": _text(entry, "RvslInd") == "true"}
    credit = indicator == "CRDT"
    entry_ref = _text(entry, "AcctSvcrRef") or _text(entry, "NtryRef") or fallback_id
    details = [tx for block in _children(entry, "NtryDtls") for tx in _children(block, "TxDtls")]
    booked = _day(_child(entry, "BookgDt"))
    if not details:
        return [StatementLine(where, entry_ref, booked, amount, currency, credit, "", "", "",
                              **flags)]
    lines = []
    for number, tx in enumerate(details, start=1):
        tx_where = f"{where}, TxDtls {number}" if len(details) > 1 else where
        tx_amount = _first(_child(tx, "AmtDtls", "TxAmt", "Amt"), _child(tx, "Amt"))
        value, tx_currency = (_amount(tx_amount, tx_where) if tx_amount is not None
                              else (amount, currency))
        info = _child(tx, "RmtInf")
        structured = next((_text(strd, "CdtrRefInf", "Ref") for strd in _children(info, "Strd")
                           if _text(strd, "CdtrRefInf", "Ref")), "")
        remittance = " ".join(_text(ustrd) for ustrd in _children(info, "Ustrd"))
        debtor = _child(tx, "RltdPties", "Dbtr")
        payer = _text(debtor, "Nm") or _text(debtor, "Pty", "Nm")
        reference = entry_ref if len(details) == 1 else f"{entry_ref}/{number}"
        lines.append(StatementLine(tx_where, reference, booked, value, tx_currency, credit,
                                   structured, remittance, payer, **flags))
    return lines


def parse_camt(data: bytes) -> list[StatementLine]:
    """Every entry of every statement (or notification) of a camt.053/.054 file."""
    try:
        root = parse_xml(data)
    except XmlRefused as exc:
        raise StatementRefused(f"not a camt.053 file: {exc}") from exc
    namespace = root.tag[1:].partition("}")[0] if root.tag.startswith("{") else ""
    if _local(root.tag) != "Document" or _CAMT.fullmatch(namespace) is None:
        raise StatementRefused(f"not a camt.053 file: the root is {root.tag!r}; expected "
                               "<Document> in urn:iso:std:iso:20022:tech:xsd:camt.053.001.02 "
                               "to .13 (or camt.054)")
    message = _first(_child(root, "BkToCstmrStmt"), _child(root, "BkToCstmrDbtCdtNtfctn"))
    reports = _children(message, "Stmt") + _children(message, "Ntfctn")
    if message is None or not reports:
        raise StatementRefused("not a camt.053 file: no <BkToCstmrStmt><Stmt> in it")
    lines: list[StatementLine] = []
    for report_number, report in enumerate(reports, start=1):
        report_id = _text(report, "Id") or f"#{report_number}"
        for entry_number, entry in enumerate(_children(report, "Ntry"), start=1):
            where = f"statement {report_id}, entry {entry_number}"
            fallback = "sha256:" + hashlib.sha256(
                ET.tostring(entry)).hexdigest()[:32]  # the same entry, the same id
            lines.extend(_entry_lines(entry, where, fallback))
    return lines


def parse_csv(data: bytes) -> list[StatementLine]:
    """The lines of a CSV export with the header :data:`CSV_COLUMNS`."""
    table = read_csv(data)
    if table.problems:
        line, problem = table.problems[0]
        raise StatementRefused(f"line {line}: {problem}")
    missing = [name for name in CSV_COLUMNS if name not in table.columns]
    unknown = [name for name in table.columns if name not in CSV_COLUMNS]
    if missing or unknown:
        raise StatementRefused(f"line 1: the header must name {', '.join(CSV_COLUMNS)}"
                               + (f"; missing {', '.join(missing)}" if missing else "")
                               + (f"; unknown {', '.join(unknown)}" if unknown else ""))
    lines, seen = [], set()
    for number, row in table.rows:
        where = f"line {number}"
        try:
            booked = date.fromisoformat(row["date"])
        except ValueError:
            raise StatementRefused(f"{where}: date {row['date']!r} is not YYYY-MM-DD") from None
        if _CSV_AMOUNT.fullmatch(row["amount"]) is None or Decimal(row["amount"]) == 0:
            raise StatementRefused(f"{where}: amount {row['amount']!r} is not a non-zero "
                                   "amount with a point, such as 12.50 or -3.00")
        if not re.fullmatch(r"[A-Z]{3}", row["currency"]):
            raise StatementRefused(f"{where}: currency {row['currency']!r} is not a "
                                   "three-letter code such as EUR")
        bank_id = row["bank_transaction_id"]
        if not bank_id or bank_id in seen:
            raise StatementRefused(f"{where}: bank_transaction_id {bank_id!r} is "
                                   + ("empty" if not bank_id else "a second time"))
        seen.add(bank_id)
        amount = Decimal(row["amount"])
        lines.append(StatementLine(where, "csv:" + bank_id, booked, abs(amount),
                                   row["currency"], amount > 0, "", row["reference"],
                                   row["payer_name"]))
    return lines


def parse_statement(data: bytes) -> list[StatementLine]:
    """camt XML when the file starts like XML (after a BOM and blanks), else CSV."""
    head = data.lstrip(b"\xef\xbb\xbf \t\r\n")[:1]
    return parse_camt(data) if head == b"<" else parse_csv(data)
