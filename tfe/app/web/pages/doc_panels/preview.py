"""The document page's preview section (template ``doc/_preview.html``)."""

from __future__ import annotations

from typing import Any

from tfe.app.web.pages.doc_panels import PanelInput


def context(panel: PanelInput) -> dict[str, Any]:
    """Keys for ``doc/_preview.html`` (prefixed ``preview_``)."""
    return {}
