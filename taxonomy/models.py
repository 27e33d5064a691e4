"""Taxonomy tables: SKOS-like schemes and concepts, and classifications of any target."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import Float, ForeignKey, String, Text
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
    notation: Mapped[str] = mapped_column(String(32))
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


class Classification(Base):
    """One concept assigned to one target (a document or a watch item), with its score and evidence."""

    __tablename__ = "classifications"

    id: Mapped[int] = mapped_column(primary_key=True)
    target_kind: Mapped[str] = mapped_column(String(16))  # "document" | "item"
    target_id: Mapped[str] = mapped_column(String(64), index=True)
    concept_id: Mapped[str] = mapped_column(ForeignKey("concepts.id"), index=True)
    score: Mapped[float] = mapped_column(Float)
    method: Mapped[str] = mapped_column(String(16), default="rule")  # rule, model, similarity, curator
    explanation: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


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
