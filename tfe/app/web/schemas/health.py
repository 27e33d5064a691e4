"""``GET /healthz`` answer."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel

__all__ = ["HealthPublic"]


class HealthPublic(BaseModel):
    """``ok``/``ok`` with 200, or ``degraded``/``error`` with 503 when the database does not answer."""

    status: Literal["ok", "degraded"]
    db: Literal["ok", "error"]
