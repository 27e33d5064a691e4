"""Sections of the document page, one module each: ``context(panel)`` returns what its template
(``templates/doc/_<name>.html``) shows. ``document_page`` calls every panel in ``PANELS`` order."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from fastapi import Request
from sqlalchemy.orm import Session

from ged.documents import DocumentView
from tfe.app.runtime import Runtime
from tfe.core.models import User
from tfe.core.security.scope import AccessScope


@dataclass(frozen=True)
class PanelInput:
    """What every panel may read to build its part of the document page."""

    request: Request
    session: Session
    runtime: Runtime
    user: User
    scope: AccessScope
    doc: DocumentView


def panel_context(panel: PanelInput) -> dict[str, Any]:
    """The merged context of every panel (each panel's keys are prefixed with its name)."""
    from tfe.app.web.pages.doc_panels import fields, lifecycle, more_like_this, preview, similar, versions

    context: dict[str, Any] = {}
    for module in (versions, lifecycle, fields, similar, more_like_this, preview):
        context.update(module.context(panel))
    return context
