"""Rows written before encryption at rest: sealed columns whose value lacks the ``tfe1:`` prefix.

They are read as they are (``columns.SealedText``); ``tfe keys status`` counts them so the operator knows
what is still stored in clear (re-saving a row seals it, ``tfe keys seal`` seals them all).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    Column,
    ColumnElement,
    Engine,
    Label,
    MetaData,
    Table,
    Text,
    and_,
    func,
    inspect,
    or_,
    select,
    type_coerce,
)

from tfe.core.crypto.columns import PREFIX, SealedJSON, SealedText, sealer_of
from tfe.core.errors import ConfigurationError

__all__ = ["legacy_rows", "seal_legacy_rows"]


@dataclass(frozen=True)
class _SealedTable:
    """A table with sealed columns: their stored text (not the opened value) and the "some value is in
    clear" condition on it."""

    table: Table
    sealed: list[Column[Any]]
    raw: list[Label[Any]]
    clear: ColumnElement[bool]


def _sealed_tables(engine: Engine, metadata: MetaData) -> Iterator[_SealedTable]:
    """The tables of ``metadata`` that hold sealed columns and exist in the database."""
    present = set(inspect(engine).get_table_names())
    for table in metadata.tables.values():
        sealed = [c for c in table.columns if isinstance(c.type, SealedText | SealedJSON)]
        if not sealed or table.name not in present:
            continue
        raw = [type_coerce(c, Text()).label(c.name) for c in sealed]
        clear = or_(*(and_(r.is_not(None), func.substr(r, 1, len(PREFIX)) != PREFIX) for r in raw))
        yield _SealedTable(table, sealed, raw, clear)


def legacy_rows(engine: Engine, metadata: MetaData) -> dict[str, int]:
    """Per table of ``metadata`` with sealed columns (and present in the database), its rows in clear."""
    counts: dict[str, int] = {}
    with engine.connect() as conn:
        for t in _sealed_tables(engine, metadata):
            query = select(func.count()).select_from(t.table).where(t.clear)
            counts[t.table.name] = int(conn.scalar(query) or 0)
    return counts


def seal_legacy_rows(engine: Engine, metadata: MetaData, *, batch: int = 500) -> dict[str, int]:
    """Seal every clear value of the sealed columns (an installation that predates encryption at rest);
    per table, the rows changed. Batches of ``batch`` rows, each its own transaction, so the service keeps
    serving; idempotent (a sealed value is left alone), resumable after a crash."""
    sealer = sealer_of(engine.dialect)
    if sealer is None:
        raise ConfigurationError("this engine has no vault: nothing can be sealed")
    changed: dict[str, int] = {}
    for t in _sealed_tables(engine, metadata):
        keys = list(t.table.primary_key.columns)
        if not keys:
            continue
        changed[t.table.name] = 0
        while True:
            with engine.begin() as conn:
                rows = conn.execute(select(*keys, *t.raw).where(t.clear).limit(batch)).all()
                for row in rows:
                    values = {
                        c.name: type_coerce(sealer.seal_text(v), Text())
                        for c in t.sealed
                        if (v := row._mapping[c.name]) is not None and not str(v).startswith(PREFIX)
                    }
                    where = and_(*(k == row._mapping[k.name] for k in keys))
                    conn.execute(t.table.update().where(where).values(values))
            changed[t.table.name] += len(rows)
            if len(rows) < batch:
                break
    return changed
