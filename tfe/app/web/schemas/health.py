"""``GET /healthz`` answer."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel

__all__ = ["HealthPublic", "PreviewsPublic"]


class PreviewsPublic(BaseModel):
    """What thumbnails can be drawn: PDF (pypdfium2) and office files (LibreOffice headless, optional)."""

    pdf: bool
    office: bool


class HealthPublic(BaseModel):
    """``ok``/``ok`` with 200, or ``degraded``/``error`` with 503 when the database does not answer."""

    status: Literal["ok", "degraded"]
    db: Literal["ok", "error"]
    previews: PreviewsPublic | None = None
