"""A document's typed fields: read them (with the proposals), set them, accept proposals, carry them over.

The schemas are data (``ged.field_schema``, ``ged/data/doctype_fields.json``); values live in
``Document.fields`` (sealed JSON at rest), proposals in ``Document.proposed_fields`` (``ged.proposals``).

- reading (``read_fields``) takes the caller's scope (a document out of scope is ``NotFoundError``) and
  computes the proposals when there are none for the current version and type (the first view of a new
  document or version: no hook in the upload path is needed);
- writing (``set_fields``, ``accept_proposals``) follows ``ged.editing.may_edit`` (owner, or contributor,
  curator or admin of the owning organisation), validates with the type's pydantic model (``FieldsError``,
  400, one French message per field), re-indexes the passages (their ``fields.<name>`` meta, for search
  filters) and records ``document.fields`` in the audit trail with the changed names, plus one
  ``document.field_change`` per changed field with keyed fingerprints of its old and new values (values
  may be sensitive: ``audit.fingerprint``, ``docs/decisions.md``); a read records ``document.fields_read``
  with the names of the fields shown;
- ``carry_over``: on a type change, the values of fields with the same name that are valid in the new
  type are kept, the others dropped (``ged.editing`` calls it and reports what was dropped).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ged.documents import get_document
from ged.editing import editable_document, may_edit
from ged.field_schema import FieldsError, TypeSchema, carry_over, notation_of, schema_for
from ged.models import Document, DocumentVersion
from ged.proposals import proposals_current, propose_fields
from ged.reindex import reindex_document
from search.backend import SearchBackend
from taxonomy.referential import Referential
from tfe.core.errors import NotFoundError, ValidationError
from tfe.core.models import User
from tfe.core.security import audit
from tfe.core.security.scope import AccessScope

__all__ = [
    "FieldsError",
    "FieldsView",
    "TypeSchema",
    "accept_proposals",
    "carry_over",
    "propose_fields",
    "read_fields",
    "schema_for",
    "set_fields",
]


@dataclass(frozen=True)
class FieldsView:
    """A document's field values and pending proposals, with French labels."""

    document_id: str
    doc_type: str | None
    schema: TypeSchema
    values: dict[str, Any]
    proposals: dict[str, Any]
    referential: Referential = field(repr=False)
    editable: bool = False
    dropped: dict[str, Any] = field(default_factory=dict)  # the last type change's removed values

    @property
    def missing(self) -> list[str]:
        return self.schema.missing(self.values)

    def rows(self) -> list[dict[str, Any]]:
        """One row per field of the type: name, label, value, display text, required, proposal."""
        out = []
        for spec in self.schema.fields:
            value = self.values.get(spec.name)
            proposal = self.proposals.get(spec.name)
            out.append(
                {
                    "name": spec.name,
                    "label": spec.label,
                    "type": spec.type,
                    "required": spec.required,
                    "multiple": spec.multiple,
                    "value": value,
                    "display": spec.display(value, self.referential) if value is not None else None,
                    "proposal": {**proposal, "display": spec.display(proposal["value"], self.referential)}
                    if proposal
                    else None,
                }
            )
        return out

    def dropped_rows(self) -> list[dict[str, Any]]:
        """The values the last type change removed, with their label in the old type."""
        old = schema_for(self.dropped.get("from"))
        out = []
        for name, value in (self.dropped.get("values") or {}).items():
            spec = old.field(name)
            label = spec.label if spec is not None else name
            shown = spec.display(value, self.referential) if spec is not None else str(value)
            out.append({"name": name, "label": label, "value": value, "display": shown})
        return out

    def as_dict(self) -> dict[str, Any]:
        rows = self.rows()
        return {
            "document_id": self.document_id,
            "doc_type": self.doc_type,
            "values": dict(self.values),
            "fields": [{k: v for k, v in r.items() if k != "proposal"} for r in rows],
            "missing": self.missing,
            "proposals": [
                {"name": r["name"], "label": r["label"], **r["proposal"]} for r in rows if r["proposal"]
            ],
            "editable": self.editable,
            "dropped": self.dropped_rows(),
        }


def _latest_number(session: Session, doc_id: str) -> int | None:
    return session.scalar(
        select(DocumentVersion.number)
        .where(DocumentVersion.document_id == doc_id)
        .order_by(DocumentVersion.number.desc())
        .limit(1)
    )


def _pending(document: Document, schema: TypeSchema) -> dict[str, Any]:
    """Stored proposals still worth showing: for a field of the type, not equal to its current value."""
    items = (document.proposed_fields or {}).get("items") or {}
    values = document.fields or {}
    return {
        name: p
        for name, p in items.items()
        if schema.field(name) is not None and isinstance(p, dict) and values.get(name) != p.get("value")
    }


