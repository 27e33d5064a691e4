"""Previews of a document: a first-page thumbnail (PDF, office files) or its text (ged.previews)."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(prefix="/api/documents", tags=["documents"])
