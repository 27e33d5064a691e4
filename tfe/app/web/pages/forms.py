"""Helpers for the pages' POST forms: the CSRF check and one-shot notices shown after a redirect.

A form handler checks the session's CSRF token first (403 otherwise), acts, stores a short French
notice in the signed session and redirects (303) to the page that shows it once.
"""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import Request

from tfe.app.web.deps import csrf_valid
from tfe.core.errors import PermissionDeniedError

FLASH_KEY = "flash"


@dataclass(frozen=True)
class Notice:
    """A message for the next page: ``kind`` is ``success`` or ``error``."""

    kind: str
    text: str


def require_csrf(request: Request, submitted: str) -> None:
    """Refuse (403) a form whose CSRF token is not the session's."""
    if not csrf_valid(request, submitted):
        raise PermissionDeniedError("missing or invalid CSRF token (form field csrf)")


def flash(request: Request, text: str, kind: str = "success") -> None:
    """Keep ``text`` for the next page this session shows (not a secret: the cookie is only signed)."""
    request.session[FLASH_KEY] = {"kind": kind, "text": text}


def pop_flash(request: Request) -> Notice | None:
    """The pending notice, removed from the session."""
    value = request.session.pop(FLASH_KEY, None)
    if isinstance(value, dict) and isinstance(value.get("text"), str):
        return Notice(kind=str(value.get("kind") or "success"), text=value["text"])
    return None
