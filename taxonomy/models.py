"""Taxonomy tables: SKOS-like schemes and concepts, and classifications of any target."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import Float, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from tfe.core.db import Base, utcnow


class ConceptScheme(Base):
    __tablename__ = "concept_schemes"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)  # "naf", "country", "region", "doctype"
    uri: Mapped[str] = mapped_column(String(300))
    label_fr: Mapped[str] = mapped_column(String(200))
    label_en: Mapped[str] = mapped_column(String(200))
    version: Mapped[str] = mapped_column(String(32), default="1")


class Concept(Base):
    __tablename__ = "concepts"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)  # "naf:11.02", "country:DE", "doctype:news"
    scheme_id: Mapped[str] = mapped_column(ForeignKey("concept_schemes.id"), index=True)
    notation: Mapped[str] = mapped_column(String(64))
    level: Mapped[str] = mapped_column(String(16), default="")  # section/division/group/class/subclass, ...
    pref_label_fr: Mapped[str] = mapped_column(String(400))
    pref_label_en: Mapped[str] = mapped_column(String(400), default="")
    alt_labels: Mapped[dict[str, Any]] = mapped_column(default=dict)  # {"fr": [...], "en": [...]}
    hidden_labels: Mapped[dict[str, Any]] = mapped_column(default=dict)
    definition_fr: Mapped[str] = mapped_column(Text, default="")
    definition_en: Mapped[str] = mapped_column(Text, default="")
    broader_id: Mapped[str | None] = mapped_column(ForeignKey("concepts.id"), index=True, default=None)
    extra: Mapped[dict[str, Any]] = mapped_column(default=dict)
    deprecated: Mapped[bool] = mapped_column(default=False)
    replaced_by_id: Mapped[str | None] = mapped_column(String(64), default=None)
    # Curated data (issue 10), all versioned through ``TaxonomyChange`` snapshots of the whole row:
    scope_note_fr: Mapped[str] = mapped_column(Text, default="")
    related: Mapped[list[Any]] = mapped_column(default=list)  # ["naf:01.21", ...] (skos:related)
    # mappings to other schemes: [{"relation": "narrowMatch" | "exactMatch" | "closeMatch" | "broadMatch"
    # | "relatedMatch", "target": "naf:11.02"}]; a filière's narrowMatch NAF codes are the ones it covers
    mappings: Mapped[list[Any]] = mapped_column(default=list)
    # matching rules (``taxonomy.rules``): [{"kind": "any" | "all" | "phrase" | "regex" | "fuzzy",
    # "pattern": str, "language": "" | "fr" | "en", "negative": [str], "weight": float}]
    rules: Mapped[list[Any]] = mapped_column(default=list)
    updated_at: Mapped[dt.datetime | None] = mapped_column(default=None)


class Classification(Base):
    """One concept assigned to one target (a document or a watch item), with its score and evidence."""

    __tablename__ = "classifications"
    # the content indicators join a kind's classifications to their targets: read from this index alone,
    # in target order (migration 0015)
    __table_args__ = (
        Index("ix_classifications_kind_target", "target_kind", "target_id", "concept_id", "method", "score"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    target_kind: Mapped[str] = mapped_column(String(16))  # "document" | "item"
    target_id: Mapped[str] = mapped_column(String(64), index=True)
    concept_id: Mapped[str] = mapped_column(ForeignKey("concepts.id"), index=True)
    score: Mapped[float] = mapped_column(Float)
    method: Mapped[str] = mapped_column(String(16), default="rule")  # rule, model, similarity, curator
    explanation: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow, index=True)


class TaxonomyChange(Base):
    """One curator change to the taxonomy (one transaction): who, when, why, and the rows before and after.

    ``before``/``after`` map every concept id the change touched to its full row snapshot
    (``taxonomy.changes.snapshot``; ``None``: the concept did not exist / was removed), so a change can be
    shown as a diff and reverted by writing ``before`` back. ``moved`` lists the classification rows a merge
    moved (``{"id", "from", "to"}``) so a revert can move them back. ``version`` is the taxonomy version
    stamp the change produced.
    """

    __tablename__ = "taxonomy_changes"

    id: Mapped[int] = mapped_column(primary_key=True)
    version: Mapped[int] = mapped_column(default=0)
    # add, edit, rename, labels, rules, move, merge, split, deprecate, import, revert
    action: Mapped[str] = mapped_column(String(24))
    concept_id: Mapped[str | None] = mapped_column(String(64), index=True, default=None)  # the main concept
    summary: Mapped[str] = mapped_column(String(400), default="")  # one French line for the history
    reason: Mapped[str] = mapped_column(Text, default="")
    user_id: Mapped[int | None] = mapped_column(default=None)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow, index=True)
    before: Mapped[dict[str, Any]] = mapped_column(default=dict)
    after: Mapped[dict[str, Any]] = mapped_column(default=dict)
    moved: Mapped[list[Any]] = mapped_column(default=list)
    revert_of: Mapped[int | None] = mapped_column(default=None)  # the change this one reverts
    reverted_by: Mapped[int | None] = mapped_column(default=None)  # the change that reverted this one


class TaxonomyRelease(Base):
    """A named snapshot of the whole taxonomy (``tfe taxonomy export --release NAME`` writes its SKOS)."""

    __tablename__ = "taxonomy_releases"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    version: Mapped[int] = mapped_column(default=0)  # the taxonomy version stamp it was taken at
    note: Mapped[str] = mapped_column(Text, default="")
    created_by: Mapped[int | None] = mapped_column(default=None)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    # {"schemes": [scheme row snapshots], "concepts": [concept row snapshots]} (``taxonomy.changes``)
    snapshot: Mapped[dict[str, Any]] = mapped_column(default=dict)


class ReclassifyRun(Base):
    """One reclassification of the targets a taxonomy change can affect (preview, then run; resumable).

    ``cursor`` is the last target key done (``"document:<id>"`` / ``"item:<id>"`` in processing order), so
    a run interrupted mid-way resumes after it; ``report`` holds the preview or result per concept
    (``{"naf:01.21": {"gain": 214, "lose": 12}}``) and the totals.
    """

    __tablename__ = "reclassify_runs"

    id: Mapped[int] = mapped_column(primary_key=True)
    change_id: Mapped[int | None] = mapped_column(index=True, default=None)
    status: Mapped[str] = mapped_column(String(16), default="preview")  # preview, running, done, failed
    concepts: Mapped[list[Any]] = mapped_column(default=list)  # the concept ids the change touched
    total: Mapped[int] = mapped_column(default=0)
    done: Mapped[int] = mapped_column(default=0)
    cursor: Mapped[str | None] = mapped_column(String(80), default=None)
    report: Mapped[dict[str, Any]] = mapped_column(default=dict)
    error: Mapped[str] = mapped_column(Text, default="")
    created_by: Mapped[int | None] = mapped_column(default=None)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[dt.datetime | None] = mapped_column(default=None)


class TaxonomyState(Base):
    """One row: the taxonomy's version, bumped in the transaction of every write to schemes or concepts.

    Every process compares it with the version its in-memory referential was built from
    (``taxonomy.live.DatabaseReferential``), so an edit made anywhere reaches classification and search
    labels without a restart; one indexed single-row read is cheap enough to do every second.
    """

    __tablename__ = "taxonomy_state"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)  # always 1
    version: Mapped[int] = mapped_column(default=0)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


def assign_changed(row: Base, values: dict[str, Any]) -> bool:
    """Set ``values`` on ``row``; whether any column actually changed (for truthful upsert counts)."""
    changed = False
    for key, value in values.items():
        if getattr(row, key) != value:
            setattr(row, key, value)
            changed = True
    return changed
