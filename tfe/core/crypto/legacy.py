"""Rows written before encryption at rest: sealed columns whose value lacks the ``tfe1:`` prefix.

They are read as they are (``columns.SealedText``); ``tfe keys status`` counts them so the operator knows
what is still stored in clear (re-saving a row seals it).
"""

from __future__ import annotations

from sqlalchemy import Engine, MetaData, Text, and_, func, inspect, or_, select, type_coerce

from tfe.core.crypto.columns import PREFIX, SealedJSON, SealedText

__all__ = ["legacy_rows"]


def legacy_rows(engine: Engine, metadata: MetaData) -> dict[str, int]:
    """Per table of ``metadata`` with sealed columns (and present in the database), its rows in clear."""
    present = set(inspect(engine).get_table_names())
    counts: dict[str, int] = {}
    with engine.connect() as conn:
        for table in metadata.tables.values():
            sealed = [c for c in table.columns if isinstance(c.type, SealedText | SealedJSON)]
            if not sealed or table.name not in present:
                continue
            raw = [type_coerce(c, Text()) for c in sealed]  # the stored text, not the opened value
            clear = or_(*(and_(r.is_not(None), func.substr(r, 1, len(PREFIX)) != PREFIX) for r in raw))
            counts[table.name] = int(conn.scalar(select(func.count()).select_from(table).where(clear)) or 0)
    return counts
