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
    """``ok`` with 200, or ``degraded`` with 503: the database or the search cluster does not answer, or the
    keys are revoked."""

    status: Literal["ok", "degraded"]
    db: Literal["ok", "error"]
    keys: Literal["ok", "revoked", "error"]  # revoked (503): tfe keys revoke ran; error: key unusable
    # the search backend (``TFE_SEARCH_BACKEND``): error (503) when the OpenSearch cluster does not answer
    search: Literal["ok", "error"]
    search_backend: Literal["embedded", "opensearch"]
    previews: PreviewsPublic
