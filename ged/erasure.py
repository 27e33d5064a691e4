"""Erasure (GDPR) of GED documents: crypto-shredding, rows, index entries, an audit tombstone, a receipt.

``erase_documents`` erases a set of documents in four steps, each idempotent, so an erasure interrupted
half-way is finished by running it again (the document rows go last, with the receipt):

1. **facts**: what the receipt will name, read before anything goes: every version's number, content hash
   (the SHA-256 of its bytes as recorded at upload), blob key and size, the documents' data key ids;
2. **index**: the documents' passages leave the search index, segments merged so that no term of theirs
   remains (``backend.erase_parents``; ``delete_parent`` + ``commit`` on a backend without it);
3. **blobs**: ``BlobStore.shred(owner)`` destroys each document's data key (through the vault) and its
   sealed blob files, so every copy of the content, backups included, is unreadable; a legacy blob
   (content-addressed, written before encryption at rest) is deleted when no other version names its key;
4. **rows**, in one transaction: classifications, lifecycle transitions, near-duplicate links (both
   directions), versions, the sealed passage texts, ingest records naming the document, leftover data key
   rows, the documents; then ``forget`` (the composition layer's watch-side cleanup: deliveries and alert
   messages quoting the documents, ``veille.alerts.erasure``), the ``erasure`` audit event (a tombstone:
   ids, hashes and counts, no content) and the signed receipt (``ged.receipts``).

Past audit events about a document are not rewritten: the audit trail is a hash chain, and a rewritten
row would break it (see ``docs/decisions.md``, « Erasure keeps past audit events »). They hold ids and, for
uploads and downloads, the file name and size; the tombstone says how many there are.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import delete, func, or_, select
from sqlalchemy.orm import Session, sessionmaker

from ged import receipts
from ged.blobs import BlobStore
from ged.models import Document, DocumentSimilarity, DocumentTransition, DocumentVersion
from ingest.models import IngestRecord
from search.backend import SearchBackend
from search.models import PassageText
from taxonomy.models import Classification
from tfe.core.crypto.models import DataKey
from tfe.core.db import session_scope, utcnow
from tfe.core.errors import NotFoundError, ValidationError
from tfe.core.models import AuditEvent
from tfe.core.security import audit

log = logging.getLogger(__name__)

__all__ = [
    "DocumentFacts",
    "Forget",
    "already_erased_message",
    "collect_facts",
    "erase_document",
    "erase_documents",
    "erase_index",
    "shred_blobs",
]

KIND = "document"
# the watch-side cleanup the composition layer passes in: (session, target kind, ids) -> counts
Forget = Callable[[Session, str, list[str]], dict[str, int]]


@dataclass
class DocumentFacts:
    """What a receipt names about one erased document (no content)."""

    id: str
    org_id: int | None
    versions: list[dict[str, Any]] = field(default_factory=list)  # number, content_hash, blob_key, size
    data_key_ids: list[str] = field(default_factory=list)
    passage_ids: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "org_id": self.org_id,
            "version_count": len(self.versions),
            "versions": self.versions,
            "content_hashes": sorted({v["content_hash"] for v in self.versions}),
            "blob_keys": sorted({v["blob_key"] for v in self.versions}),
            "data_key_ids": self.data_key_ids,
            "passages": len(self.passage_ids),
        }


def already_erased_message(kind: str, target_id: str, receipt_id: str) -> str:
    what = "document" if kind == "document" else "organisation"
    return f"{what} {target_id} déjà effacé (reçu {receipt_id})"


def collect_facts(session: Session, doc_ids: Iterable[str]) -> list[DocumentFacts]:
    """The facts of each document (``NotFoundError`` for an unknown one, ``déjà effacé`` if erased)."""
    out = []
    for doc_id in dict.fromkeys(doc_ids):
        document = session.get(Document, doc_id)
        if document is None:
            done = receipts.find_erased(session, KIND, doc_id)
            if done is not None:
                raise NotFoundError(already_erased_message(KIND, doc_id, done.id))
            raise NotFoundError(f"document inconnu : {doc_id}")
        versions = session.scalars(
            select(DocumentVersion)
            .where(DocumentVersion.document_id == doc_id)
            .order_by(DocumentVersion.number, DocumentVersion.id)
        )
        facts = DocumentFacts(doc_id, document.org_id)
        facts.versions = [
            {"number": v.number, "content_hash": v.content_hash, "blob_key": v.blob_key, "size": v.size}
            for v in versions
        ]
        facts.data_key_ids = sorted(
            session.scalars(select(DataKey.id).where(DataKey.owner_kind == KIND, DataKey.owner_id == doc_id))
        )
        facts.passage_ids = sorted(
            session.scalars(select(PassageText.id).where(PassageText.parent_id == doc_id))
        )
        out.append(facts)
    return out


def erase_index(backend: SearchBackend, parent_ids: list[str]) -> dict[str, int]:
    """Remove the parents' passages so that no term of theirs remains (``SearchBackend.erase_parents``)."""
    if not parent_ids:
        return {"index_entries": 0}
    result = backend.erase_parents(list(parent_ids))
    counts = {"index_entries": int(result.get("passages", 0))}
    counts.update({f"index_{k}": int(v) for k, v in result.items() if isinstance(v, int | bool)})
    return counts


