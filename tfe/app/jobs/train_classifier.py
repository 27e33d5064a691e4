"""Retraining the learned classifier of a scheme from the installation's decisions (issue 10 §5).

Examples: curator rows and the classifications of validated documents (``taxonomy.examples``), with the
text of their document (title and latest version's text) or watch item (title, summary, text), plus the
scheme's seed examples. The model is written atomically to ``<data dir>/models/<scheme>.npz``; the
ingestion classifier picks it up at its next item (the file's time changed). The ``retrain_classifier``
Huey job (``tfe.app.jobs.tasks``) and ``tfe taxonomy train`` both call ``retrain``.
"""

from __future__ import annotations

import logging
import time
from typing import TYPE_CHECKING, Any

import numpy as np
from sqlalchemy import select

from taxonomy.examples import decision_examples
from taxonomy.learned import load
from taxonomy.training import model_path, train_scheme

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from tfe.app.runtime import Runtime

__all__ = ["retrain", "target_text", "validated_documents"]

log = logging.getLogger(__name__)


def target_text(session: Session, kind: str, target_id: str) -> tuple[str, str] | None:
    """(title, text) of a document (latest version) or a watch item; None when gone or deleted."""
    if kind == "document":
        from ged.models import Document, DocumentVersion

        doc = session.get(Document, target_id)
        if doc is None or doc.deleted_at is not None:
            return None
        version = session.scalars(
            select(DocumentVersion)
            .where(DocumentVersion.document_id == target_id)
            .order_by(DocumentVersion.number.desc())
            .limit(1)
        ).first()
        return doc.title or "", (version.text or "") if version is not None else ""
    if kind == "item":
        from veille.models import Item

        item = session.get(Item, target_id)
        if item is None:
            return None
        return item.title or "", "\n".join(t for t in (item.summary, item.text) if t)
    return None


def validated_documents(session: Session) -> list[tuple[str, str]]:
    """(``document``, id) of every validated document not in the trash."""
    from ged.models import Document

    ids = session.scalars(
        select(Document.id).where(Document.status == "validated", Document.deleted_at.is_(None))
    )
    return [("document", i) for i in ids]


def retrain(rt: Runtime, scheme: str = "naf") -> dict[str, Any]:
    """Train the scheme's model on the decisions and seeds, write it, and report (counts, seconds)."""
    started = time.perf_counter()
    ref = rt.referential
    with rt.session() as session:
        decisions = decision_examples(
            session,
            ref,
            scheme,
            lambda k, i: target_text(session, k, i),
            validated=validated_documents(session),
        )
    path = model_path(rt.settings.resolved_data_dir, scheme)
    if not decisions:  # nothing learned from people: the zero-shot classifier (seed model) applies
        path.unlink(missing_ok=True)
        return {
            "scheme": scheme,
            "path": str(path),
            "trained": False,
            "decisions": 0,
            "curator": 0,
            "validated": 0,
            "examples": 0,
            "seconds": round(time.perf_counter() - started, 2),
        }
    embedder = rt.embedder

    def embed(texts: list[str]) -> np.ndarray:
        return np.vstack([embedder.query(t) for t in texts]) if texts else np.zeros((0, embedder.dim))

    model = train_scheme(ref, scheme, decisions, embed, previous=load(path))
    model.save(path)
    report = {
        "scheme": scheme,
        "path": str(path),
        "trained": True,
        "decisions": model.decisions,
        "curator": sum(e.kind == "curator" for e in decisions),
        "validated": sum(e.kind == "validated" for e in decisions),
        "examples": len(model.examples),
        "classes": len(model.classes),
        "temperature": model.temperature,
        "embedded": model.info.get("embedded", 0),
        "seconds": round(time.perf_counter() - started, 2),
    }
    log.info("classifier retrained %s", report)
    return report
