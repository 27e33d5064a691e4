"""Typed document types: the field schemas and a document's field values (ged.fields)."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(prefix="/api", tags=["documents"])