def shred_blobs(session: Session, blob_store: BlobStore, facts: list[DocumentFacts]) -> dict[str, int]:
    """Destroy each document's data key and sealed blobs; delete unshared legacy blobs."""
    erased = {f.id for f in facts}
    shredded = sum(blob_store.shred(f.id) for f in facts)
    legacy = 0
    for key in sorted({v["blob_key"] for f in facts for v in f.versions}):
        shared = session.scalar(
            select(func.count())
            .select_from(DocumentVersion)
            .where(DocumentVersion.blob_key == key, DocumentVersion.document_id.not_in(erased))
        )
        if shared:
            continue
        try:
            legacy += int(bool(blob_store.delete(key)))
        except ValidationError:  # not a key of this store's layouts: nothing to delete
            log.debug("blob key %s is not a legacy blob key", key)
    return {"blobs_shredded": shredded, "legacy_blobs_deleted": legacy}


def _delete(session: Session, stmt: Any) -> int:
    return int(session.execute(stmt).rowcount or 0)  # type: ignore[attr-defined]


def delete_rows(session: Session, doc_ids: list[str]) -> dict[str, int]:
    """Delete every row that names the documents (the caller's transaction)."""
    counts = {
        "classifications": _delete(
            session,
            delete(Classification).where(
                Classification.target_kind == KIND, Classification.target_id.in_(doc_ids)
            ),
        ),
        "transitions": _delete(
            session, delete(DocumentTransition).where(DocumentTransition.document_id.in_(doc_ids))
        ),
        "similarities": _delete(
            session,
            delete(DocumentSimilarity).where(
                or_(DocumentSimilarity.document_id.in_(doc_ids), DocumentSimilarity.similar_id.in_(doc_ids))
            ),
        ),
        "passage_texts": _delete(session, delete(PassageText).where(PassageText.parent_id.in_(doc_ids))),
        "ingest_records": _delete(
            session,
            delete(IngestRecord).where(IngestRecord.target_kind == KIND, IngestRecord.target_id.in_(doc_ids)),
        ),
        "data_key_rows": _delete(
            session, delete(DataKey).where(DataKey.owner_kind == KIND, DataKey.owner_id.in_(doc_ids))
        ),
        "versions": _delete(session, delete(DocumentVersion).where(DocumentVersion.document_id.in_(doc_ids))),
        "documents": _delete(session, delete(Document).where(Document.id.in_(doc_ids))),
    }
    return counts


def _audit_mentions(session: Session, doc_ids: list[str]) -> int:
    return int(
        session.scalar(
            select(func.count())
            .select_from(AuditEvent)
            .where(AuditEvent.target_kind == KIND, AuditEvent.target_id.in_(doc_ids))
        )
        or 0
    )


