"""The reclassification's targets: their stored text, the classifier's proposals, their rows, their index.

``load`` reads documents (latest version's text; documents in the trash are left out) and watch items;
``Proposer`` runs spaCy over a batch with ``nlp.pipe`` and the taxonomy classifier built once per
referential (lexical: labels, keywords and rules; the e5 similarity is left to ingestion, far too slow
for thousands of targets); ``current`` reads the automatic and curator concepts of the touched ones;
``apply`` replaces a target's automatic rows of those concepts and ``reindex`` rewrites its passages' meta.
"""

from __future__ import annotations

import inspect
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from ged.models import Document, DocumentVersion
from ged.reindex import reindex_document
from ingest.sampling import DEFAULT_SAMPLE_CHARS, sample_text
from search.backend import SearchBackend
from taxonomy.classifications import CURATOR, save_classifications
from taxonomy.classifier import ClassificationResult, Scored, TaxonomyClassifier
from taxonomy.models import Classification
from taxonomy.nlp import ENTITY_LABELS, lemmas_of, load_nlp
from taxonomy.reclassify import RECLASSIFIED_SCHEMES, TargetKey
from taxonomy.referential import Referential
from veille.item_index import reindex_item
from veille.models import Item

__all__ = ["DeferredCommit", "Proposer", "Target", "apply", "current", "load", "reindex"]

_UNUSED_PIPES = ("parser",)
_RESULT_LISTS = ("sectors", "countries", "filieres", "signals")  # what ingestion saves
REPLACEABLE = "rule"  # the lexical classifier's method: the only automatic rows a re-run rewrites


@dataclass(frozen=True)
class Target:
    kind: str
    id: str
    title: str
    text: str
    language: str
    filename: str = ""

    @property
    def key(self) -> TargetKey:
        return (self.kind, self.id)


def load(session: Session, keys: Sequence[TargetKey]) -> list[Target]:
    """The targets that still exist, in the order of ``keys``."""
    doc_ids = [i for k, i in keys if k == "document"]
    item_ids = [i for k, i in keys if k == "item"]
    found: dict[TargetKey, Target] = {}
    if doc_ids:
        docs = session.scalars(
            select(Document).where(Document.id.in_(doc_ids), Document.deleted_at.is_(None))
        ).all()
        latest: dict[str, DocumentVersion] = {}
        for ver in session.scalars(select(DocumentVersion).where(DocumentVersion.document_id.in_(doc_ids))):
            if ver.document_id not in latest or ver.number > latest[ver.document_id].number:
                latest[ver.document_id] = ver
        for d in docs:
            v = latest.get(d.id)
            text, filename = (v.text or "", v.filename or "") if v is not None else ("", "")
            found[("document", d.id)] = Target(
                "document", d.id, d.title or "", text, d.language or "", filename
            )
    if item_ids:
        for it in session.scalars(select(Item).where(Item.id.in_(item_ids))):
            found[("item", it.id)] = Target("item", it.id, it.title or "", it.text or "", it.language or "")
    return [found[k] for k in keys if k in found]


class Proposer:
    """The classifier's concepts for batches of targets (one spaCy pass per batch, one classifier)."""

    def __init__(self, sample_chars: int = DEFAULT_SAMPLE_CHARS) -> None:
        self.sample_chars = sample_chars
        self._classifier: TaxonomyClassifier | None = None
        self._built_for: Referential | None = None
        self._takes_language = False

    def classifier(self, referential: Referential) -> TaxonomyClassifier:
        if self._classifier is None or referential is not self._built_for:
            self._classifier = TaxonomyClassifier(referential)
            self._built_for = referential
            self._takes_language = "language" in inspect.signature(self._classifier.classify).parameters
        return self._classifier

    def propose(self, referential: Referential, targets: Sequence[Target]) -> list[dict[str, Scored]]:
        """Per target, the concepts of the reclassified schemes the classifier assigns now."""
        classifier = self.classifier(referential)
        nlp = load_nlp()
        samples = [sample_text(t.text, self.sample_chars) for t in targets]
        wholes = [
            (f"{t.title}\n\n{s}" if t.title else s)[: nlp.max_length - 1]
            for t, s in zip(targets, samples, strict=True)
        ]
        out: list[dict[str, Scored]] = []
        # the dependency parser feeds neither lemmas (the morphologizer's POS do) nor entities
        docs = nlp.pipe(wholes, batch_size=32, disable=[p for p in _UNUSED_PIPES if p in nlp.pipe_names])
        for target, sample, doc in zip(targets, samples, docs, strict=True):
            lemmas = lemmas_of(doc)
            entities = [(e.text.strip(), e.label_) for e in doc.ents if e.label_ in ENTITY_LABELS]
            extra = {"language": target.language} if self._takes_language else {}
            result = classifier.classify(
                sample,
                lemmas=lemmas,
                entities=entities,
                title=target.title,
                filename=target.filename,
                **extra,
            )
            out.append(_assigned(referential, result))
        return out


