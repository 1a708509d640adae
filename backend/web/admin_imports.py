"""CSV imports from the console: ``/admin/users/import`` and ``/admin/billing-codes/import``,
and the billing-code tree at ``/admin/billing-codes``.

An upload is checked by the import's own dry run (nothing written) and shown line by
line (``backend.import_preview``): what each line would do, or its problems with the
column and the value. The uploaded bytes are kept server-side under their SHA-256
(``import_uploads``); "Apply" posts only that digest, so the file applied is exactly
the one whose dry run was shown. Applying runs the same import for real, audited with
who and from where, and forgets the upload.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse
from sqlalchemy import select
from starlette.datastructures import UploadFile

from backend import billing_codes, import_preview, users_import
from backend.models import BillingCode, BillingCodeAssignment, CostCentre, Group, User
from backend.web.admin_home import SECTIONS, Section
from backend.web.admin_people_text import form_text
from backend.web.auth import context_of, origin_of, staff
from backend.web.sessions import WebIdentity
from backend.web.templating import page_text, render

router = APIRouter(include_in_schema=False)
Admin = Annotated[WebIdentity, Depends(staff("administrator"))]
Reader = Annotated[WebIdentity, Depends(staff("administrator", "auditor"))]
MAX_UPLOAD = 8 * 1024 * 1024

SECTIONS.append(Section("/admin/users/import", "User import",
                        "Create and update users from a CSV file, with a dry run."))
SECTIONS.append(Section("/admin/billing-codes", "Billing codes",
                        "Clients and projects, who may use them and who pays; CSV import."))


@dataclass(frozen=True)
class _Kind:
    """One import as the pages see it."""

    kind: str  # import_uploads.kind
    path: str
    key_column: str
    example: str
    run: Callable[[Request, bytes, bool, str], Any]  # (request, data, dry_run, actor)


def _run_users(request: Request, data: bytes, dry_run: bool, actor: str) -> Any:
    context = context_of(request)
    return users_import.import_users_csv(context.db, data, context.secret, actor=actor,
                                         dry_run=dry_run, origin=origin_of(request))


def _run_codes(request: Request, data: bytes, dry_run: bool, actor: str) -> Any:
    return billing_codes.import_csv(context_of(request).db, data, actor=actor,
                                    dry_run=dry_run, origin=origin_of(request))


KINDS = {
    "users": _Kind("users", "/admin/users/import", "username",
                   "username,display_name,email,language,groups,cost_centre,status,cards,"
                   "overdraft_limit,roles", _run_users),
    "billing_codes": _Kind("billing_codes", "/admin/billing-codes/import", "code",
                           "code,name,parent,active,assigned_to,payer", _run_codes),
}


def _actions(report: Any) -> dict[str, str]:
    actions = {name: "create" for name in report.created}
    actions.update({name: "update" for name in report.updated})
    actions.update({name: "deactivate" for name in getattr(report, "deactivated", [])})
    return actions


def _show(request: Request, identity: WebIdentity, kind: _Kind, status_code: int = 200,
          **values: Any) -> HTMLResponse:
    defaults: dict[str, Any] = {"lines": None, "report": None, "digest": None,
                                "error": None, "applied": None, "filename": ""}
    return render(request, "admin/import.html", identity, status_code=status_code,
                  kind=kind, **{**defaults, **values})


def _upload_page(kind: _Kind) -> Callable[..., HTMLResponse]:
    def show(request: Request, identity: Reader) -> HTMLResponse:
        return _show(request, identity, kind)
    return show


def _dry_run(kind: _Kind) -> Callable[..., Any]:
    async def check(request: Request, identity: Admin) -> HTMLResponse:
        text = page_text(request, identity)
        upload = (await request.form()).get("file")
        if not isinstance(upload, UploadFile) or not upload.filename:
            return _show(request, identity, kind, 400, error=text("Choose a CSV file."))
        data = await upload.read(MAX_UPLOAD + 1)
        if len(data) > MAX_UPLOAD:
            return _show(request, identity, kind, 413, error=text(
                "The file is larger than {size} MB.", size=MAX_UPLOAD // (1024 * 1024)))
        report = kind.run(request, data, True, f"staff:{identity.username}")
        lines = import_preview.preview(data, report.errors, kind.key_column, _actions(report))
        digest = None
        if not report.errors:
            with context_of(request).db.write() as session:
                digest = import_preview.keep(session, kind.kind, data, identity.username)
        return _show(request, identity, kind, 400 if report.errors else 200, lines=lines,
                     report=report, digest=digest, filename=upload.filename[:200])
    return check


def _apply(kind: _Kind) -> Callable[..., Any]:
    async def apply(request: Request, identity: Admin) -> HTMLResponse:
        text = page_text(request, identity)
        digest = form_text(await request.form(), "digest", 64)
        with context_of(request).db.read() as session:
            data = import_preview.kept(session, kind.kind, digest)
        if data is None:
            return _show(request, identity, kind, 409, error=text(
                "This upload is no longer kept (already applied, or older than a day): "
                "upload the file again."))
        report = kind.run(request, data, False, f"staff:{identity.username}")
        if report.errors:  # the database changed since the dry run (a card now taken)
            lines = import_preview.preview(data, report.errors, kind.key_column,
                                           _actions(report))
            return _show(request, identity, kind, 409, lines=lines, report=report,
                         error=text("The file no longer passes its checks: nothing was "
                                    "written."))
        with context_of(request).db.write() as session:
            import_preview.forget(session, kind.kind, digest)
        return _show(request, identity, kind, report=report, applied=True)
    return apply


for _kind in KINDS.values():
    router.add_api_route(_kind.path, _upload_page(_kind), methods=["GET"],
                         response_class=HTMLResponse)
    router.add_api_route(_kind.path, _dry_run(_kind), methods=["POST"],
                         response_class=HTMLResponse)
    router.add_api_route(_kind.path + "/apply", _apply(_kind), methods=["POST"],
                         response_class=HTMLResponse)


@dataclass(frozen=True)
class CodeNode:
    code: BillingCode
    payer: str
    assignees: list[str]
    projects: list[CodeNode]


@router.get("/admin/billing-codes", response_class=HTMLResponse)
def code_tree(request: Request, identity: Reader) -> HTMLResponse:
    """Clients, each with its projects: name, active, who pays, who may use it."""
    with context_of(request).db.read() as session:
        names = {kind: dict(session.execute(select(key, column)).tuples().all())
                 for kind, key, column in (("user", User.id, User.username),
                                           ("group", Group.id, Group.name),
                                           ("cost_centre", CostCentre.id, CostCentre.code))}
        assignees: dict[int, list[str]] = {}
        for row in session.scalars(select(BillingCodeAssignment)):
            kind, owner = next((kind, owner) for kind, owner in (
                ("user", row.user_id), ("group", row.group_id),
                ("cost_centre", row.cost_centre_id)) if owner is not None)
            assignees.setdefault(row.billing_code_id, []).append(
                f"{kind}:{names[kind].get(owner, owner)}")
        codes = list(session.scalars(select(BillingCode).order_by(BillingCode.code)))

        def node(code: BillingCode) -> CodeNode:
            return CodeNode(code, billing_codes.effective_payer(session, code),
                            sorted(assignees.get(code.id, [])),
                            [node(child) for child in codes if child.parent_id == code.id])

        tree = [node(code) for code in codes if code.parent_id is None]
        return render(request, "admin/billing_codes.html", identity, tree=tree)
