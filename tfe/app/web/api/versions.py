"""Versions of a document: upload a new version, history, restore, diff, check-out lock (ged.versions)."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(prefix="/api/documents", tags=["documents"])
