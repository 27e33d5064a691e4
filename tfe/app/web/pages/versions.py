"""Version pages: history, diff between two versions, new version upload, restore, lock."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(tags=["pages"], include_in_schema=False)
