"""camt.053 statements made for the tests, in the layout of a bank's export: version
001.02 (``<Sts>BOOK</Sts>``, ``Dbtr/Nm``) or 001.08 (``<Sts><Cd>``, ``Dbtr/Pty/Nm``)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Credit:
    amount: str
    bank_ref: str
    structured: str = ""
    unstructured: str = ""
    payer: str = "Jean Dupont"
    indicator: str = "CRDT"


def _entry(credit: Credit, version: str) -> str:
    status = "<Sts>BOOK</Sts>" if version == "02" else "<Sts><Cd>BOOK</Cd></Sts>"
    debtor = (f"<Dbtr><Nm>{credit.payer}</Nm></Dbtr>" if version == "02"
              else f"<Dbtr><Pty><Nm>{credit.payer}</Nm></Pty></Dbtr>")
    remittance = ""
    if credit.structured:
        remittance = ("<Strd><CdtrRefInf><Tp><CdOrPrtry><Cd>SCOR</Cd></CdOrPrtry></Tp>"
                      f"<Ref>{credit.structured}</Ref></CdtrRefInf></Strd>")
    if credit.unstructured:
        remittance += f"<Ustrd>{credit.unstructured}</Ustrd>"
    return f"""
      <Ntry>
        <Amt Ccy="EUR">{credit.amount}</Amt>
        <CdtDbtInd>{credit.indicator}</CdtDbtInd>
        {status}
        <BookgDt><Dt>2026-12-01</Dt></BookgDt>
        <ValDt><Dt>2026-12-01</Dt></ValDt>
        <AcctSvcrRef>{credit.bank_ref}</AcctSvcrRef>
        <BkTxCd><Domn><Cd>PMNT</Cd><Fmly><Cd>RCDT</Cd><SubFmlyCd>ESCT</SubFmlyCd></Fmly></Domn></BkTxCd>
        <NtryDtls><TxDtls>
          <Refs><EndToEndId>NOTPROVIDED</EndToEndId></Refs>
          <AmtDtls><TxAmt><Amt Ccy="EUR">{credit.amount}</Amt></TxAmt></AmtDtls>
          <RltdPties>{debtor}</RltdPties>
          <RmtInf>{remittance}</RmtInf>
        </TxDtls></NtryDtls>
      </Ntry>"""


def camt053(credits: list[Credit], version: str = "02") -> bytes:
    entries = "".join(_entry(credit, version) for credit in credits)
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.{version}">
  <BkToCstmrStmt>
    <GrpHdr><MsgId>STMT-20261201</MsgId><CreDtTm>2026-12-01T18:00:00Z</CreDtTm></GrpHdr>
    <Stmt>
      <Id>STMT-20261201-1</Id>
      <CreDtTm>2026-12-01T18:00:00Z</CreDtTm>
      <Acct><Id><IBAN>DE89370400440532013000</IBAN></Id></Acct>
      {entries}
    </Stmt>
  </BkToCstmrStmt>
</Document>
""".encode()
