"""The taxonomy version stamp: read it cheaply, bump it in the transaction of every taxonomy write.

Writers (``taxonomy.loader.load_taxonomy``, ``taxonomy.skos.import_turtle``, curator edits) call
``bump_version(session)`` before committing, so the new version becomes visible exactly when their
changes do; readers (``taxonomy.live.DatabaseReferential``) compare ``current_version`` with the version
their referential was built from.
"""

from __future__ import annotations

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from taxonomy.models import TaxonomyState
from tfe.core.db import utcnow

__all__ = ["STATE_ID", "bump_version", "current_version"]

STATE_ID = 1


def current_version(session: Session) -> int | None:
    """The taxonomy's version, or ``None`` when no write has stamped it yet (never seeded)."""
    return session.scalar(select(TaxonomyState.version).where(TaxonomyState.id == STATE_ID))


def bump_version(session: Session) -> int:
    """Increment the version (creating the row at 1) in the caller's transaction; returns the new one.

    The increment is one ``UPDATE ... SET version = version + 1``, so concurrent writers serialise on
    the row instead of both writing the same number.
    """
    result = session.execute(
        update(TaxonomyState)
        .where(TaxonomyState.id == STATE_ID)
        .values(version=TaxonomyState.version + 1, updated_at=utcnow())
        .returning(TaxonomyState.version)
    )
    version = result.scalar()
    if version is None:
        session.add(TaxonomyState(id=STATE_ID, version=1, updated_at=utcnow()))
        session.flush()
        version = 1
    return int(version)
