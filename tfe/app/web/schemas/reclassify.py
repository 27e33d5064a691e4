"""``/api/taxonomy/.../reclassify``: a reclassification run (preview, progress, result)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

__all__ = ["ReclassifyRunPublic"]


class ReclassifyRunPublic(BaseModel):
    """One reclassification of the targets a taxonomy change can affect."""

    id: int
    change_id: int | None
    status: str = Field(description="preview, running, done or failed")
    concepts: list[str] = Field(description="The concepts whose automatic classifications are rewritten")
    total: int = Field(description="Documents and items the change can affect")
    done: int = Field(description="How many were reclassified so far")
    progress: float = Field(description="done / total (1 when there is nothing to do)")
    cursor: str | None = Field(description="The last target done (a resumed run starts after it)")
    preview: dict[str, Any] | None = Field(
        description='Per concept {"label", "gain", "lose", "document": {...}, "item": {...}} and "summary"'
    )
    result: dict[str, Any] | None = Field(description="The same counts once the run is done")
    summary: str = Field(description="One French sentence per concept (result, else preview)")
    error: str
    created_by: int | None
    created_at: str | None
    finished_at: str | None
