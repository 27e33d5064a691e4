"""Erasure (GDPR) for administrators: erase a document or an organisation, receipts (ged.erasure)."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(prefix="/api/admin/erasures", tags=["admin"])