def erase_documents(
    session_factory: sessionmaker[Session],
    backend: SearchBackend,
    blob_store: BlobStore,
    doc_ids: list[str],
    *,
    actor: audit.Actor,
    reason: str,
    signer: receipts.Signer | None = None,
    forget: Forget | None = None,
    target: dict[str, Any] | None = None,
    installation: dict[str, Any] | None = None,
    extra: Callable[[Session], dict[str, int]] | None = None,
    item_ids: list[str] | None = None,
    user_ids: list[int] | None = None,
    now: dt.datetime | None = None,
) -> dict[str, Any]:
    """Erase ``doc_ids`` (see the module docstring); the signed receipt document (or, without a signer,
    the unsigned one: ``{"receipt": ..., "signature": None}``).

    ``target`` names what was asked for (default: the one document); ``extra`` runs more deletions in the
    rows' transaction (an organisation's accounts and sources) and adds its counts to the receipt;
    ``item_ids`` and ``user_ids`` (an organisation's watch items and accounts) are named in the receipt.
    """
    with session_scope(session_factory) as session:
        facts = collect_facts(session, doc_ids)
    ids = [f.id for f in facts]
    counts: dict[str, int] = {}
    counts.update(erase_index(backend, ids + sorted(item_ids or [])))  # one pass: a merge each costs
    with session_scope(session_factory) as session:
        counts.update(shred_blobs(session, blob_store, facts))
    when = now or utcnow()
    target = target or {"kind": KIND, "id": ids[0] if len(ids) == 1 else ",".join(ids)}
    with session_scope(session_factory) as session:
        mentions = _audit_mentions(session, ids)
        counts.update(delete_rows(session, ids))
        if forget is not None:
            counts.update(forget(session, KIND, ids))
        if extra is not None:
            counts.update(extra(session))
        receipt: dict[str, Any] = {
            "format": receipts.FORMAT_VERSION,
            "id": receipts.new_receipt_id(),
            "kind": target["kind"],
            "target": target,
            "org_id": target.get("org_id", facts[0].org_id if len(facts) == 1 else None),
            "reason": reason,
            "erased_at": when.astimezone(dt.UTC).isoformat(timespec="seconds"),
            "erased_by": {"user_id": actor.user_id, "org_id": actor.org_id, "channel": actor.channel},
            "installation": {**(installation or {}), "public_key": signer.public_key_hex if signer else None},
            "documents": [f.as_dict() for f in facts],
            "item_ids": sorted(item_ids or []),
            "user_ids": sorted(user_ids or []),
            "counts": {**counts, "audit_events_kept": mentions},
        }
        audit.record(
            session,
            "erasure",
            actor,
            target_kind=target["kind"],
            target_id=str(target["id"])[:64],
            detail={
                "receipt": receipt["id"],
                "documents": ids,
                "content_hashes": sorted({h for f in facts for h in f.as_dict()["content_hashes"]}),
                "counts": receipt["counts"],
            },
        )
        if signer is None:
            return {"receipt": receipt, "signature": None}
        document = receipts.sign(receipt, signer)
        receipts.store(session, document, created_by_user_id=actor.user_id)
    return document


def erase_document(
    session_factory: sessionmaker[Session],
    backend: SearchBackend,
    blob_store: BlobStore,
    doc_id: str,
    *,
    actor: audit.Actor,
    reason: str,
    signer: receipts.Signer | None = None,
    forget: Forget | None = None,
    installation: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Erase one document (``erase_documents``); ``NotFoundError`` if unknown or already erased.

    The trash purge and the admin commands call it through ``tfe.app.erasure.erase_document``, which
    passes the operator's signer, the installation and the watch-side ``forget``.
    """
    return erase_documents(
        session_factory,
        backend,
        blob_store,
        [doc_id],
        actor=actor,
        reason=reason,
        signer=signer,
        forget=forget,
        installation=installation,
    )
