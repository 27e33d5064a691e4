"""Lifecycle pages: transitions with a comment, the trash, the retention review list."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(tags=["pages"], include_in_schema=False)
