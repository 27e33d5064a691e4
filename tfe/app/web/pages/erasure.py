"""Erasure page for administrators: erase a document or an organisation, the receipts."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(tags=["pages"], include_in_schema=False)
