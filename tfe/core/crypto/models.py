"""Data keys: one AES-256 key per owner (a document, a watch item's source...), stored wrapped by the
operator's key-encryption key (``kek_id`` names which one). Destroying the row destroys the owner's
content for good (crypto-shredding); rotating the key-encryption key rewraps the rows, never the data."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import LargeBinary, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from tfe.core.db import Base, utcnow

__all__ = ["DataKey"]


class DataKey(Base):
    __tablename__ = "data_keys"
    __table_args__ = (UniqueConstraint("owner_kind", "owner_id"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True)  # uuid hex, also in each envelope header
    owner_kind: Mapped[str] = mapped_column(String(16))  # "document" | "item" | ...
    owner_id: Mapped[str] = mapped_column(String(64), index=True)
    wrapped: Mapped[bytes] = mapped_column(LargeBinary)
    kek_id: Mapped[str] = mapped_column(String(64), index=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    rewrapped_at: Mapped[dt.datetime | None] = mapped_column(default=None)
