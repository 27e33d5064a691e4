"""Typed document types: the field schemas and a document's field values (``ged.fields``).

- ``GET /api/doctypes``, ``GET /api/doctypes/{notation}``: each document type of the referential in force
  with its fields (French labels, allowed values); a type without fields lists none.
- ``GET /api/documents/{id}/fields``: values, required fields still empty, pending proposals (computed
  on first read of a version; never applied by themselves); audited ``document.fields_read`` (field names).
- ``PUT /api/documents/{id}/fields`` (every value; validated in full) and
  ``POST /api/documents/{id}/fields/accept`` (some or all proposals): the editing rule of the document
  (``ged.editing.may_edit``), re-indexed at once, audited as ``document.fields`` and one
  ``document.field_change`` per changed field (fingerprints of the values). Invalid values answer
  400 with one French message per field in ``error.fields``.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Annotated, Any

from fastapi import APIRouter, Path
from fastapi.responses import JSONResponse
from sqlalchemy.orm import Session

from ged.field_schema import FieldsError, notation_of, schema_for
from ged.fields import FieldsView, accept_proposals, read_fields, set_fields
from taxonomy.referential import Referential
from tfe.app.web.deps import CurrentUser, RuntimeDep, ScopeDep, SessionDep, TargetId
from tfe.app.web.errors import error_body, error_responses
from tfe.app.web.schemas.doctype_fields import (
    AcceptProposals,
    DocTypePublic,
    DocTypesPublic,
    DocumentFieldsPublic,
    FieldsUpdate,
)
from tfe.core.errors import NotFoundError

router = APIRouter(prefix="/api", tags=["documents"])

INVALID_FIELDS = (
    "Invalid values answer 400 `invalid` with, besides `error.code` and `error.message`, `error.fields`: "
    'one `{"field", "message"}` per problem, the message in French (e.g. `{"field": "currency", '
    '"message": "valeur non autorisée : XYZ (autorisées : EUR, USD, …)"}`).'
)


def _doctype(referential: Referential, notation: str) -> dict[str, Any]:
    schema = schema_for(notation)
    return schema.as_dict(referential.label(schema.concept_id) if schema.concept_id in referential else None)


def _public(view: FieldsView, referential: Referential) -> DocumentFieldsPublic:
    body = view.as_dict()
    doc_type = view.doc_type
    ref = None
    if doc_type:
        ref = {"id": doc_type, "label": referential.label(doc_type) if doc_type in referential else doc_type}
    return DocumentFieldsPublic.model_validate({**body, "doc_type": ref})


def _written(session: Session, referential: Referential, write: Callable[[], FieldsView]) -> Any:
    """The fields after ``write``; invalid values roll back and answer 400 with ``error.fields``."""
    try:
        view = write()
    except FieldsError as exc:
        session.rollback()
        body = error_body(exc.code, exc.message)
        body["error"]["fields"] = exc.errors
        return JSONResponse(body, status_code=exc.http_status)
    return _public(view, referential)


@router.get("/doctypes", summary="Document types and their typed fields", responses=error_responses(401))
def list_doctypes(runtime: RuntimeDep, user: CurrentUser) -> DocTypesPublic:
    referential = runtime.referential
    concepts = sorted(referential.concepts("doctype"), key=lambda c: c.notation)
    types = [DocTypePublic.model_validate(_doctype(referential, c.notation)) for c in concepts]
    return DocTypesPublic(types=types)


@router.get(
    "/doctypes/{notation}",
    summary="One document type and its typed fields",
    responses=error_responses(400, 401, 404),
)
def get_doctype(
    runtime: RuntimeDep, user: CurrentUser, notation: Annotated[str, Path(min_length=1, max_length=80)]
) -> DocTypePublic:
    referential = runtime.referential
    name = notation_of(notation)
    if f"doctype:{name}" not in referential:
        raise NotFoundError(f"unknown document type {notation!r}")
    return DocTypePublic.model_validate(_doctype(referential, name))


@router.get(
    "/documents/{doc_id}/fields",
    summary="A document's typed field values and pending proposals",
    responses=error_responses(400, 401, 404),
)
def get_fields(
    doc_id: TargetId, runtime: RuntimeDep, session: SessionDep, user: CurrentUser, scope: ScopeDep
) -> DocumentFieldsPublic:
    referential = runtime.referential
    view = read_fields(session, doc_id, scope, referential, user=user, channel="api")
    return _public(view, referential)


@router.put(
    "/documents/{doc_id}/fields",
    summary="Replace a document's typed field values (validated, re-indexed, audited)",
    description=INVALID_FIELDS,
    responses=error_responses(400, 401, 403, 404),
    response_model=DocumentFieldsPublic,
)
def put_fields(
    doc_id: TargetId, body: FieldsUpdate, runtime: RuntimeDep, session: SessionDep, user: CurrentUser
) -> Any:
    referential = runtime.referential
    write = partial(
        set_fields,
        session,
        user,
        doc_id,
        body.values,
        backend=runtime.backend,
        referential=referential,
        channel="api",
    )
    return _written(session, referential, write)


@router.post(
    "/documents/{doc_id}/fields/accept",
    summary="Accept pending field proposals (some or all) as the document's values",
    description=INVALID_FIELDS,
    responses=error_responses(400, 401, 403, 404),
    response_model=DocumentFieldsPublic,
)
def accept_fields(
    doc_id: TargetId, body: AcceptProposals, runtime: RuntimeDep, session: SessionDep, user: CurrentUser
) -> Any:
    referential = runtime.referential
    write = partial(
        accept_proposals,
        session,
        user,
        doc_id,
        body.names,
        backend=runtime.backend,
        referential=referential,
        channel="api",
    )
    return _written(session, referential, write)