def _view(document: Document, referential: Referential, user: User | None) -> FieldsView:
    schema = schema_for(document.doc_type)
    return FieldsView(
        document_id=document.id,
        doc_type=document.doc_type,
        schema=schema,
        values=dict(document.fields or {}),
        proposals=_pending(document, schema),
        referential=referential,
        editable=user is not None and may_edit(user, document),
        dropped=dict((document.proposed_fields or {}).get("dropped") or {}),
    )


def read_fields(
    session: Session,
    doc_id: str,
    scope: AccessScope,
    referential: Referential,
    *,
    user: User | None = None,
    channel: str,
    record: bool = True,
) -> FieldsView:
    """The fields of a document in ``scope``; proposals computed first if missing or stale.

    ``record``: audit the read as ``document.fields_read`` with the names of the fields that have a value
    (nothing is recorded for a type without fields).
    """
    get_document(session, doc_id, scope)  # the read rule of every document page (404 out of scope)
    document = session.get(Document, doc_id)
    if document is None:  # pragma: no cover - get_document raised already
        raise NotFoundError(f"unknown document {doc_id!r}")
    if not proposals_current(document, _latest_number(session, doc_id)):
        propose_fields(session, doc_id, referential)
        session.flush()
    view = _view(document, referential, user)
    if record and view.schema.fields:
        audit.record(
            session,
            "document.fields_read",
            audit.Actor.of_scope(scope, channel),
            target_kind="document",
            target_id=doc_id,
            detail={"fields": sorted(n for n, v in view.values.items() if v not in (None, "", []))},
        )
    return view


def _changes(old: dict[str, Any], new: dict[str, Any]) -> dict[str, list[Any]]:
    return {
        name: [old.get(name), new.get(name)]
        for name in sorted(set(old) | set(new))
        if old.get(name) != new.get(name)
    }


def _save(
    session: Session,
    backend: SearchBackend,
    referential: Referential,
    user: User,
    document: Document,
    new: dict[str, Any],
    *,
    channel: str,
    accepted: list[str] | None = None,
) -> FieldsView:
    changed = _changes(document.fields or {}, new)
    stored = document.proposed_fields or {}
    if "dropped" in stored:  # a person has now seen and saved the fields of the new type
        document.proposed_fields = {k: v for k, v in stored.items() if k != "dropped"}
    if changed:
        document.fields = new
        session.flush()
        reindex_document(session, backend, referential, document)
        detail: dict[str, Any] = {"fields": sorted(changed)}
        if accepted is not None:
            detail["accepted"] = accepted
        actor = audit.Actor.of_user(user, channel)
        audit.record(
            session, "document.fields", actor, target_kind="document", target_id=document.id, detail=detail
        )
        for name, (old, value) in changed.items():  # one event per field; values only as fingerprints
            audit.record(
                session,
                "document.field_change",
                actor,
                target_kind="document",
                target_id=document.id,
                detail={
                    "field": name,
                    "old": audit.fingerprint(session, old),
                    "new": audit.fingerprint(session, value),
                },
            )
    return _view(document, referential, user)


def set_fields(
    session: Session,
    user: User,
    doc_id: str,
    values: dict[str, Any],
    *,
    backend: SearchBackend,
    referential: Referential,
    channel: str,
) -> FieldsView:
    """Replace the document's field values by ``values`` (validated in full: required fields included).

    ``NotFoundError`` out of scope, ``PermissionDeniedError`` without the right to edit, ``FieldsError``
    for invalid values; nothing changes unless every value is valid.
    """
    document = editable_document(session, doc_id, user)
    schema = schema_for(document.doc_type)
    if not schema.fields:
        raise ValidationError(
            f"the document type {notation_of(document.doc_type) or '(none)'!r} has no fields"
        )
    clean = schema.validate(values, referential)
    return _save(session, backend, referential, user, document, clean, channel=channel)


def accept_proposals(
    session: Session,
    user: User,
    doc_id: str,
    names: list[str] | None,
    *,
    backend: SearchBackend,
    referential: Referential,
    channel: str,
) -> FieldsView:
    """Make the pending proposals of ``names`` (all of them for ``None``) the document's values.

    Checked like ``set_fields`` but partially (a required field still empty does not block accepting
    another one); ``ValidationError`` when a name has no pending proposal.
    """
    document = editable_document(session, doc_id, user)
    if not proposals_current(document, _latest_number(session, doc_id)):
        propose_fields(session, doc_id, referential)
    schema = schema_for(document.doc_type)
    pending = _pending(document, schema)
    wanted = list(pending) if names is None else list(dict.fromkeys(names))
    unknown = [n for n in wanted if n not in pending]
    if unknown:
        raise ValidationError(f"no pending proposal for {', '.join(unknown)}")
    if not wanted:
        raise ValidationError("no pending proposal to accept")
    merged = {**(document.fields or {}), **{n: pending[n]["value"] for n in wanted}}
    clean = schema.validate(merged, referential, partial=True)
    return _save(session, backend, referential, user, document, clean, channel=channel, accepted=wanted)