def _assigned(referential: Referential, result: ClassificationResult) -> dict[str, Scored]:
    found: dict[str, Scored] = {}
    for name in _RESULT_LISTS:
        for s in getattr(result, name, None) or []:
            concept = referential.get(s.concept_id)
            if concept is not None and concept.scheme in RECLASSIFIED_SCHEMES:
                found.setdefault(s.concept_id, s)
    return found


def current(
    session: Session, keys: Sequence[TargetKey], concepts: Iterable[str]
) -> tuple[dict[TargetKey, set[str]], dict[TargetKey, set[str]]]:
    """The replaceable (lexical, method ``rule``) and the locked concepts among ``concepts`` that each
    target holds: a curator's decision, and the rows of the e5/learned model (methods ``similarity``,
    ``model``), which the lexical re-run cannot judge, are locked (kept, never counted as lost)."""
    wanted = sorted(set(concepts))
    auto: dict[TargetKey, set[str]] = {}
    curated: dict[TargetKey, set[str]] = {}
    for kind in ("document", "item"):
        ids = [i for k, i in keys if k == kind]
        for start in range(0, len(ids), 500):
            rows = session.execute(
                select(Classification.target_id, Classification.concept_id, Classification.method).where(
                    Classification.target_kind == kind,
                    Classification.target_id.in_(ids[start : start + 500]),
                    Classification.concept_id.in_(wanted),
                )
            ).all()
            for tid, cid, method in rows:
                (auto if method == REPLACEABLE else curated).setdefault((kind, tid), set()).add(cid)
    return auto, curated


def apply(session: Session, key: TargetKey, concepts: Sequence[str], proposed: dict[str, Scored]) -> None:
    """Replace the target's lexical rows of ``concepts`` by the proposed ones. Curator rows are untouched
    (``save_classifications`` skips every concept a curator decided on the target), and so are the model's
    rows: a concept the target holds by ``similarity``/``model`` is not proposed again as ``rule``."""
    kind, tid = key
    where = (
        Classification.target_kind == kind,
        Classification.target_id == tid,
        Classification.concept_id.in_(list(concepts)),
    )
    session.execute(delete(Classification).where(*where, Classification.method == REPLACEABLE))
    held = select(Classification.concept_id).where(*where, Classification.method != CURATOR)
    locked = set(session.scalars(held))
    wanted = set(concepts) - locked
    save_classifications(session, kind, tid, [s for c, s in proposed.items() if c in wanted], method="rule")


class DeferredCommit:
    """The backend with ``commit`` left to the caller: one index commit per batch of targets instead of
    one per target (a Tantivy commit, its reload and the vector table's save cost ~0.1 s each)."""

    def __init__(self, backend: SearchBackend) -> None:
        self._backend = backend

    def __getattr__(self, name: str) -> Any:
        return getattr(self._backend, name)

    def commit(self) -> None:
        """Nothing: the caller commits the real backend once the batch is written."""


def reindex(
    session: Session, backend: SearchBackend | DeferredCommit, referential: Referential, key: TargetKey
) -> int:
    """Rewrite the target's passages with its current rows (``ged.reindex``, ``veille.item_index``)."""
    session.flush()
    if key[0] == "document":
        doc = session.get(Document, key[1])
        return reindex_document(session, cast(SearchBackend, backend), referential, doc) if doc else 0
    item = session.get(Item, key[1])
    return reindex_item(session, cast(SearchBackend, backend), referential, item) if item is not None else 0
