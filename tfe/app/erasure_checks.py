"""The store checks of ``tfe erase verify``: nothing a receipt names is left anywhere.

Each check reads one store and answers ``{"check": name, "ok": bool, "detail": str}``: the documents and
their versions, classifications, lifecycle transitions and near-duplicate links, the sealed passage texts,
the blob files, the data keys, the search index entries, the watch's deliveries; for an organisation also
its items and accounts. A legacy blob (content-addressed) that another, live version still names is
shared content of another document: it passes, with the count in the detail.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from ged.models import Document, DocumentSimilarity, DocumentTransition, DocumentVersion
from search.models import PassageText
from taxonomy.models import Classification
from tfe.core.crypto.models import DataKey
from tfe.core.errors import ValidationError
from tfe.core.models import ApiToken, IndicatorUserBucket, SurveyResponse, User
from veille.alerts.models import Delivery
from veille.models import Item

__all__ = ["store_checks"]

PROBE_EXTRA = 8  # passage positions probed beyond the count a receipt names


def _check(name: str, left: int, what: str) -> dict[str, Any]:
    return {
        "check": name,
        "ok": left == 0,
        "detail": f"no {what} left" if left == 0 else f"{left} {what} still present",
    }


def _count(session: Session, stmt: Any) -> int:
    return int(session.scalar(select(func.count()).select_from(stmt.subquery())) or 0)


def _blob_check(session: Session, blob_store: Any, docs: list[dict[str, Any]]) -> dict[str, Any]:
    """No blob file of the receipt's keys, nor any file in the documents' sealed-blob folders."""
    ids = [d["id"] for d in docs]
    left = shared = 0
    for key in sorted({k for d in docs for k in d.get("blob_keys", [])}):
        try:
            path = blob_store.path(key)
        except ValidationError:  # a key this store does not know cannot have a file
            continue
        if "." in key:  # sealed "<owner>.<random>": its folder holds every blob of the owner
            left += sum(1 for p in path.parent.iterdir() if p.is_file()) if path.parent.is_dir() else 0
            continue
        if not path.exists():
            continue
        live = session.scalar(
            select(func.count())
            .select_from(DocumentVersion)
            .where(DocumentVersion.blob_key == key, DocumentVersion.document_id.not_in(ids))
        )
        if live:
            shared += 1
        else:
            left += 1
    result = _check("blobs", left, "blob files")
    if shared and result["ok"]:
        result["detail"] += f" ({shared} legacy blob(s) kept: the same bytes belong to another document)"
    return result


def _index_left(backend: Any, parents: list[str], passages: dict[str, int]) -> int:
    counter = getattr(backend, "count_parents", None)
    if callable(counter):
        return int(counter(parents))
    getter = getattr(backend, "get", None)
    if not callable(getter):
        return 0
    probe = [f"{p}:{i}" for p in parents for i in range(passages.get(p, 0) + PROBE_EXTRA)]
    return len(getter(probe)) if probe else 0


def store_checks(
    session: Session, backend: Any, blob_store: Any, receipt: dict[str, Any]
) -> list[dict[str, Any]]:
    """The checks of ``receipt`` (already signature-checked) against the stores."""
    docs: list[dict[str, Any]] = list(receipt.get("documents") or [])
    doc_ids = [str(d["id"]) for d in docs]
    item_ids = [str(i) for i in receipt.get("item_ids") or []]
    parents = doc_ids + item_ids
    key_ids = [k for d in docs for k in d.get("data_key_ids", [])]
    checks = [
        _check(
            "documents", _count(session, select(Document.id).where(Document.id.in_(doc_ids))), "documents"
        ),
        _check(
            "versions",
            _count(session, select(DocumentVersion.id).where(DocumentVersion.document_id.in_(doc_ids))),
            "versions",
        ),
        _check(
            "classifications",
            _count(session, select(Classification.id).where(Classification.target_id.in_(parents))),
            "classifications",
        ),
        _check(
            "lifecycle",
            _count(session, select(DocumentTransition.id).where(DocumentTransition.document_id.in_(doc_ids)))
            + _count(
                session,
                select(DocumentSimilarity.id).where(
                    or_(
                        DocumentSimilarity.document_id.in_(doc_ids),
                        DocumentSimilarity.similar_id.in_(doc_ids),
                    )
                ),
            ),
            "transitions or near-duplicate links",
        ),
        _check(
            "passages",
            _count(session, select(PassageText.id).where(PassageText.parent_id.in_(parents))),
            "passage texts",
        ),
        _blob_check(session, blob_store, docs),
        _check(
            "data_keys",
            _count(
                session,
                select(DataKey.id).where(
                    or_(
                        DataKey.id.in_(key_ids),
                        DataKey.owner_kind.in_(("document", "item")) & DataKey.owner_id.in_(parents),
                    )
                ),
            ),
            "data keys",
        ),
        _check(
            "index",
            _index_left(backend, parents, {str(d["id"]): int(d.get("passages") or 0) for d in docs}),
            "index entries",
        ),
        _check(
            "deliveries",
            _count(
                session,
                select(Delivery.id).where(
                    Delivery.target_kind == "document", Delivery.target_id.in_(doc_ids)
                ),
            ),
            "alert deliveries",
        ),
    ]
    if receipt.get("kind") == "organisation":
        org_id = receipt.get("org_id")
        checks.append(_check("items", _count(session, select(Item.id).where(Item.id.in_(item_ids))), "items"))
        checks.append(
            _check(
                "accounts",
                _count(
                    session,
                    select(User.id).where(
                        User.org_id == org_id, or_(User.active.is_(True), User.password_hash.is_not(None))
                    ),
                )
                + _count(
                    session,
                    select(ApiToken.id)
                    .join(User, User.id == ApiToken.user_id)
                    .where(User.org_id == org_id, ApiToken.revoked_at.is_(None)),
                ),
                "active accounts or tokens",
            )
        )
        per_account: tuple[tuple[str, Any, str], ...] = (
            ("indicator_rollups", IndicatorUserBucket, "indicator roll-up rows of its accounts"),
            ("survey_responses", SurveyResponse, "satisfaction survey answers of its accounts"),
        )
        for name, model, what in per_account:  # rows kept per person, of the organisation's accounts
            rows = select(model.id).join(User, User.id == model.user_id).where(User.org_id == org_id)
            checks.append(_check(name, _count(session, rows), what))
    return checks
