"""``printkiosk backend statements ...``: plans and statements from the command line.

  statements plan CLIENT FILE          upload a plan version (validated; audited)
  statements generate YYYY-MM-DD [CLIENT]
                                       drafts for the period containing that day, for
                                       every active client with a plan (or CLIENT)
  statements list [CLIENT]             the latest statements
  statements issue NUMBER | cancel NUMBER
  statements pdf NUMBER FILE           write the statement's PDF
  statements request NUMBER            e-mail the payment request (gateway's pay link)
  statements overdue                   mark the statements past their due date

Changes are audited as ``cli:<login>``; a refusal changes nothing and says why.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from pathlib import Path

from sqlalchemy import select

from backend.cli_output import table
from backend.models import Client, Statement, utcnow
from backend.money import fmt
from backend.statements.document import load_view
from backend.statements.errors import StatementError
from backend.statements.generate import generate_for_period
from backend.statements.pdf import statement_pdf
from backend.statements.plan_store import find_client, store_plan
from backend.statements.status import change, find_statement, mark_overdue
from backend.voucher_cli import Backend, CliRefused
from billing import ConfigError

USAGE = ("give `statements plan CLIENT FILE`, `generate YYYY-MM-DD [CLIENT]`, "
         "`list [CLIENT]`, `issue NUMBER`, `cancel NUMBER`, `pdf NUMBER FILE`, "
         "`request NUMBER` or `overdue`")


def statements_command(backend: Backend, words: Sequence[str]) -> None:
    verb, *rest = words or ("",)
    try:
        if verb == "plan" and len(rest) == 2:
            _plan(backend, rest[0], Path(rest[1]))
        elif verb == "generate" and len(rest) in (1, 2):
            _generate(backend, _day(rest[0]), rest[1] if len(rest) == 2 else None)
        elif verb == "list" and len(rest) <= 1:
            _list(backend, rest[0] if rest else None)
        elif verb in ("issue", "cancel") and len(rest) == 1:
            _change(backend, rest[0], "issued" if verb == "issue" else "cancelled")
        elif verb == "pdf" and len(rest) == 2:
            _pdf(backend, rest[0], Path(rest[1]))
        elif verb == "request" and len(rest) == 1:
            _request(backend, rest[0])
        elif verb == "overdue" and not rest:
            with backend.db.write() as session:
                late = mark_overdue(session, utcnow(), backend.actor)
            print(f"{len(late)} statement(s) now overdue" + (": " + ", ".join(late)
                                                              if late else ""))
        else:
            raise CliRefused(f"{' '.join(words)!r}: {USAGE}" if words else USAGE)
    except StatementError as exc:
        raise CliRefused(str(exc)) from exc


def _day(word: str) -> date:
    try:
        return date.fromisoformat(word)
    except ValueError as exc:
        raise CliRefused(f"generate: {word!r} is not a day written YYYY-MM-DD") from exc


def _plan(backend: Backend, code: str, path: Path) -> None:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise CliRefused(f"{path}: cannot be read: {exc}") from exc
    try:
        with backend.db.write() as session:
            plan = store_plan(session, find_client(session, code), text, str(path),
                              actor=backend.actor, today=utcnow().date())
            print(f"plan {plan.name!r} ({plan.billing_type}) for {code} from "
                  f"{plan.effective_from}")
    except ConfigError as exc:
        raise CliRefused(str(exc)) from exc


def _generate(backend: Backend, day: date, code: str | None) -> None:
    with backend.db.write() as session:
        results = generate_for_period(session, day, actor=backend.actor, now=utcnow(),
                                      client_code=code)
    for outcome in results:
        print(outcome)


def _list(backend: Backend, code: str | None) -> None:
    with backend.db.read() as session:
        query = (select(Statement, Client.code).join(Client, Client.id == Statement.client_id)
                 .order_by(Statement.id.desc()).limit(50))
        if code:
            query = query.where(Client.code == code)
        rows = [[s.number, client, f"{s.period_start} .. {s.period_end}", s.status,
                 f"{fmt(s.total)} {s.currency}", str(s.due_date or "")]
                for s, client in session.execute(query).tuples()]
    print(table(["NUMBER", "CLIENT", "PERIOD", "STATUS", "TOTAL", "DUE"], rows)
          if rows else "no statements")


def _change(backend: Backend, number: str, wanted: str) -> None:
    with backend.db.write() as session:
        statement = change(session, find_statement(session, number, lock=True), wanted,
                           actor=backend.actor, now=utcnow(),
                           due_days=backend.config.statements.due_days)
        print(f"statement {statement.number}: {statement.status}")


def _pdf(backend: Backend, number: str, target: Path) -> None:
    with backend.db.read() as session:
        data = statement_pdf(load_view(session, find_statement(session, number)),
                             backend.timezone or "UTC")
    try:
        target.write_bytes(data)
    except OSError as exc:
        raise CliRefused(f"{target}: cannot be written: {exc}") from exc
    print(f"{target}: statement {number}, {len(data)} bytes")


def _request(backend: Backend, number: str) -> None:
    from backend.payments_cli import gateway_of
    from backend.statements.requests import send_request

    gateway = gateway_of(backend)
    with backend.db.write() as session:
        request = send_request(session, find_statement(session, number, lock=True), gateway,
                               base_url=backend.config.payments.public_base_url or "",
                               actor=backend.actor, now=utcnow())
        print(f"statement {number}: payment request {request.reference} sent to "
              f"{request.to_address}: {request.pay_url}")
