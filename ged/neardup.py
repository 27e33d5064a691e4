"""Near-duplicate documents: a MinHash of the text's word 5-grams, compared at upload, never merged.

``signature`` folds the extracted text (lower case, accents removed), cuts it into words and hashes its
word 5-grams (shingles) with datasketch's MinHash (``NUM_PERM`` permutations, scheme ``affine32``, seed 1:
signatures of another scheme cannot be compared, so a change here means recomputing
``DocumentVersion.minhash``). The stored value is one format byte then ``NUM_PERM`` little-endian uint32.

``record_similar`` is called after a new document or version is stored: it computes the version's
signature from its stored text, scans the current versions of the documents the caller may see (the
scope is a clause of the SQL query, as for exact duplicates in ``ged.sink``), and records a
``DocumentSimilarity`` row for each whose estimated Jaccard similarity reaches the threshold. A scan of
10,000 signatures is a few milliseconds of numpy; no LSH index to keep (see docs/benchmarks.md).
Nothing is merged: the uploader and the curators are told, and decide.

Reads (``similar_to``, ``similar_list``) apply the reader's scope to both documents of a row.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from dataclasses import dataclass
from typing import Any

import numpy as np
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session, aliased

from ged.models import Document, DocumentSimilarity, DocumentVersion
from tfe.core.security.scope import AccessScope

__all__ = [
    "DEFAULT_THRESHOLD",
    "NUM_PERM",
    "SHINGLE_WORDS",
    "SimilarPair",
    "SimilarRef",
    "estimate",
    "record_similar",
    "signature",
    "similar_list",
    "similar_to",
]

DEFAULT_THRESHOLD = 0.8  # estimated Jaccard of word 5-grams (setting ``near_duplicate_threshold``)
SHINGLE_WORDS = 5
NUM_PERM = 128  # estimate's standard error at J = 0.8: sqrt(0.8 * 0.2 / 128) = 0.035
MIN_SHINGLES = 8  # shorter texts (about a dozen words) get no signature: too little to compare
MAX_WORDS = 30_000  # words of a long text that are shingled (its first ~60 pages: ~0.25 s)
MAX_REPORTED = 10  # similar documents recorded per version, best first
MINHASH_SCHEME = "affine32"
_FORMAT = b"\x01"  # first byte of a stored signature (format 1: affine32, NUM_PERM uint32 LE)
_WORD = re.compile(r"\w+")


@dataclass(frozen=True)
class SimilarRef:
    """One similar document as a reader may be shown it: "ressemble à 92 % à « title »"."""

    id: str
    title: str
    score: float

    @property
    def percent(self) -> int:
        return round(self.score * 100)

    def as_dict(self) -> dict[str, Any]:
        return {"id": self.id, "title": self.title, "score": round(self.score, 4)}


@dataclass(frozen=True)
class SimilarPair:
    """One recorded similarity (curators' list): ``document`` (the newer upload) resembles ``similar``."""

    document: SimilarRef
    similar: SimilarRef
    version: int
    score: float
    created_at: dt.datetime | None


def _fold(text: str) -> str:
    text = unicodedata.normalize("NFKD", text.lower())
    return "".join(c for c in text if not unicodedata.combining(c))


def shingles(text: str) -> set[str]:
    """The word 5-grams of ``text`` (folded words), at most from its first ``MAX_WORDS`` words."""
    words = _WORD.findall(_fold(text))[:MAX_WORDS]
    n = SHINGLE_WORDS
    return {" ".join(words[i : i + n]) for i in range(len(words) - n + 1)}


def signature(text: str) -> bytes | None:
    """The stored MinHash of ``text``'s shingles; ``None`` for a text too short to compare."""
    grams = shingles(text)
    if len(grams) < MIN_SHINGLES:
        return None
    from datasketch import MinHash  # imported on first use: the package import pulls in redis clients

    mh = MinHash(num_perm=NUM_PERM, seed=1, scheme=MINHASH_SCHEME)
    mh.update_batch([g.encode("utf-8") for g in sorted(grams)])
    return _FORMAT + np.asarray(mh.hashvalues, dtype="<u4").tobytes()


def _values(stored: bytes | None) -> np.ndarray | None:
    if not stored or len(stored) != 1 + 4 * NUM_PERM or stored[:1] != _FORMAT:
        return None
    return np.frombuffer(stored, dtype="<u4", offset=1)


def estimate(a: bytes, b: bytes) -> float:
    """The estimated Jaccard similarity of two stored signatures (0.0 if either is not comparable)."""
    va, vb = _values(a), _values(b)
    if va is None or vb is None:
        return 0.0
    return float(np.count_nonzero(va == vb)) / NUM_PERM


def _is_current() -> Any:
    """The version is its document's latest: no version of the same document has a higher number
    (a correlated ``NOT EXISTS`` on the ``document_id`` index, planned well even before ``ANALYZE``)."""
    newer = aliased(DocumentVersion)
    return ~(
        select(newer.id)
        .where(newer.document_id == DocumentVersion.document_id, newer.number > DocumentVersion.number)
        .exists()
    )


def _visible(scope: AccessScope, document: Any = Document) -> Any:
    """``scope``'s read rule on a (possibly aliased) document: visibility, status (other organisations'
    drafts and documents in review are not theirs to see) and the trash."""
    return scope.sql_clause(
        document.visibility,
        document.org_id,
        document.owner_user_id,
        status=document.status,
        deleted_at=document.deleted_at,
    )


def _ensure_signature(version: DocumentVersion) -> bytes | None:
    if version.minhash is None and version.text:
        version.minhash = signature(version.text)
    return version.minhash


def _backfill(session: Session, scope: AccessScope, limit: int) -> None:
    """Compute the missing signatures of visible current versions (documents stored before this
    feature, or by another path), at most ``limit`` per call, so that they are compared too."""
    rows = session.scalars(
        select(DocumentVersion)
        .join(Document, Document.id == DocumentVersion.document_id)
        .where(
            DocumentVersion.minhash.is_(None),
            _is_current(),
            _visible(scope),
        )
        .limit(limit)
    ).all()
    for version in rows:
        version.minhash = signature(version.text or "") or b""  # b"": looked at, too short to compare
    session.flush()


def record_similar(
    session: Session,
    doc_id: str,
    version_number: int,
    scope: AccessScope,
    *,
    threshold: float = DEFAULT_THRESHOLD,
    backfill: int = 200,
) -> list[SimilarRef]:
    """Compare version ``version_number`` of ``doc_id`` with the current versions of the other documents
    ``scope`` may see; record and return those at ``threshold`` or above (best first, at most 10).

    Replaces the rows recorded for the document's earlier versions (they described an older text). The
    version's signature is computed from its stored text and kept in ``DocumentVersion.minhash``. Runs
    in the caller's transaction; the caller audits.
    """
    version = session.scalar(
        select(DocumentVersion).where(
            DocumentVersion.document_id == doc_id, DocumentVersion.number == version_number
        )
    )
    if version is None:
        return []
    mine = _values(_ensure_signature(version))
    session.execute(delete(DocumentSimilarity).where(DocumentSimilarity.document_id == doc_id))
    if mine is None:
        session.flush()
        return []
    if backfill:
        _backfill(session, scope, backfill)
    rows = session.execute(
        select(DocumentVersion.document_id, DocumentVersion.minhash)
        .join(Document, Document.id == DocumentVersion.document_id)
        .where(
            _is_current(),
            DocumentVersion.document_id != doc_id,
            DocumentVersion.minhash.is_not(None),
            func.length(DocumentVersion.minhash) == 1 + 4 * NUM_PERM,
            _visible(scope),
        )
    ).all()
    if not rows:
        session.flush()
        return []
    matrix = np.frombuffer(b"".join(r.minhash[1:] for r in rows), dtype="<u4").reshape(len(rows), NUM_PERM)
    scores = np.count_nonzero(matrix == mine, axis=1) / NUM_PERM
    best = [i for i in np.argsort(-scores, kind="stable")[:MAX_REPORTED] if scores[i] >= threshold]
    found: list[SimilarRef] = []
    for i in best:
        other = session.get(Document, rows[i].document_id)
        if other is None:
            continue
        score = float(scores[i])
        session.add(
            DocumentSimilarity(document_id=doc_id, version=version_number, similar_id=other.id, score=score)
        )
        found.append(SimilarRef(other.id, other.title, score))
    session.flush()
    return found


def similar_to(
    session: Session, doc_id: str, scope: AccessScope
) -> tuple[list[SimilarRef], list[SimilarRef]]:
    """What ``doc_id`` resembles, and which documents resemble it, among those ``scope`` may see."""
    resembles = session.execute(
        select(Document, DocumentSimilarity.score)
        .join(DocumentSimilarity, DocumentSimilarity.similar_id == Document.id)
        .where(DocumentSimilarity.document_id == doc_id, _visible(scope))
        .order_by(DocumentSimilarity.score.desc())
    ).all()
    resembled = session.execute(
        select(Document, DocumentSimilarity.score)
        .join(DocumentSimilarity, DocumentSimilarity.document_id == Document.id)
        .where(DocumentSimilarity.similar_id == doc_id, _visible(scope))
        .order_by(DocumentSimilarity.score.desc())
    ).all()
    return (
        [SimilarRef(d.id, d.title, s) for d, s in resembles],
        [SimilarRef(d.id, d.title, s) for d, s in resembled],
    )


def similar_list(
    session: Session, scope: AccessScope, *, limit: int = 50, offset: int = 0
) -> tuple[int, list[SimilarPair]]:
    """Recorded similarities whose two documents ``scope`` may see, newest first, and their count."""
    new, old = aliased(Document), aliased(Document)
    where = (_visible(scope, new), _visible(scope, old))
    base = (
        select(DocumentSimilarity, new, old)
        .join(new, new.id == DocumentSimilarity.document_id)
        .join(old, old.id == DocumentSimilarity.similar_id)
        .where(*where)
    )
    total = session.scalar(select(func.count()).select_from(base.subquery())) or 0
    rows = session.execute(
        base.order_by(DocumentSimilarity.created_at.desc(), DocumentSimilarity.id.desc())
        .limit(limit)
        .offset(offset)
    ).all()
    pairs = [
        SimilarPair(
            document=SimilarRef(n.id, n.title, sim.score),
            similar=SimilarRef(o.id, o.title, sim.score),
            version=sim.version,
            score=sim.score,
            created_at=sim.created_at,
        )
        for sim, n, o in rows
    ]
    return int(total), pairs
