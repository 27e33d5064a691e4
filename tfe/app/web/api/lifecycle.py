"""Lifecycle transitions, trash and retention review (ged.lifecycle, ged.trash, ged.retention)."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(prefix="/api/documents", tags=["documents"])
