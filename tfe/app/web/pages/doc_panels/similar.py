"""The document page's similar section (template ``doc/_similar.html``)."""

from __future__ import annotations

from typing import Any

from tfe.app.web.pages.doc_panels import PanelInput


def context(panel: PanelInput) -> dict[str, Any]:
    """Keys for ``doc/_similar.html`` (prefixed ``similar_``)."""
    return {}
