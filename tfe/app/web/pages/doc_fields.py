"""``/documents/{id}/champs``: edit a document's typed fields; ``/documents/{id}/champs/accepter``: accept
one proposal (``name``) or all of them.

Plain forms (no JavaScript) with the session's CSRF token, over the use cases of the API
(``ged.fields.set_fields``, ``accept_proposals``). Invalid values come back next to their field, in
French, with what was typed kept (400). A concept field takes codes or names (``DE``, ``Allemagne``;
several separated by commas for a list field).
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from ged.field_schema import FieldsError, FieldSpec, TypeSchema, schema_for
from ged.fields import accept_proposals, set_fields
from tfe.app.runtime import Runtime
from tfe.app.web.deps import PageUser, RuntimeDep, SessionDep, TargetId, csrf_token, csrf_valid
from tfe.app.web.pages.doc_panels.fields import NOTICE_KEY
from tfe.app.web.pages.document_edit import editable_fr, split_names
from tfe.app.web.templating import templates
from tfe.core.errors import PermissionDeniedError, ValidationError
from tfe.core.models import User
from tfe.core.security import audit

router = APIRouter(tags=["pages"], include_in_schema=False)

MAX_FORM_FIELDS = 60
EXPIRED = "Votre session a expiré : veuillez réessayer."


def _editable(session: Session, doc_id: str, user: User) -> Any:
    return editable_fr(session, doc_id, user, "les champs de ce document")


def _shown(spec: FieldSpec, value: Any, runtime: Runtime) -> str:
    """A stored value as the form shows it (concepts by their French name, lists comma-separated)."""
    if value is None:
        return ""
    if isinstance(value, list):
        return ", ".join(_shown(spec, v, runtime) for v in value)
    if spec.type == "concept":
        concept = runtime.referential.get(str(value))
        return concept.label("fr") if concept is not None else str(value)
    if spec.type == "boolean":
        return "true" if value else "false"
    return str(value)


def _form_page(
    request: Request,
    runtime: Runtime,
    user: User,
    document: Any,
    schema: TypeSchema,
    typed: dict[str, str],
    errors: dict[str, str],
    status_code: int = 200,
) -> Response:
    label = runtime.referential.label(schema.concept_id) if schema.concept_id in runtime.referential else ""
    context = {
        "user": user,
        "csrf": csrf_token(request),
        "doc": document,
        "type_label": label or schema.notation,
        "fields": schema.fields,
        "typed": typed,
        "errors": errors,
        "general": errors.get(""),
    }
    return templates.TemplateResponse(request, "doc_fields_form.html", context, status_code=status_code)


def _notice(request: Request, text: str, kind: str = "success") -> None:
    request.session[NOTICE_KEY] = {"kind": kind, "text": text}


@router.get("/documents/{doc_id}/champs")
def fields_form(
    request: Request, session: SessionDep, user: PageUser, runtime: RuntimeDep, doc_id: TargetId
) -> Response:
    document = _editable(session, doc_id, user)
    schema = schema_for(document.doc_type)
    if not schema.fields:
        raise ValidationError("Ce type de document n'a pas de champs à renseigner.")
    values = document.fields or {}
    typed = {f.name: _shown(f, values.get(f.name), runtime) for f in schema.fields}
    audit.record(  # the form shows the current values: a read of those fields
        session,
        "document.fields_read",
        audit.Actor.of_user(user, "web"),
        target_kind="document",
        target_id=doc_id,
        detail={"fields": sorted(n for n, v in values.items() if v not in (None, "", [])), "form": True},
    )
    return _form_page(request, runtime, user, document, schema, typed, {})


def _values(schema: TypeSchema, typed: dict[str, str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for spec in schema.fields:
        raw = typed.get(spec.name, "").strip()
        if spec.multiple:
            out[spec.name] = list(split_names(raw))
        elif raw:
            out[spec.name] = raw
    return out


def _save(
    session: Session, runtime: Runtime, user: User, doc_id: str, schema: TypeSchema, typed: dict[str, str]
) -> dict[str, str] | None:
    """The errors per field, or ``None`` when saved."""
    try:
        set_fields(
            session,
            user,
            doc_id,
            _values(schema, typed),
            backend=runtime.backend,
            referential=runtime.referential,
            channel="web",
        )
    except FieldsError as exc:
        session.rollback()
        return {e["field"]: e["message"] for e in exc.errors}
    return None


@router.post("/documents/{doc_id}/champs")
async def fields_submit(
    request: Request, session: SessionDep, user: PageUser, runtime: RuntimeDep, doc_id: TargetId
) -> Response:
    document = await run_in_threadpool(_editable, session, doc_id, user)  # 404 / 403 first
    schema = schema_for(document.doc_type)
    form = await request.form(max_files=0, max_fields=MAX_FORM_FIELDS)
    typed = {f.name: str(form.get(f"f_{f.name}") or "")[:2000] for f in schema.fields}
    if not csrf_valid(request, str(form.get("csrf") or "")):
        return _form_page(request, runtime, user, document, schema, typed, {"": EXPIRED}, 400)
    errors = await run_in_threadpool(_save, session, runtime, user, doc_id, schema, typed)
    if errors:
        return _form_page(request, runtime, user, document, schema, typed, errors, 400)
    _notice(request, "Champs enregistrés.")
    return RedirectResponse(f"/documents/{doc_id}#champs", status_code=303)


@router.post("/documents/{doc_id}/champs/accepter")
async def accept_submit(
    request: Request, session: SessionDep, user: PageUser, runtime: RuntimeDep, doc_id: TargetId
) -> Response:
    document = await run_in_threadpool(_editable, session, doc_id, user)
    form = await request.form(max_files=0, max_fields=5)
    if not csrf_valid(request, str(form.get("csrf") or "")):
        raise PermissionDeniedError(EXPIRED)
    name = str(form.get("name") or "").strip()[:64]
    schema = schema_for(document.doc_type)
    spec = schema.field(name) if name else None

    def accept() -> None:
        accept_proposals(
            session,
            user,
            doc_id,
            [name] if name else None,
            backend=runtime.backend,
            referential=runtime.referential,
            channel="web",
        )

    try:
        await run_in_threadpool(accept)
    except FieldsError as exc:
        session.rollback()
        _notice(request, "Proposition refusée : " + " ; ".join(e["message"] for e in exc.errors), "error")
    except ValidationError:
        session.rollback()
        _notice(request, "Cette proposition n'est plus en attente.", "error")
    else:
        text = f"Proposition acceptée : {spec.label}." if spec else "Propositions acceptées."
        _notice(request, text)
    return RedirectResponse(f"/documents/{doc_id}#champs", status_code=303)
