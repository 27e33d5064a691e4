"""Erasure (GDPR) for administrators: erase a document or an organisation, receipts (``tfe.app.erasure``).

- ``POST /api/admin/erasures`` ``{"document": id}`` or ``{"organisation": slug or id}`` (optional
  ``reason``) erases it and answers the signed receipt (201);
- ``GET /api/admin/erasures``: the receipts, newest first; ``GET /api/admin/erasures/{id}``: one;
- ``POST /api/admin/erasures/verify`` with a receipt document: its checks (signature, then each store).

Administrators only (403 otherwise). The national agency's administrators erase any document and any
other organisation and see every receipt; another organisation's administrator erases its own documents
and sees their receipts (another organisation's document or receipt answers 404). An unknown id is 404;
an id already erased is 404 « déjà effacé » naming the receipt.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from ged import receipts
from tfe.app import erasure
from tfe.app.web.deps import CurrentUser, RuntimeDep, SessionDep, TargetId
from tfe.app.web.errors import error_responses
from tfe.app.web.schemas.erasure import ErasureRequest, ReceiptListPublic, ReceiptPublic, VerificationPublic
from tfe.core.errors import ValidationError
from tfe.core.models import User
from tfe.core.security import administration
from tfe.core.security.audit import Actor

router = APIRouter(prefix="/api/admin/erasures", tags=["admin"])


def _org_filter(session: Any, user: User) -> int | None:
    return administration.managed_org_id(session, user)


@router.post(
    "",
    summary="Erase a document or an organisation (irreversible); the signed receipt",
    status_code=201,
    response_model=ReceiptPublic,
    responses=error_responses(400, 401, 403, 404),
)
def erase(
    body: ErasureRequest, user: CurrentUser, session: SessionDep, runtime: RuntimeDep
) -> dict[str, Any]:
    if bool(body.document) == bool(body.organisation):
        raise ValidationError("give exactly one of 'document' and 'organisation'")
    actor = Actor.of_user(user, "api")
    reason = body.reason or "api"
    if body.document:
        erasure.authorize_document(session, user, body.document)
        session.commit()  # the erasure runs in sessions of its own: hold no transaction meanwhile
        return erasure.erase_document(runtime, body.document, actor=actor, reason=reason)
    org = erasure.find_organisation(session, str(body.organisation))
    erasure.authorize_organisation(session, user, org)
    org_id = org.id
    session.commit()
    return erasure.erase_organisation(runtime, org_id, actor=actor, reason=reason)


@router.get(
    "",
    summary="Erasure receipts, newest first",
    response_model=ReceiptListPublic,
    responses=error_responses(400, 401, 403),
)
def list_erasures(
    user: CurrentUser,
    session: SessionDep,
    runtime: RuntimeDep,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> dict[str, Any]:
    org_id = _org_filter(session, user)
    key = erasure.signer(runtime).public_key_hex
    rows = receipts.list_receipts(session, org_id=org_id, limit=limit, offset=offset)
    return {"receipts": [receipts.as_document(r, key) for r in rows]}


@router.post(
    "/verify",
    summary="Check a receipt: its signature, then that nothing it names is left in the stores",
    response_model=VerificationPublic,
    responses=error_responses(400, 401, 403),
)
def verify(
    document: dict[str, Any], user: CurrentUser, session: SessionDep, runtime: RuntimeDep
) -> dict[str, Any]:
    _org_filter(session, user)
    if not isinstance(document.get("receipt"), dict):
        raise ValidationError("not an erasure receipt (no 'receipt' object)")
    session.commit()
    checks = erasure.verify(runtime, document)
    return {"ok": all(c["ok"] for c in checks), "checks": checks}


@router.get(
    "/{receipt_id}",
    summary="One erasure receipt (the signed document)",
    response_model=ReceiptPublic,
    responses=error_responses(400, 401, 403, 404),
)
def get_erasure(
    receipt_id: TargetId, user: CurrentUser, session: SessionDep, runtime: RuntimeDep
) -> dict[str, Any]:
    row = receipts.get(session, receipt_id, org_id=_org_filter(session, user))
    return receipts.as_document(row, erasure.signer(runtime).public_key_hex)
